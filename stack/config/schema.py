"""The JSON Schema of a config file, for editors; kept in the repo next to this module.

``python -m stack.cli --print-schema`` prints it; a unit test fails when the committed copy
is stale (regenerate with ``python -m stack.cli --print-schema > stack/config/stack-config.schema.json``).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from stack.config.model import StackConfig

SCHEMA_FILE = Path(__file__).with_name("stack-config.schema.json")


def json_schema() -> dict[str, Any]:
    schema = TypeAdapter(StackConfig).json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Stack config (python -m stack.cli --config FILE)"
    return schema


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
