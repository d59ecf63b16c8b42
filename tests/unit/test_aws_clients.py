"""harness.aws_clients: one set of clients per target and process, bound to that target."""
import pytest

from harness.aws_clients import SANDBOX_CREDENTIALS, clients_for

pytestmark = pytest.mark.unit

SANDBOX = "http://127.0.0.1:5999"


def test_one_set_of_clients_per_target_and_process():
    assert clients_for("us-east-1", SANDBOX) is clients_for("us-east-1", SANDBOX)
    assert clients_for("us-east-1", SANDBOX).s3 is clients_for("us-east-1", SANDBOX).s3
    assert clients_for("us-east-1", "http://127.0.0.1:6000") is not clients_for("us-east-1", SANDBOX)
    assert clients_for("eu-west-1", SANDBOX) is not clients_for("us-east-1", SANDBOX)


def test_sandbox_clients_talk_to_the_sandbox_with_motos_credentials():
    s3 = clients_for("us-east-1", SANDBOX).s3
    assert s3.meta.endpoint_url == SANDBOX and s3.meta.region_name == "us-east-1"
    assert s3._request_signer._credentials.access_key == SANDBOX_CREDENTIALS["aws_access_key_id"]


def test_a_typo_is_an_error_not_a_client_for_an_unused_service():
    with pytest.raises(AttributeError, match="no client 'ec3'"):
        _ = clients_for("us-east-1", SANDBOX).ec3
