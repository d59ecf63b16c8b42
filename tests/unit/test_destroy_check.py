"""What the summary may say after a destroy (harness.destroy_check): "nothing remains" only
when the inventory ran, every listing answered and none found anything."""
from __future__ import annotations

import pytest

from harness.destroy_check import NOTHING_REMAINS, DestroyCheck
from harness.sweep import Leftover, LeftoverCheck
from harness.sweep.core import Found

pytestmark = pytest.mark.unit

COMMAND = "python -m harness.sweep --suffix t1 --endpoint http://127.0.0.1:5000 --delete"


def test_clean_check_says_nothing_remains():
    checked = DestroyCheck(LeftoverCheck("t1", (), ()))
    assert checked.verified_clean and NOTHING_REMAINS in checked.summary_line()
    assert checked.failure() == ""


def test_unchecked_listings_are_not_clean():
    checked = DestroyCheck(LeftoverCheck("t1", (), ("kms: AccessDenied",)))
    assert not checked.verified_clean and NOTHING_REMAINS not in checked.summary_line()
    assert "1 listing(s) could not be checked" in checked.summary_line()
    assert checked.lines() == ["unchecked kms: AccessDenied"]


def test_no_check_is_never_clean():
    checked = DestroyCheck(None, "the sandbox process ended")
    assert not checked.verified_clean
    assert checked.summary_line() == "destroyed; NOT verified: the sandbox process ended"


def test_leftovers_fail_with_each_sweep_command():
    found = Found("s3 bucket", "logs-dev-t1", "logs-dev-t1", "name")
    checked = DestroyCheck(LeftoverCheck("t1", (Leftover(found, COMMAND),), ()))
    assert not checked.verified_clean
    assert "logs-dev-t1" in checked.failure() and COMMAND in checked.failure()
