"""Compute: auto scaling groups, instances, launch templates.

Terminated and shutting-down instances are already gone in AWS's sense (the tagging API
still lists them for a while): the finder marks them so, they are never leftovers.
"""
from __future__ import annotations

from harness.sweep.core import Found, Stage, Sweep, deleter, finder, name_tag, pages


@finder
def find_compute(s: Sweep, out: list[Found]) -> None:
    with s.listing("autoscaling groups"):
        for g in pages(s.c.autoscaling, "describe_auto_scaling_groups", "AutoScalingGroups"):
            arn = g.get("AutoScalingGroupARN", "")
            why = s.hit(g["AutoScalingGroupName"], tags=g.get("Tags"), arn=arn)
            if why:
                out.append(Found("autoscaling group", g["AutoScalingGroupName"],
                                 g["AutoScalingGroupName"], why, arn=arn))
    with s.listing("ec2 instances"):
        for r in pages(s.c.ec2, "describe_instances", "Reservations"):
            for i in r["Instances"]:
                if i["State"]["Name"] in ("terminated", "shutting-down"):
                    s.gone.add(i["InstanceId"])
                    continue
                why = s.in_vpc(i)
                if why:
                    out.append(Found("ec2 instance", i["InstanceId"],
                                     f"{i['InstanceId']} {name_tag(i.get('Tags'))}", why))
    with s.listing("ec2 launch templates"):
        for t in pages(s.c.ec2, "describe_launch_templates", "LaunchTemplates"):
            why = s.hit(t["LaunchTemplateName"], tags=t.get("Tags"))
            if why:
                out.append(Found("ec2 launch template", t["LaunchTemplateId"],
                                 t["LaunchTemplateName"], why))


# ---- deleters, in delete order
@deleter("autoscaling group", Stage.COMPUTE)
def _del_asg(s: Sweep, f: Found) -> None:
    # ForceDelete terminates its instances with it instead of waiting for a scale-in.
    s.c.autoscaling.delete_auto_scaling_group(AutoScalingGroupName=f.id, ForceDelete=True)


@deleter("ec2 instance", Stage.COMPUTE, "InvalidInstanceID.NotFound")
def _del_instance(s: Sweep, f: Found) -> None:
    s.c.ec2.terminate_instances(InstanceIds=[f.id])


@deleter("ec2 launch template", Stage.COMPUTE, "InvalidLaunchTemplateId.NotFound")
def _del_launch_template(s: Sweep, f: Found) -> None:
    s.c.ec2.delete_launch_template(LaunchTemplateId=f.id)
