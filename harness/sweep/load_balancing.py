"""Load balancing: application load balancers (with their listeners) and target groups."""
from __future__ import annotations

from harness.sweep.core import Found, Stage, Sweep, deleter, finder, pages


@finder
def find_load_balancing(s: Sweep, out: list[Found]) -> None:
    elb = s.c.elbv2
    with s.listing("elbv2 load balancers"):
        for lb in pages(elb, "describe_load_balancers", "LoadBalancers"):
            why = s.hit(lb["LoadBalancerName"], arn=lb["LoadBalancerArn"]) or (
                "vpc" if lb.get("VpcId") in s.vpcs else None)
            if why:
                out.append(Found("elbv2 load balancer", lb["LoadBalancerArn"],
                                 lb["LoadBalancerName"], why, arn=lb["LoadBalancerArn"]))
    with s.listing("elbv2 target groups"):
        for tg in pages(elb, "describe_target_groups", "TargetGroups"):
            why = s.hit(tg["TargetGroupName"], arn=tg["TargetGroupArn"]) or (
                "vpc" if tg.get("VpcId") in s.vpcs else None)
            if why:
                out.append(Found("elbv2 target group", tg["TargetGroupArn"], tg["TargetGroupName"],
                                 why, arn=tg["TargetGroupArn"]))


# ---- deleters, in delete order
@deleter("elbv2 load balancer", Stage.LOAD_BALANCING, "LoadBalancerNotFound")
def _del_lb(s: Sweep, f: Found) -> None:
    for listener in pages(s.c.elbv2, "describe_listeners", "Listeners", LoadBalancerArn=f.id):
        s.c.elbv2.delete_listener(ListenerArn=listener["ListenerArn"])
    s.c.elbv2.delete_load_balancer(LoadBalancerArn=f.id)


@deleter("elbv2 target group", Stage.LOAD_BALANCING, "TargetGroupNotFound")
def _del_target_group(s: Sweep, f: Found) -> None:
    s.c.elbv2.delete_target_group(TargetGroupArn=f.id)
