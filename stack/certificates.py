"""Domain mode: one DNS-validated ACM certificate for the site and its origin name.

``<domain>`` is what viewers use (CloudFront, TLSv1.2_2021); ``origin.<domain>`` points at
the ALB, so CloudFront can verify the ALB's certificate on the origin hop.
"""
from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct
from cdktf import TerraformIterator, Token
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias

from stack.context import StackContext

CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"   # fixed by AWS for every distribution


def origin_name(domain: str) -> str:
    return f"origin.{domain}"


@dataclass(frozen=True)
class DomainCertificateProps:
    ctx: StackContext
    domain_name: str
    hosted_zone_id: str


class DomainCertificate(Construct):
    def __init__(self, scope: Construct, id: str, *, props: DomainCertificateProps):
        super().__init__(scope, id)
        self.props = props
        cert = AcmCertificate(self, "certificate", domain_name=props.domain_name,
                              subject_alternative_names=[origin_name(props.domain_name)],
                              validation_method="DNS", key_algorithm="RSA_2048",
                              tags=props.ctx.name_tag("certificate"))
        # Over the set itself, not from_complex_list's tolist(): a set whose elements are partly
        # unknown at plan time converts to a wholly unknown list, and for_each refuses that on
        # the first plan (found by tests/component/test_aws_rehearsal.py).
        options = TerraformIterator.from_map(Token.as_any_map(
            f"${{{{ for dvo in {cert.fqn}.domain_validation_options : dvo.domain_name => dvo }}}}"))
        records = Route53Record(
            self, "validation", for_each=options, zone_id=props.hosted_zone_id,
            name=options.get_string("resource_record_name"),
            type=options.get_string("resource_record_type"),
            records=[options.get_string("resource_record_value")], ttl=60, allow_overwrite=True)
        validation = AcmCertificateValidation(
            self, "validated", certificate_arn=cert.arn,
            validation_record_fqdns=Token.as_list(f"${{[for r in {records.fqn} : r.fqdn]}}"))
        self.certificate_arn = validation.certificate_arn

    def point_dns(self, *, distribution_domain: str, alb_dns_name: str, alb_zone_id: str) -> None:
        p = self.props
        for rtype in ("A", "AAAA"):
            Route53Record(self, f"site-{rtype.lower()}", zone_id=p.hosted_zone_id,
                          name=p.domain_name, type=rtype, alias=Route53RecordAlias(
                              name=distribution_domain, zone_id=CLOUDFRONT_HOSTED_ZONE_ID,
                              evaluate_target_health=False))
        Route53Record(self, "origin-a", zone_id=p.hosted_zone_id, name=origin_name(p.domain_name),
                      type="A", alias=Route53RecordAlias(name=alb_dns_name, zone_id=alb_zone_id,
                                                         evaluate_target_health=True))
