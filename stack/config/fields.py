"""What every settings class shares: strict validation, JSON Schema hints, did-you-mean."""
from __future__ import annotations

import difflib
import re
from typing import Any
from collections.abc import Iterable

from pydantic import ConfigDict, Field

# Strict: JSON's true is not 1 and "3" is not 3; unknown keys are errors; defaults are checked
# too, so that rules between settings run whichever of them a config leaves out.
STRICT = ConfigDict(strict=True, extra="forbid", validate_default=True)


def hinted(default: Any, **json_schema: Any) -> Any:
    """A field's default, with the limits an editor can check from the JSON Schema (the
    rules themselves are the validators)."""
    return Field(default, json_schema_extra=json_schema)


def anchored(pattern: re.Pattern[str]) -> str:
    """A fullmatch pattern as JSON Schema's (searching) ``pattern``."""
    return f"^(?:{pattern.pattern})$"


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value.lower(), sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""
