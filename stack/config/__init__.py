"""The stack's one typed configuration, validated before any construct exists.

``model`` holds the settings, their rules and the file/env loading; ``loopback`` the one rule
about where a sandbox may be. Import from here: ``from stack.config import StackConfig``.
"""
from stack.config.loopback import loopback_problem
from stack.config.model import (Capacity, ConfigError, DatabaseSettings, NetworkPlan,
                                SandboxSettings, Schedule, StackConfig, TlsSettings,
                                config_from_mapping, config_to_mapping, is_suffix_shape,
                                load_config, read_config_file)

__all__ = ["Capacity", "ConfigError", "DatabaseSettings", "NetworkPlan", "SandboxSettings",
           "Schedule", "StackConfig", "TlsSettings", "config_from_mapping", "config_to_mapping",
           "is_suffix_shape", "load_config", "loopback_problem", "read_config_file"]
