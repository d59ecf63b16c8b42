"""terraform validate of each synthesized stack through the offline provider mirror.

The three validations run in background threads started right after the synth (see
tests/speedups.py); a success is remembered under the synth cache, keyed by the JSON's
bytes, the terraform version and the mirror. STACK_SYNTH_CACHE=off validates every time.
"""
from __future__ import annotations

import pytest

from tests.unit.terraform_checks import VALID, VALIDATED

pytestmark = pytest.mark.unit


@pytest.fixture(scope="session")
def validations(synthesized, background_checks) -> dict[str, str]:
    return {name: future.result() for name, future in background_checks.validations.items()}


@pytest.mark.control("2.2.1")
@pytest.mark.parametrize("config", VALIDATED)
def test_synthesized_stack_is_valid_terraform(config, validations):
    assert VALID in validations[config], validations[config]
