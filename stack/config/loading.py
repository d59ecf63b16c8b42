"""Loading: a config file (one line per file problem), the environment, and the JSON shape.

Sources, in increasing precedence: the defaults, a JSON file named by ``STACK_CONFIG`` (or
``--config``), then ``STACK_ENVIRONMENT`` and ``STACK_ENVIRONMENT_SUFFIX``.
"""
from __future__ import annotations

import dataclasses
import errno
import json
import os
from functools import cache
from pathlib import Path
from typing import Any
from collections.abc import Mapping

from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError, to_json

from stack.config.errors import ConfigError, problems_of
from stack.config.model import StackConfig

ENV_SETTINGS = (("STACK_ENVIRONMENT", "environment"),
                ("STACK_ENVIRONMENT_SUFFIX", "environment_suffix"))


class _JsonObject(dict[str, Any]):
    """A parsed JSON object that remembers the keys it had more than once."""
    repeated: list[str]


def _object(pairs: list[tuple[str, Any]]) -> _JsonObject:
    obj = _JsonObject()
    obj.repeated = []
    for key, value in pairs:
        if key in obj and key not in obj.repeated:
            obj.repeated.append(key)
        obj[key] = value
    return obj


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _repeated_keys(value: Any, path: str = "") -> list[str]:
    """Dotted paths of the keys repeated anywhere in ``value``; converts to plain dicts."""
    found: list[str] = []
    if isinstance(value, _JsonObject):
        found += [f"{path}{key}" for key in value.repeated]
        for key, item in value.items():
            found += _repeated_keys(item, f"{path}{key}.")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _repeated_keys(item, f"{path.rstrip('.')}[{i}].")
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def read_json_file(path: str | os.PathLike[str], what: str) -> Any:
    """The JSON value in ``path``; ConfigError says in one line what is wrong and what to do.

    ``what`` names the file in the message ("config file", "--batch file")."""
    name = f"{what} {path}"
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{name} does not exist: check the path (relative paths start in "
                          f"{Path.cwd()})") from None
    except IsADirectoryError:
        raise ConfigError(f"{name} is a directory: name the JSON file itself") from None
    except PermissionError:
        raise ConfigError(f"{name} cannot be read (permission denied): make it readable "
                          "for this user") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
                          f"offset {exc.start}): save it as UTF-8") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ConfigError(f"{name} is a symlink loop: point the link at a real file") from None
        if exc.errno == errno.ENOTDIR:
            raise ConfigError(f"{name} does not exist: a part of the path is a file, not a "
                              "directory") from None
        raise ConfigError(f"{name} cannot be read ({exc.strerror}): check the path") from None
    if not text.strip():
        raise ConfigError(f"{name} is empty: write a JSON object such as "
                          '{"environment_suffix": "dev1"}')
    try:
        data = json.loads(text, object_pairs_hook=_object, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name} is not valid JSON: {exc.msg} at line {exc.lineno} column "
                          f"{exc.colno}: fix the syntax") from None
    except ValueError as exc:
        raise ConfigError(f"{name} is not valid JSON: {exc}: use a number or a string") from None
    repeated = _repeated_keys(data)
    if repeated:
        raise ConfigError(f"{name} repeats the key(s) {', '.join(repeated)}: JSON parsers keep "
                          "only one of each; keep the one you mean")
    return _plain(data)


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON object in ``path``; ConfigError says what is wrong with the file."""
    data = read_json_file(path, "config file")
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a JSON object ({{...}} of settings), "
                          f"not {_json_kind(data)}")
    return data


def _json_kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "true/false", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


@cache
def _adapter() -> TypeAdapter[StackConfig]:
    return TypeAdapter(StackConfig)


def config_from_mapping(data: Mapping[str, Any], source: str = "") -> StackConfig:
    """Build a StackConfig from plain (JSON) data, refusing unknown keys and wrong types.

    The data is validated as JSON, so a list is a list of settings and true is not 1."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"the stack config must be an object of settings, not {_json_kind(data)}")
    try:
        as_json = to_json(dict(data))
    except PydanticSerializationError as exc:
        raise ConfigError(f"the stack config holds a value JSON cannot carry: {exc}") from None
    try:
        return _adapter().validate_json(as_json, strict=True)
    except ValidationError as exc:
        raise ConfigError.listing(problems_of(exc, StackConfig), source) from None


def load_config(path: str | os.PathLike[str] | None = None,
                environ: Mapping[str, str] | None = None,
                **overrides: Any) -> StackConfig:
    """Defaults < JSON file (``path`` or $STACK_CONFIG) < environment < keyword overrides."""
    environ = os.environ if environ is None else environ
    path = path or environ.get("STACK_CONFIG")
    data = read_config_file(path) if path else {}
    sources = [f"config file {path}"] if path else []
    for env_key, key in ENV_SETTINGS:
        if environ.get(env_key):
            data[key] = environ[env_key]
            sources.append(f"{key} from ${env_key}")
    data.update(overrides)
    return config_from_mapping(data, source=", ".join(sources))


def config_to_mapping(cfg: StackConfig) -> dict[str, Any]:
    """The inverse of config_from_mapping, for writing a deployment's config to disk."""
    result: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(cfg)))
    return result
