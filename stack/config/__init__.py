"""The stack's one typed configuration, validated before any construct exists.

``model`` holds StackConfig and ``sections`` its parts, strict pydantic dataclasses (``fields``:
what they share) whose rules cite AWS's limits (``aws_limits``, ``aws_names``, ``schedules``);
``errors`` turns their problems into one ConfigError; ``loading`` reads files and the
environment; ``suffix`` is the one suffix rule; ``loopback`` the one rule about where a sandbox
may be; ``schema`` the JSON Schema for editors (``stack-config.schema.json``).
Import from here: ``from stack.config import StackConfig``.
"""
from stack.config.errors import ConfigError
from stack.config.loading import (config_from_mapping, config_to_mapping, load_config,
                                  read_config_file, read_json_file)
from stack.config.loopback import loopback_problem
from stack.config.model import StackConfig
from stack.config.sections import (Capacity, DatabaseSettings, NetworkPlan, RunTags,
                                   SandboxSettings, Schedule, TlsSettings)
from stack.config.suffix import MIN_SUFFIX_LENGTH, is_suffix_shape, suffix_problem

__all__ = ["Capacity", "ConfigError", "DatabaseSettings", "MIN_SUFFIX_LENGTH", "NetworkPlan",
           "RunTags", "SandboxSettings", "Schedule", "StackConfig", "TlsSettings",
           "config_from_mapping",
           "config_to_mapping", "is_suffix_shape", "load_config", "loopback_problem",
           "read_config_file", "read_json_file", "suffix_problem"]
