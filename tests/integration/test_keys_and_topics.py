"""KMS and SNS: every customer key rotates; the alert topic is encrypted."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def _stack_keys(stack, clients):
    aliases = [a for a in clients.kms.list_aliases()["Aliases"]
               if a["AliasName"].endswith(f"-{stack.outputs.environment}-{stack.suffix}")
               and a.get("TargetKeyId")]
    return {a["AliasName"]: a["TargetKeyId"] for a in aliases}


@pytest.mark.control("3.7.4")
def test_every_stack_key_rotates(stack, clients):
    """Each of the stack's KMS keys (found by their suffixed aliases) has automatic rotation."""
    keys = _stack_keys(stack, clients)
    assert len(keys) >= 3, keys
    for alias, key_id in keys.items():
        assert clients.kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"], alias
        meta = clients.kms.describe_key(KeyId=key_id)["KeyMetadata"]
        assert meta["KeyState"] == "Enabled", alias


def test_alert_topic_is_encrypted_with_a_stack_key(stack, clients):
    """The SNS alert topic encrypts messages with one of the stack's KMS keys."""
    attributes = clients.sns.get_topic_attributes(TopicArn=stack.outputs.sns_topic_arn)["Attributes"]
    key = attributes.get("KmsMasterKeyId")
    assert key, "the topic has no KmsMasterKeyId"
    key_id = clients.kms.describe_key(KeyId=key)["KeyMetadata"]["KeyId"]
    assert key_id in set(_stack_keys(stack, clients).values())
