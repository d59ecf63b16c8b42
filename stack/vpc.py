"""The network: 3 public and 3 private subnets over 3 AZs, a NAT gateway per AZ, flow logs."""
from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc

from stack.context import StackContext

ZONE_LETTERS = "abc"


@dataclass(frozen=True)
class NetworkProps:
    ctx: StackContext
    flow_log_group_arn: str
    flow_logs_role_arn: str


class Network(Construct):
    def __init__(self, scope: Construct, id: str, *, props: NetworkProps):
        super().__init__(scope, id)
        ctx, plan = props.ctx, props.ctx.cfg.network
        self.vpc = Vpc(self, "vpc", cidr_block=plan.vpc_cidr, enable_dns_support=True,
                       enable_dns_hostnames=True, tags=ctx.name_tag("vpc"))
        # The default group would allow all traffic between its members: leave it empty.
        DefaultSecurityGroup(self, "default-sg", vpc_id=self.vpc.id,
                             tags=ctx.name_tag("default-sg-unused"))
        igw = InternetGateway(self, "igw", vpc_id=self.vpc.id, tags=ctx.name_tag("igw"))

        public_rt = RouteTable(self, "public-rt", vpc_id=self.vpc.id,
                               tags=ctx.name_tag("rt-public"))
        Route(self, "public-default", route_table_id=public_rt.id,
              destination_cidr_block="0.0.0.0/0", gateway_id=igw.id)

        self.public_subnets: list[Subnet] = []
        self.private_subnets: list[Subnet] = []
        self.nat_gateways: list[NatGateway] = []
        for i, zone in enumerate(ZONE_LETTERS):
            az = ctx.az_names[i]
            public = Subnet(self, f"public-{zone}", vpc_id=self.vpc.id, availability_zone=az,
                            cidr_block=plan.public_subnets[i], map_public_ip_on_launch=False,
                            tags={**ctx.name_tag(f"public-{zone}"), "Tier": "public"})
            private = Subnet(self, f"private-{zone}", vpc_id=self.vpc.id, availability_zone=az,
                             cidr_block=plan.private_subnets[i],
                             tags={**ctx.name_tag(f"private-{zone}"), "Tier": "private"})
            RouteTableAssociation(self, f"public-{zone}-rta", subnet_id=public.id,
                                  route_table_id=public_rt.id)
            # One NAT per AZ: losing a zone must not cut the other zones off the internet.
            eip = Eip(self, f"nat-{zone}-eip", domain="vpc", tags=ctx.name_tag(f"nat-eip-{zone}"))
            nat = NatGateway(self, f"nat-{zone}", allocation_id=eip.id, subnet_id=public.id,
                             tags=ctx.name_tag(f"nat-{zone}"), depends_on=[igw])
            private_rt = RouteTable(self, f"private-{zone}-rt", vpc_id=self.vpc.id,
                                    tags=ctx.name_tag(f"rt-private-{zone}"))
            Route(self, f"private-{zone}-default", route_table_id=private_rt.id,
                  destination_cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)
            RouteTableAssociation(self, f"private-{zone}-rta", subnet_id=private.id,
                                  route_table_id=private_rt.id)
            self.public_subnets.append(public)
            self.private_subnets.append(private)
            self.nat_gateways.append(nat)

        FlowLog(self, "flow-log", vpc_id=self.vpc.id, traffic_type="ALL",
                log_destination_type="cloud-watch-logs",
                log_destination=props.flow_log_group_arn, iam_role_arn=props.flow_logs_role_arn,
                max_aggregation_interval=60, tags=ctx.name_tag("flow-log"))

    @property
    def public_subnet_ids(self) -> list[str]:
        return [s.id for s in self.public_subnets]

    @property
    def private_subnet_ids(self) -> list[str]:
        return [s.id for s in self.private_subnets]
