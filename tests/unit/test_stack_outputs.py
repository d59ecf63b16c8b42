"""The output contract (stack/outputs.py): the synthesized stack publishes exactly the declared
outputs, and deployed values that differ from the declaration are an error naming each name."""
from __future__ import annotations

import pytest

from stack.outputs import OutputsError, StackOutputs

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("doc_name", ["prod", "imported", "sandbox"])
def test_the_stack_publishes_exactly_the_declared_outputs(request, doc_name):
    doc = request.getfixturevalue(doc_name).doc
    assert sorted(doc["output"]) == sorted(StackOutputs.names())
    assert not any(out.get("sensitive") for out in doc["output"].values())


def _values(**changes: object) -> dict[str, object]:
    values: dict[str, object] = {name: f"value-of-{name}" for name in StackOutputs.names()}
    values.update(changes)
    return values


def test_deployed_values_read_into_the_contract():
    outputs = StackOutputs.from_terraform(_values(alb_arn="arn:aws:elasticloadbalancing:x"))
    assert outputs.alb_arn == "arn:aws:elasticloadbalancing:x"
    assert outputs.vpc_id == "value-of-vpc_id"


def test_a_missing_an_undeclared_or_a_non_text_output_is_named():
    values = _values(extra_output="x", asg_name=3)
    del values["vpc_id"]
    with pytest.raises(OutputsError) as caught:
        StackOutputs.from_terraform(values)
    message = str(caught.value)
    assert "missing vpc_id" in message and "not declared extra_output" in message
    assert "not a string: asg_name" in message and "stack/main.py" in message
