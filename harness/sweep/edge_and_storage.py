"""Edge and storage: DNS records, CloudFront distributions and origin access controls, WAF web
ACLs (deleted first: they front everything else), S3 buckets with every object version, and
ACM certificates (deleted last: load balancers and distributions hold them).

The stack's records live in a hosted zone it does not own: a record is the run's when its
name or what it points at (an alias to ``alb-dev-S-...elb.amazonaws.com``, a value) carries
the suffix; the zone itself is never touched. A distribution is named only in its Comment.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.sweep.core import Found, Stage, Sweep, deleter, finder, marker_pages, pages


@dataclass
class DnsRecord:
    zone_id: str
    record_set: dict[str, Any]   # Route 53 deletes a record only when given all of it


@dataclass
class WebAcl:
    name: str
    scope: str


@finder
def find_edge_and_storage(s: Sweep, out: list[Found]) -> None:
    _dns_records(s, out)
    cf = s.c.cloudfront
    with s.listing("cloudfront distributions"):
        for d in pages(cf, "list_distributions", "DistributionList.Items"):
            # Some listings omit the Comment that names it.
            comment = d.get("Comment") or cf.get_distribution_config(Id=d["Id"])[
                "DistributionConfig"].get("Comment", "")
            origins = [o.get("DomainName") for o in d.get("Origins", {}).get("Items", [])]
            why = s.hit(comment, *origins, arn=d["ARN"])
            if not why:
                tags = cf.list_tags_for_resource(Resource=d["ARN"]).get("Tags", {}).get("Items", [])
                why = "tag" if s.match.tags(tags) else None
            if why:
                out.append(Found("cloudfront distribution", d["Id"], f"{d['Id']} {comment}", why,
                                 arn=d["ARN"]))
    with s.listing("cloudfront origin access controls"):
        for o in pages(cf, "list_origin_access_controls", "OriginAccessControlList.Items"):
            if s.match(o.get("Name", "")):
                out.append(Found("cloudfront oac", o["Id"], o["Name"], "name"))
    for scope in ("CLOUDFRONT", "REGIONAL"):
        with s.listing(f"wafv2 web acls ({scope})"):
            for a in marker_pages(s.c.wafv2.list_web_acls, "WebACLs", Scope=scope):
                why = s.hit(a["Name"], arn=a["ARN"])
                if why:
                    out.append(Found("wafv2 web acl", a["Id"], a["Name"], why, arn=a["ARN"],
                                     detail=WebAcl(a["Name"], scope)))
    with s.listing("s3 buckets"):
        for b in pages(s.c.s3, "list_buckets", "Buckets"):
            arn = f"arn:aws:s3:::{b['Name']}"
            why = s.hit(b["Name"], arn=arn)
            if why:
                out.append(Found("s3 bucket", b["Name"], b["Name"], why, arn=arn))
    with s.listing("acm certificates"):
        acm = s.c.acm
        for c in pages(acm, "list_certificates", "CertificateSummaryList"):
            arn = c["CertificateArn"]
            why = s.hit(c.get("DomainName", ""), arn=arn)
            if not why:
                why = "tag" if s.match.tags(acm.list_tags_for_certificate(
                    CertificateArn=arn).get("Tags", [])) else None
            if why:
                out.append(Found("acm certificate", arn, f"{c.get('DomainName', '')} {arn}", why,
                                 arn=arn))


def _dns_records(s: Sweep, out: list[Found]) -> None:
    route53 = s.c.client("route53")
    zones: list[dict[str, Any]] = []
    with s.listing("route53 hosted zones"):
        zones = pages(route53, "list_hosted_zones", "HostedZones")
    for zone in zones:
        with s.listing(f"route53 records of {zone['Name']}"):
            for r in pages(route53, "list_resource_record_sets", "ResourceRecordSets",
                           HostedZoneId=zone["Id"]):
                if r["Type"] in ("SOA", "NS") and r["Name"] == zone["Name"]:
                    continue  # the zone's own
                values = [v.get("Value") for v in r.get("ResourceRecords", [])]
                why = s.hit(r["Name"], r.get("AliasTarget", {}).get("DNSName"), *values)
                if why:
                    zone_id = zone["Id"].rsplit("/", 1)[-1]
                    out.append(Found("route53 record", f"{zone_id} {r['Name']} {r['Type']}",
                                     f"{r['Name']} {r['Type']} (zone {zone['Name']})", why,
                                     detail=DnsRecord(zone_id, r)))


# ---- deleters, in delete order
@deleter("route53 record", Stage.EDGE, "NoSuchHostedZone")
def _del_record(s: Sweep, f: Found) -> None:
    record = f.detail_as(DnsRecord)
    s.c.client("route53").change_resource_record_sets(
        HostedZoneId=record.zone_id, ChangeBatch={"Changes": [
            {"Action": "DELETE", "ResourceRecordSet": record.record_set}]})


@deleter("cloudfront distribution", Stage.EDGE, "NoSuchDistribution")
def _del_distribution(s: Sweep, f: Found) -> None:
    cf = s.c.cloudfront
    got = cf.get_distribution_config(Id=f.id)
    config, etag = got["DistributionConfig"], got["ETag"]
    if config.get("Enabled"):
        config["Enabled"] = False  # AWS deletes only disabled distributions
        etag = cf.update_distribution(Id=f.id, IfMatch=etag, DistributionConfig=config)["ETag"]
    cf.delete_distribution(Id=f.id, IfMatch=etag)


@deleter("cloudfront oac", Stage.EDGE, "NoSuchOriginAccessControl")
def _del_oac(s: Sweep, f: Found) -> None:
    etag = s.c.cloudfront.get_origin_access_control(Id=f.id)["ETag"]
    s.c.cloudfront.delete_origin_access_control(Id=f.id, IfMatch=etag)


@deleter("wafv2 web acl", Stage.EDGE, "WAFNonexistentItemException")
def _del_web_acl(s: Sweep, f: Found) -> None:
    acl = f.detail_as(WebAcl)
    token = s.c.wafv2.get_web_acl(Name=acl.name, Scope=acl.scope, Id=f.id)["LockToken"]
    s.c.wafv2.delete_web_acl(Name=acl.name, Scope=acl.scope, Id=f.id, LockToken=token)


@deleter("s3 bucket", Stage.STORAGE, "NoSuchBucket")
def _del_bucket(s: Sweep, f: Found) -> None:
    s3 = s.c.s3
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=f.id):
        objects = [{"Key": o["Key"], "VersionId": o["VersionId"]}
                   for o in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if objects:
            s3.delete_objects(Bucket=f.id, Delete={"Objects": objects, "Quiet": True})
    s3.delete_bucket(Bucket=f.id)


@deleter("acm certificate", Stage.CERTIFICATES)
def _del_certificate(s: Sweep, f: Found) -> None:
    s.c.acm.delete_certificate(CertificateArn=f.id)
