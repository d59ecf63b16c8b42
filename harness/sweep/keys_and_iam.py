"""Keys and IAM: KMS aliases and keys, IAM instance profiles, roles and customer policies.

A KMS key has no name: it is the run's by its description, its tags, or a matched alias
pointing at it. Keys pending deletion (the deleter's own result: a key cannot be deleted at
once) and AWS-managed keys are gone or not the run's; AWS's service-linked roles and its
``alias/aws/`` aliases likewise.
"""
from __future__ import annotations

from dataclasses import dataclass

from harness.sweep.core import Found, Stage, Sweep, deleter, finder, pages

# The shortest window AWS allows.
KEY_PENDING_WINDOW_DAYS = 7


@dataclass
class InstanceProfile:
    roles: list[str]


@finder
def find_keys_and_iam(s: Sweep, out: list[Found]) -> None:
    kms = s.c.kms
    keys_by_alias: set[str] = set()
    with s.listing("kms aliases"):
        for a in pages(kms, "list_aliases", "Aliases"):
            if a["AliasName"].startswith("alias/aws/"):
                continue
            if s.match(a["AliasName"]):
                out.append(Found("kms alias", a["AliasName"], a["AliasName"], "name"))
                if a.get("TargetKeyId"):
                    keys_by_alias.add(a["TargetKeyId"])
    with s.listing("kms keys"):
        for k in pages(kms, "list_keys", "Keys"):
            meta = kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]
            if meta.get("KeyManager") == "AWS" or meta.get("KeyState") in (
                    "PendingDeletion", "PendingReplicaDeletion"):
                s.gone.add(k["KeyId"])
                continue
            why = s.hit(meta.get("Description", ""), arn=meta["Arn"]) or (
                "alias" if k["KeyId"] in keys_by_alias else None)
            if not why:
                tags = pages(kms, "list_resource_tags", "Tags", KeyId=k["KeyId"])
                why = "tag" if s.match.tags(tags) else None
            if why:
                out.append(Found("kms key", k["KeyId"],
                                 f"{k['KeyId']} {meta.get('Description', '')}", why,
                                 arn=meta["Arn"]))
    iam = s.c.iam
    with s.listing("iam instance profiles"):
        for p in pages(iam, "list_instance_profiles", "InstanceProfiles"):
            why = s.hit(p["InstanceProfileName"], arn=p["Arn"])
            if why:
                out.append(Found("iam instance profile", p["InstanceProfileName"],
                                 p["InstanceProfileName"], why, arn=p["Arn"],
                                 detail=InstanceProfile([r["RoleName"] for r in p.get("Roles", [])])))
    with s.listing("iam roles"):
        for r in pages(iam, "list_roles", "Roles"):
            if r.get("Path", "/").startswith("/aws-service-role/"):
                continue
            why = s.hit(r["RoleName"], arn=r["Arn"])
            if why:
                out.append(Found("iam role", r["RoleName"], r["RoleName"], why, arn=r["Arn"]))
    with s.listing("iam policies"):
        for p in pages(iam, "list_policies", "Policies", Scope="Local"):
            why = s.hit(p["PolicyName"], arn=p["Arn"])
            if why:
                out.append(Found("iam policy", p["Arn"], p["PolicyName"], why, arn=p["Arn"]))


# ---- deleters, in delete order
@deleter("kms alias", Stage.KEYS_AND_IAM)
def _del_alias(s: Sweep, f: Found) -> None:
    s.c.kms.delete_alias(AliasName=f.id)


@deleter("kms key", Stage.KEYS_AND_IAM)
def _del_key(s: Sweep, f: Found) -> None:
    s.c.kms.schedule_key_deletion(KeyId=f.id, PendingWindowInDays=KEY_PENDING_WINDOW_DAYS)


@deleter("iam instance profile", Stage.KEYS_AND_IAM, "NoSuchEntity")
def _del_profile(s: Sweep, f: Found) -> None:
    profile = f.detail_as(InstanceProfile)
    for role in profile.roles:
        s.c.iam.remove_role_from_instance_profile(InstanceProfileName=f.id, RoleName=role)
    profile.roles = []
    s.c.iam.delete_instance_profile(InstanceProfileName=f.id)


@deleter("iam role", Stage.KEYS_AND_IAM, "NoSuchEntity")
def _del_role(s: Sweep, f: Found) -> None:
    iam = s.c.iam
    for p in pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=f.id):
        iam.detach_role_policy(RoleName=f.id, PolicyArn=p["PolicyArn"])
    for name in pages(iam, "list_role_policies", "PolicyNames", RoleName=f.id):
        iam.delete_role_policy(RoleName=f.id, PolicyName=name)
    for p in pages(iam, "list_instance_profiles_for_role", "InstanceProfiles", RoleName=f.id):
        iam.remove_role_from_instance_profile(InstanceProfileName=p["InstanceProfileName"],
                                              RoleName=f.id)
    iam.delete_role(RoleName=f.id)


@deleter("iam policy", Stage.KEYS_AND_IAM, "NoSuchEntity")
def _del_policy(s: Sweep, f: Found) -> None:
    iam = s.c.iam
    for r in pages(iam, "list_entities_for_policy", "PolicyRoles", PolicyArn=f.id):
        iam.detach_role_policy(RoleName=r["RoleName"], PolicyArn=f.id)
    for u in pages(iam, "list_entities_for_policy", "PolicyUsers", PolicyArn=f.id):
        iam.detach_user_policy(UserName=u["UserName"], PolicyArn=f.id)
    for g in pages(iam, "list_entities_for_policy", "PolicyGroups", PolicyArn=f.id):
        iam.detach_group_policy(GroupName=g["GroupName"], PolicyArn=f.id)
    for v in pages(iam, "list_policy_versions", "Versions", PolicyArn=f.id):
        if not v["IsDefaultVersion"]:
            iam.delete_policy_version(PolicyArn=f.id, VersionId=v["VersionId"])
    iam.delete_policy(PolicyArn=f.id)
