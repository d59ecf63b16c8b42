"""The terraform version the stack needs, declared once (stack/terraform_version.py)."""
from __future__ import annotations

import pytest

from harness import terraform
from stack.terraform_version import MIN_TERRAFORM, REQUIRED_VERSION

pytestmark = pytest.mark.unit


def test_one_constant_for_the_json_setup_and_harness():
    assert MIN_TERRAFORM == (1, 11) and REQUIRED_VERSION == ">= 1.11"
    assert terraform.MIN_TERRAFORM is MIN_TERRAFORM


@pytest.mark.parametrize("found", ["1.11.0", "1.11.4", "1.12.1", "2.0.0", "v1.11.4-beta1"])
def test_new_enough_versions_pass(found):
    assert terraform.version_problem(found) == ""


@pytest.mark.parametrize("found", ["1.10.5", "1.5.7", "0.15.0", "not installed", "garbage"])
def test_older_or_unknown_versions_are_refused_naming_found_and_needed(found):
    problem = terraform.version_problem(found)
    assert f"terraform {found} is too old" in problem and ">= 1.11" in problem
    assert "developer.hashicorp.com" in problem


def test_require_version_refuses_an_old_binary(monkeypatch):
    monkeypatch.setattr(terraform, "version", lambda: "1.5.7")
    monkeypatch.setattr(terraform, "terraform_binary", lambda: "/usr/bin/terraform")
    with pytest.raises(terraform.TerraformError, match=r"terraform 1.5.7 is too old.*>= 1.11"):
        terraform.require_version()
