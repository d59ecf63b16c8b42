import ipaddress

import pytest

pytestmark = pytest.mark.unit


@pytest.mark.control("1.4.1")
def test_three_public_and_three_private_subnets_in_three_azs(prod):
    subnets = prod.list("aws_subnet")
    tiers = sorted(s["tags"]["Tier"] for s in subnets)
    assert tiers == ["private"] * 3 + ["public"] * 3
    for tier in ("public", "private"):
        azs = {s["availability_zone"] for s in subnets if s["tags"]["Tier"] == tier}
        assert len(azs) == 3, f"{tier} subnets share an AZ: {azs}"
    assert not any(s.get("map_public_ip_on_launch") for s in subnets)


@pytest.mark.control("1.4.1")
def test_subnet_cidrs_do_not_overlap_and_sit_in_the_vpc(prod):
    vpc = ipaddress.ip_network(prod.one("aws_vpc")["cidr_block"])
    nets = [ipaddress.ip_network(s["cidr_block"]) for s in prod.list("aws_subnet")]
    assert all(n.subnet_of(vpc) for n in nets)
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])


@pytest.mark.control("1.3.2")
def test_one_nat_gateway_per_az_and_each_private_route_uses_its_own(prod):
    nats = prod.all("aws_nat_gateway")
    assert len(nats) == 3
    public = {prod.ref("aws_subnet", s, "id") for s in prod.list("aws_subnet")
              if s["tags"]["Tier"] == "public"}
    assert {n["subnet_id"] for n in nats.values()} == public
    nat_refs = {f"${{aws_nat_gateway.{k}.id}}" for k in nats}
    private_routes = [r for r in prod.list("aws_route") if "nat_gateway_id" in r]
    assert {r["nat_gateway_id"] for r in private_routes} == nat_refs
    assert len({r["route_table_id"] for r in private_routes}) == 3


@pytest.mark.control("1.4.1")
def test_public_tier_routes_through_the_internet_gateway(prod):
    igw = prod.ref("aws_internet_gateway", prod.one("aws_internet_gateway"), "id")
    assert [r["gateway_id"] for r in prod.list("aws_route") if "gateway_id" in r] == [igw]
    assert len(prod.all("aws_route_table_association")) == 6


@pytest.mark.control("10.2.1", "11.5.1")
def test_flow_logs_capture_all_traffic_into_cloudwatch(prod):
    flow = prod.one("aws_flow_log")
    assert flow["traffic_type"] == "ALL"
    assert flow["log_destination_type"] == "cloud-watch-logs"
    assert "aws_cloudwatch_log_group" in flow["log_destination"]


@pytest.mark.control("1.3.1", "2.2.4")
def test_default_security_group_is_emptied(prod):
    sg = prod.one("aws_default_security_group")
    assert "ingress" not in sg and "egress" not in sg
