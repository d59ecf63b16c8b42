"""Sandbox clients and terraform runs get the sandbox endpoint and test credentials, never
the caller's (issue #14 item 6): checked with real-looking ambient credentials set."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.aws_clients import (SANDBOX_CREDENTIALS, AwsClients, SandboxEndpointError,
                                 sandbox_clients)
from harness.terraform import TerraformError, terraform_env

pytestmark = pytest.mark.unit

ENDPOINT = "http://127.0.0.1:45999"
SERVICES = ("acm", "autoscaling", "cloudfront", "cloudwatch", "ec2", "elbv2", "iam", "kms",
            "lambda_", "logs", "rds", "s3", "secretsmanager", "sns", "ssm", "sts", "wafv2",
            "resourcegroupstaggingapi")


@pytest.fixture
def ambient(monkeypatch, tmp_path):
    """A caller logged in to a real account: keys, a session token, a profile that exists
    only in their own config file, and a global endpoint override."""
    config = tmp_path / "config"
    config.write_text("[profile prod-admin]\nregion = eu-west-1\n")
    for key, value in {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
                       "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                       "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEXAMPLETOKEN",
                       "AWS_PROFILE": "prod-admin", "AWS_CONFIG_FILE": str(config),
                       "AWS_ENDPOINT_URL": "https://sts.amazonaws.com"}.items():
        monkeypatch.setenv(key, value)


def test_every_sandbox_client_goes_to_the_loopback_endpoint_with_test_keys(ambient):
    clients = AwsClients("us-east-1", endpoint=ENDPOINT)
    for service in SERVICES:
        client = getattr(clients, service)
        assert client.meta.endpoint_url == ENDPOINT, service
        creds = client._request_signer._credentials
        assert (creds.access_key, creds.secret_key, creds.token) == (
            SANDBOX_CREDENTIALS["aws_access_key_id"], SANDBOX_CREDENTIALS["aws_secret_access_key"],
            None), service
        assert client.meta.region_name == "us-east-1"


def test_a_sandbox_without_an_endpoint_is_an_error_not_an_aws_client(ambient):
    with pytest.raises(SandboxEndpointError, match="no endpoint recorded"):
        sandbox_clients("us-east-1", None)
    with pytest.raises(SandboxEndpointError, match="only loopback"):
        AwsClients("us-east-1", endpoint="http://10.1.2.3:5000")


def test_sandbox_terraform_env_carries_nothing_of_the_caller(ambient, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://s3.amazonaws.com")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/root/.aws/credentials")
    env = terraform_env(Path("/tmp/terraform.rc"), "us-east-1", ENDPOINT)
    assert env["AWS_ACCESS_KEY_ID"] == "testing" and env["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert env["AWS_ENDPOINT_URL"] == ENDPOINT and env["AWS_EC2_METADATA_DISABLED"] == "true"
    leaked = {k for k in env if k.startswith("AWS_")} - {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION",
        "AWS_ENDPOINT_URL", "AWS_EC2_METADATA_DISABLED",
        "AWS_CA_BUNDLE"}  # trust roots only: no identity, no address
    assert not leaked, leaked
    with pytest.raises(TerraformError, match="needs the sandbox endpoint"):
        terraform_env(Path("/tmp/terraform.rc"), "us-east-1", None)


def test_a_deployed_sandbox_stack_without_an_endpoint_gets_no_clients(ambient, tmp_path):
    from harness.deployed import DeployedStack
    from harness.options import Options
    from harness.record import Target
    from harness.run_config import planned_config
    opts = Options(target=Target.SANDBOX, suffix="tiso2", workdir_root=tmp_path)
    with pytest.raises(SandboxEndpointError, match="no endpoint recorded"):
        DeployedStack(suffix="tiso2", target=Target.SANDBOX, region="us-east-1", endpoint=None,
                      output_values={}, workdir=opts.workdir, config=planned_config(opts))
