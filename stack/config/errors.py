"""ConfigError, and pydantic's validation errors turned into one line per problem.

Each line names the setting by its dotted path (``capacity.scale_down_cpu_percent``), the
value, and the rule it breaks; unknown settings get a did-you-mean. The rules raise
``broken(...)`` so that pydantic collects every problem before one ConfigError lists them.
"""
from __future__ import annotations

import difflib
import types
import typing
import functools
from typing import Any, TypeVar
from collections.abc import Callable, Iterator, Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

RULE_ERROR = "stack_rule"
_MAX_SHOWN = 70
_Cls = TypeVar("_Cls", bound=type)
# Where each section sits in the root (Capacity -> "capacity"), filled by register_sections.
_SECTION_PATHS: dict[type, tuple[str, ...]] = {}


class ConfigError(ValueError):
    """One or more settings or files are invalid; the message lists each, one per line."""

    def __init__(self, message: str, problems: Sequence[str] = ()):
        super().__init__(message)
        self.problems = tuple(problems) or (message,)

    @classmethod
    def listing(cls, problems: Sequence[str], source: str = "") -> ConfigError:
        header = "invalid stack configuration" + (f" ({source})" if source else "")
        return cls(header + ":\n  - " + "\n  - ".join(problems), problems)


def broken(rule: str, *, setting: str | None = None, show_value: bool = True,
           whole: bool = False) -> PydanticCustomError:
    """The error a rule raises. ``rule`` follows "setting=value" (start it with ":" or a verb);
    ``setting`` names another setting than the one validated (the one to change); ``whole``:
    the rule is the whole line, setting and value included."""
    return PydanticCustomError(RULE_ERROR, "{rule}", {"rule": rule, "setting": setting,
                                                      "show_value": show_value, "whole": whole})


def raises_config_error(cls: _Cls) -> _Cls:
    """Construction from Python raises ConfigError (a ValueError naming every problem)
    instead of pydantic's ValidationError; dataclasses.replace goes through here too."""
    # mypy sees ``cls`` as an instance of ``type``; it is the class itself, whose own
    # __init__ (pydantic's validating one) is wrapped and replaced.
    validated_init: Callable[..., None] = cls.__init__  # type: ignore[misc]

    @functools.wraps(validated_init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            validated_init(self, *args, **kwargs)
        except ValidationError as exc:
            problems = problems_of(exc, cls, _SECTION_PATHS.get(cls, ()))
            raise ConfigError.listing(problems) from None

    cls.__init__ = __init__  # type: ignore[misc]
    return cls


def register_sections(root: type) -> None:
    """Name a section's problems by its place in ``root`` even when built on its own."""
    _SECTION_PATHS.update({cls: (name,) for name, cls in iter_sections(root)})


def problems_of(exc: ValidationError, root: type, prefix: tuple[str, ...] = ()) -> list[str]:
    """One line per error of validating ``root`` (a section is shown under ``prefix``)."""
    return [_line(error, root, prefix) for error in exc.errors(include_url=False)]


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN - 3] + "..."


def dotted(loc: Sequence[str | int]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "the stack config"


def _line(error: ErrorDetails, root: type, prefix: tuple[str, ...]) -> str:
    loc = tuple(error["loc"])
    path, value, kind = dotted(prefix + loc), error["input"], error["type"]
    ctx = error.get("ctx") or {}
    if kind == RULE_ERROR:
        rule = str(ctx["rule"])
        if ctx.get("whole"):
            return rule
        head = str(ctx.get("setting") or path)
        if ctx.get("show_value", True):
            head += f"={shown(value)}"
        return head + ("" if rule.startswith((":", ",")) else " ") + rule
    if kind in ("missing", "missing_argument"):
        if loc == ("environment_suffix",):
            return ("environment_suffix is required: set it in the config file or "
                    "STACK_ENVIRONMENT_SUFFIX")
        return f"{path} is required"
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        return _unknown(path, str(loc[-1]), _fields_at(root, loc[:-1]))
    if kind == "dataclass_exact_type":
        return f"{path} must be a {ctx.get('class_name')}(...), got {shown(value)}"
    if kind in ("dataclass_type", "model_type", "dict_type"):
        section = _section_at(root, loc)
        keys = ", ".join(_fields_of(section)) if section else "its settings"
        null = "; null is not a section: leave it out for the defaults" if value is None else ""
        return f"{path} must be an object with the settings {keys}, got {shown(value)}{null}"
    if kind in ("tuple_type", "list_type"):
        return f"{path} must be a list in a config file (a tuple in Python), got {shown(value)}"
    expected = _EXPECTED.get(kind)
    if expected:
        return f"{path}={shown(value)}: {expected}"
    return f"{path}={shown(value)}: {error['msg']}"


_EXPECTED = {
    "int_type": ("must be an integer: integers are written without quotes, and true/false "
                 "are not integers"),
    "bool_type": "must be true or false, without quotes",
    "string_type": "must be a string, in quotes",
}


def _unknown(path: str, key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else "not a setting here"
    return f"unknown setting(s) {path}: {hint} (settings here: {', '.join(known)})"


def _fields_of(cls: type) -> list[str]:
    return list(getattr(cls, "__pydantic_fields__", {}))


def _fields_at(root: type, loc: Sequence[str | int]) -> list[str]:
    section = _section_at(root, loc)
    return _fields_of(section) if section else []


def _section_at(root: type, loc: Sequence[str | int]) -> type | None:
    """The settings class found at ``loc`` below ``root`` (Optional unwrapped), or None."""
    cls: type | None = root
    for part in loc:
        fields = getattr(cls, "__pydantic_fields__", {})
        if not isinstance(part, str) or part not in fields:
            return None
        cls = _settings_class(fields[part].annotation)
    return cls


def _settings_class(annotation: Any) -> type | None:
    if isinstance(annotation, type) and hasattr(annotation, "__pydantic_fields__"):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _settings_class(arg)
            if found:
                return found
    return None


def iter_sections(root: type) -> Iterator[tuple[str, type]]:
    """(field name, settings class) for each section of ``root``."""
    for name, info in getattr(root, "__pydantic_fields__", {}).items():
        cls = _settings_class(info.annotation)
        if cls is not None:
            yield name, cls
