import pytest

pytestmark = pytest.mark.unit


@pytest.mark.control("2.2.6", "10.2.1")
def test_alb_is_public_drops_invalid_headers_and_logs(prod):
    alb = prod.one("aws_lb")
    assert alb["internal"] is False and alb["drop_invalid_header_fields"] is True
    assert alb["enable_deletion_protection"] is False
    assert alb["access_logs"]["enabled"] is True and "aws_s3_bucket" in alb["access_logs"]["bucket"]
    assert all("aws_subnet.network_public" in s for s in alb["subnets"])


def test_target_group_checks_health_expecting_200(prod):
    hc = prod.one("aws_lb_target_group")["health_check"]
    assert (hc["path"], hc["matcher"]) == ("/health", "200")
    assert hc["timeout"] < hc["interval"]


@pytest.mark.control("1.4.2", "4.2.1")
def test_https_listener_tls12_plus_default_403_and_header_gated_forward(prod):
    https = next(listener for listener in prod.list("aws_lb_listener") if listener["port"] == 443)
    assert https["protocol"] == "HTTPS" and https["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    (action,) = https["default_action"]
    assert action["type"] == "fixed-response" and action["fixed_response"]["status_code"] == "403"
    rule = prod.one("aws_lb_listener_rule")
    header = rule["condition"][0]["http_header"]
    assert header["http_header_name"] == "X-Origin-Verify"
    assert header["values"] == ["${data.aws_secretsmanager_secret_version.secrets_origin-verify-read_1EF5AE5F.secret_string}"] \
        or all("data.aws_secretsmanager_secret_version" in v for v in header["values"])
    assert rule["action"][0]["type"] == "forward"


@pytest.mark.control("4.2.1")
def test_http_listener_only_redirects_to_https(prod):
    http = next(listener for listener in prod.list("aws_lb_listener") if listener["port"] == 80)
    (action,) = http["default_action"]
    assert action["type"] == "redirect"
    assert action["redirect"]["protocol"] == "HTTPS" and action["redirect"]["status_code"] == "HTTP_301"


@pytest.mark.control("4.2.1")
def test_certificate_comes_from_the_configured_mode(prod, imported):
    def https(doc):
        return next(listener for listener in doc.list("aws_lb_listener")
                    if listener["port"] == 443)

    assert "aws_acm_certificate_validation" in https(prod)["certificate_arn"]
    assert https(imported)["certificate_arn"].startswith("arn:aws:acm:us-east-1:111122223333:")
