"""Network: VPCs and what sits in them (NAT gateways, elastic IPs, internet gateways, subnets,
route tables, security groups and their rules, flow logs, detached network interfaces).

Its finder runs first: the VPCs it matches let every later group claim what sits inside
them. Deleted after everything that uses the network.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from harness.sweep.core import Found, Stage, Sweep, deleter, finder, name_tag, pages


@dataclass
class ElasticIp:
    association: str | None


@dataclass
class InternetGateway:
    vpcs: list[str]


@dataclass
class RouteTable:
    associations: list[str]


@dataclass
class SecurityGroupRules:
    ingress: list[dict[str, Any]] = field(default_factory=list)
    egress: list[dict[str, Any]] = field(default_factory=list)


def _label(resource_id: str, item: dict[str, Any]) -> str:
    return f"{resource_id} {name_tag(item.get('Tags'))}"


@finder
def find_network(s: Sweep, out: list[Found]) -> None:
    ec2 = s.c.ec2
    with s.listing("ec2 vpcs"):
        for v in pages(ec2, "describe_vpcs", "Vpcs"):
            why = s.hit(name_tag(v.get("Tags")), tags=v.get("Tags"))
            if why:
                s.vpcs.add(v["VpcId"])
                out.append(Found("ec2 vpc", v["VpcId"], _label(v["VpcId"], v), why))
    with s.listing("ec2 nat gateways"):
        for n in pages(ec2, "describe_nat_gateways", "NatGateways"):
            if n.get("State") in ("deleted", "deleting"):
                s.gone.add(n["NatGatewayId"])
                continue
            why = s.in_vpc(n)
            if why:
                out.append(Found("ec2 nat gateway", n["NatGatewayId"],
                                 _label(n["NatGatewayId"], n), why))
    with s.listing("ec2 elastic ips"):
        for a in pages(ec2, "describe_addresses", "Addresses"):  # one page: the API has none
            why = s.hit(name_tag(a.get("Tags")), tags=a.get("Tags"))
            if why:
                out.append(Found("ec2 elastic ip", a["AllocationId"], _label(a["AllocationId"], a),
                                 why, detail=ElasticIp(a.get("AssociationId"))))
    with s.listing("ec2 internet gateways"):
        for g in pages(ec2, "describe_internet_gateways", "InternetGateways"):
            vpcs = [x["VpcId"] for x in g.get("Attachments", [])]
            why = s.hit(name_tag(g.get("Tags")), tags=g.get("Tags")) or (
                "vpc" if set(vpcs) & s.vpcs else None)
            if why:
                out.append(Found("ec2 internet gateway", g["InternetGatewayId"],
                                 _label(g["InternetGatewayId"], g), why,
                                 detail=InternetGateway(vpcs)))
    with s.listing("ec2 subnets"):
        for sn in pages(ec2, "describe_subnets", "Subnets"):
            why = s.in_vpc(sn)
            if why:
                out.append(Found("ec2 subnet", sn["SubnetId"], _label(sn["SubnetId"], sn), why))
    with s.listing("ec2 route tables"):
        for rt in pages(ec2, "describe_route_tables", "RouteTables"):
            if any(a.get("Main") for a in rt.get("Associations", [])):
                continue  # goes with its VPC
            why = s.in_vpc(rt)
            if why:
                associations = [a["RouteTableAssociationId"] for a in rt.get("Associations", [])]
                out.append(Found("ec2 route table", rt["RouteTableId"],
                                 _label(rt["RouteTableId"], rt), why,
                                 detail=RouteTable(associations)))
    with s.listing("ec2 security groups"):
        for sg in pages(ec2, "describe_security_groups", "SecurityGroups"):
            if sg["GroupName"] == "default":
                continue  # goes with its VPC
            why = s.hit(sg["GroupName"], tags=sg.get("Tags")) or (
                "vpc" if sg.get("VpcId") in s.vpcs else None)
            if why:
                label = f"{sg['GroupId']} {sg['GroupName']}"
                if sg.get("IpPermissions") or sg.get("IpPermissionsEgress"):
                    out.append(Found("ec2 security group rules", sg["GroupId"], label, why,
                                     detail=SecurityGroupRules(sg.get("IpPermissions", []),
                                                               sg.get("IpPermissionsEgress", []))))
                out.append(Found("ec2 security group", sg["GroupId"], label, why))
    with s.listing("ec2 flow logs"):
        for fl in pages(ec2, "describe_flow_logs", "FlowLogs"):
            why = s.hit(tags=fl.get("Tags")) or ("vpc" if fl.get("ResourceId") in s.vpcs else None)
            if why:
                out.append(Found("ec2 flow log", fl["FlowLogId"], fl["FlowLogId"], why))
    if s.vpcs:
        with s.listing("ec2 network interfaces"):
            for eni in pages(ec2, "describe_network_interfaces", "NetworkInterfaces",
                             Filters=[{"Name": "vpc-id", "Values": sorted(s.vpcs)}]):
                if eni.get("Status") == "available":  # in-use ones go with their owner
                    out.append(Found("ec2 network interface", eni["NetworkInterfaceId"],
                                     eni["NetworkInterfaceId"], "vpc"))


# ---- deleters, in delete order
@deleter("ec2 flow log", Stage.NETWORK, "InvalidFlowLogId.NotFound")
def _del_flow_log(s: Sweep, f: Found) -> None:
    s.c.ec2.delete_flow_logs(FlowLogIds=[f.id])


@deleter("ec2 nat gateway", Stage.NETWORK, "NatGatewayNotFound")
def _del_nat(s: Sweep, f: Found) -> None:
    s.c.ec2.delete_nat_gateway(NatGatewayId=f.id)


@deleter("ec2 network interface", Stage.NETWORK, "InvalidNetworkInterfaceID.NotFound")
def _del_eni(s: Sweep, f: Found) -> None:
    s.c.ec2.delete_network_interface(NetworkInterfaceId=f.id)


@deleter("ec2 elastic ip", Stage.NETWORK, "InvalidAllocationID.NotFound")
def _del_eip(s: Sweep, f: Found) -> None:
    eip = f.detail_as(ElasticIp)
    if eip.association:
        try:
            s.c.ec2.disassociate_address(AssociationId=eip.association)
        except ClientError:
            pass  # its NAT gateway's deletion released it already
        eip.association = None
    s.c.ec2.release_address(AllocationId=f.id)


@deleter("ec2 internet gateway", Stage.NETWORK, "InvalidInternetGatewayID.NotFound")
def _del_igw(s: Sweep, f: Found) -> None:
    igw = f.detail_as(InternetGateway)
    for vpc in igw.vpcs:
        s.c.ec2.detach_internet_gateway(InternetGatewayId=f.id, VpcId=vpc)
    igw.vpcs = []
    s.c.ec2.delete_internet_gateway(InternetGatewayId=f.id)


@deleter("ec2 subnet", Stage.NETWORK, "InvalidSubnetID.NotFound")
def _del_subnet(s: Sweep, f: Found) -> None:
    s.c.ec2.delete_subnet(SubnetId=f.id)


@deleter("ec2 route table", Stage.NETWORK, "InvalidRouteTableID.NotFound")
def _del_route_table(s: Sweep, f: Found) -> None:
    table = f.detail_as(RouteTable)
    for association in table.associations:
        s.c.ec2.disassociate_route_table(AssociationId=association)
    table.associations = []
    s.c.ec2.delete_route_table(RouteTableId=f.id)


@deleter("ec2 security group rules", Stage.NETWORK, "InvalidGroup.NotFound")
def _del_sg_rules(s: Sweep, f: Found) -> None:
    # Every group's rules go before any group: two groups that name each other cannot be
    # deleted in either order while their rules stand.
    rules = f.detail_as(SecurityGroupRules)
    if rules.ingress:
        s.c.ec2.revoke_security_group_ingress(GroupId=f.id, IpPermissions=rules.ingress)
        rules.ingress = []
    if rules.egress:
        s.c.ec2.revoke_security_group_egress(GroupId=f.id, IpPermissions=rules.egress)
        rules.egress = []


@deleter("ec2 security group", Stage.NETWORK, "InvalidGroup.NotFound")
def _del_sg(s: Sweep, f: Found) -> None:
    s.c.ec2.delete_security_group(GroupId=f.id)


@deleter("ec2 vpc", Stage.NETWORK, "InvalidVpcID.NotFound")
def _del_vpc(s: Sweep, f: Found) -> None:
    s.c.ec2.delete_vpc(VpcId=f.id)
