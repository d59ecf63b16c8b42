"""Bad input, case by case: config values, config files, the CLI's options and batch files,
and the sweeper's suffix. Each is refused with exit 2 (or a ConfigError in-process), a
message naming the setting, file or option and the rule, no traceback, and nothing created.

Values are checked in-process (``config_from_mapping``: the path a config file takes);
the CLI's own checks run through ``stack.cli.main`` in-process (it stops before importing
the provider bindings), and a batch of the cases through a real ``python -m stack.cli``.
"""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any
from collections.abc import Callable

import pytest

from harness import sweep
from stack import cli
from stack.config import ConfigError, config_from_mapping, load_config
from stack.synthesis.synth import PROJECT_ROOT, child_env
from tests import speedups
from tests.unit.bad_config_cases import GOOD, VALUE_CASES

pytestmark = pytest.mark.unit
CONFIG_ENV = ("STACK_CONFIG", "STACK_ENVIRONMENT", "STACK_ENVIRONMENT_SUFFIX")


@pytest.fixture(autouse=True)
def no_config_from_the_environment(monkeypatch):
    for key in CONFIG_ENV:
        monkeypatch.delenv(key, raising=False)


def assert_names(message: str, subject: str, words: list[str]) -> None:
    """Some line of ``message`` names ``subject`` and every rule word; no traceback."""
    assert "Traceback" not in message, message
    lines = [line for line in message.splitlines() if subject in line]
    assert lines, f"{subject!r} not named in:\n{message}"
    assert any(all(word in line for word in words) for line in lines), \
        f"{words} missing from the lines naming {subject!r}:\n{message}"


@pytest.mark.control("2.2.1")
@pytest.mark.parametrize("settings,setting,words",
                         [pytest.param(s, p, w, id=i) for i, s, p, w in VALUE_CASES])
def test_a_bad_value_is_refused_naming_the_setting_and_the_rule(settings, setting, words):
    with pytest.raises(ConfigError) as err:
        config_from_mapping({**GOOD, **settings})
    assert_names(str(err.value), setting, words)


def test_every_problem_of_a_config_is_listed_at_once():
    settings: dict[str, Any] = {}
    for _, case, _, _ in VALUE_CASES:
        for key, value in case.items():
            if isinstance(value, dict) and isinstance(settings.get(key), dict):
                value = {**settings[key], **value}
            settings.setdefault(key, value)
    with pytest.raises(ConfigError) as err:
        config_from_mapping({**GOOD, **settings})
    assert len(err.value.problems) >= 15, err.value


# ------------------------------------------------------------------ config files
Maker = Callable[[Path, pytest.MonkeyPatch], Path]


def _file(text: str | bytes) -> Maker:
    def write(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        path = tmp / "stack.json"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return path
    return write


def _loop(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp / "a.json").symlink_to(tmp / "b.json")
    (tmp / "b.json").symlink_to(tmp / "a.json")
    return tmp / "a.json"


def _under_a_file(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp / "plain").write_text("{}")
    return tmp / "plain" / "stack.json"


def _unreadable(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # As root, chmod 000 is still readable: the unit run (root here) simulates the refusal.
    path = _file("{}")(tmp, monkeypatch)
    original = Path.read_text

    def refuse(self: Path, *args: Any, **kwargs: Any) -> str:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return original(self, *args, **kwargs)
    monkeypatch.setattr(Path, "read_text", refuse)
    return path


_VALID = json.dumps(GOOD)
FILE_CASES: list[tuple[str, Maker, list[str]]] = [
    ("missing", lambda tmp, _: tmp / "missing.json", ["does not exist", "check the path"]),
    ("directory", lambda tmp, _: tmp, ["is a directory"]),
    ("not-utf8", _file(b'{"environment_suffix": "caf\xe9"}'), ["not UTF-8", "0xe9"]),
    ("utf16", _file('{"environment_suffix": "good1"}'.encode("utf-16")), ["not UTF-8"]),
    ("symlink-loop", _loop, ["symlink loop"]),
    ("under-a-file", _under_a_file, ["does not exist", "is a file"]),
    ("unreadable", _unreadable, ["permission denied"]),
    ("broken-json", _file("{nope"), ["not valid JSON", "line 1 column 2"]),
    ("trailing-comma", _file('{"environment_suffix": "good1",}'), ["not valid JSON"]),
    ("single-quotes", _file("{'environment_suffix': 'good1'}"), ["not valid JSON"]),
    ("empty", _file(""), ["is empty"]),
    ("blank", _file("  \n"), ["is empty"]),
    ("a-list", _file("[]"), ["must hold a JSON object", "a list"]),
    ("a-string", _file('"good1"'), ["must hold a JSON object", "a string"]),
    ("a-number", _file("3"), ["must hold a JSON object", "a number"]),
    ("null", _file("null"), ["must hold a JSON object", "null"]),
    ("nan", _file('{"waf_rate_limit": NaN}'), ["not valid JSON", "NaN"]),
    ("infinity", _file('{"waf_rate_limit": Infinity}'), ["not valid JSON", "Infinity"]),
    ("duplicate-key", _file('{"environment_suffix": "aaaa1", "environment_suffix": "bbbb1"}'),
     ["repeats the key(s) environment_suffix"]),
    ("duplicate-nested-key", _file(_VALID[:-1] + ', "capacity": {"min_size": 2, "min_size": 3}}'),
     ["repeats the key(s) capacity.min_size"]),
    ("bad-values", _file(json.dumps({**GOOD, "waf_rate_limit": 5, "capacity": None})),
     ["invalid stack configuration (config file"]),
]


@pytest.mark.parametrize("make,words", [pytest.param(m, w, id=i) for i, m, w in FILE_CASES])
def test_a_bad_config_file_is_one_line_naming_the_file(tmp_path, monkeypatch, make, words):
    path = make(tmp_path, monkeypatch)
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    message = str(err.value)
    assert_names(message, str(path), words)
    if "invalid stack configuration" not in message:
        assert "\n" not in message, message


def test_a_byte_order_mark_is_not_a_problem(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + _VALID.encode())
    assert load_config(path, environ={}).environment_suffix == "good1"


# ------------------------------------------------------------------ the CLI's options
def _write(path: Path, value: Any) -> str:
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return str(path)


def _batch(entries: Any) -> Callable[[Path], list[str]]:
    return lambda tmp: ["--batch", _write(tmp / "jobs.json", entries(tmp) if callable(entries)
                                          else entries)]


def _good(tmp: Path) -> str:
    return _write(tmp / "good.json", GOOD)


CLI_CASES: list[tuple[str, Callable[[Path], list[str]], str, list[str]]] = [
    ("config-empty", lambda tmp: ["--config", "", "--outdir", str(tmp / "out")], "--config",
     ["empty value"]),
    ("outdir-empty", lambda tmp: ["--config", _good(tmp), "--outdir", " "], "--outdir",
     ["empty value"]),
    ("batch-empty-value", lambda tmp: ["--batch", ""], "--batch", ["empty value"]),
    ("batch-and-config", lambda tmp: ["--batch", _write(tmp / "jobs.json", []), "--config",
                                      _good(tmp)], "--batch", ["leave out --config"]),
    ("outdir-is-a-file", lambda tmp: ["--config", _good(tmp), "--outdir",
                                      _write(tmp / "out", "x")], "--outdir", ["is a file"]),
    ("outdir-under-a-file", lambda tmp: ["--config", _good(tmp), "--outdir",
                                         str(Path(_write(tmp / "plain", "x")) / "a" / "out")],
     "--outdir", ["which is a file"]),
    ("config-missing", lambda tmp: ["--config", str(tmp / "nope.json"), "--outdir",
                                    str(tmp / "out")], "nope.json", ["does not exist"]),
    ("config-bad-value", lambda tmp: ["--config", _write(tmp / "c.json", {**GOOD, "rotation_days": True}),
                                      "--outdir", str(tmp / "out")], "rotation_days=True",
     ["integers"]),
    ("batch-missing", lambda tmp: ["--batch", str(tmp / "nope.json")], "--batch file",
     ["does not exist"]),
    ("batch-directory", lambda tmp: ["--batch", str(tmp)], "--batch file", ["is a directory"]),
    ("batch-not-json", lambda tmp: ["--batch", _write(tmp / "jobs.json", "[{")], "--batch file",
     ["not valid JSON"]),
    ("batch-duplicate-key", lambda tmp: ["--batch", _write(
        tmp / "jobs.json", '[{"config": "a", "config": "b", "outdir": "o"}]')], "--batch file",
     ["repeats the key(s) [0].config"]),
    ("batch-object", _batch({"config": "a.json", "outdir": "out"}), "--batch file",
     ["non-empty JSON list"]),
    ("batch-empty-list", _batch([]), "--batch file", ["non-empty JSON list"]),
    ("batch-entry-string", _batch(["a.json"]), "entry 1", ["must be an object"]),
    ("batch-no-config", _batch([{"outdir": "out"}]), "entry 1", ["no 'config'"]),
    ("batch-no-outdir", _batch(lambda tmp: [{"config": _good(tmp)}]), "entry 1", ["no 'outdir'"]),
    ("batch-unknown-key", _batch(lambda tmp: [{"config": _good(tmp), "outdir": "o", "out": 1}]),
     "entry 1", ["unknown key 'out'"]),
    ("batch-outdir-number", _batch(lambda tmp: [{"config": _good(tmp), "outdir": 3}]),
     "entry 1", ["outdir must be a non-empty path string"]),
    ("batch-same-outdir", _batch(lambda tmp: [{"config": _good(tmp), "outdir": str(tmp / "o")},
                                              {"config": _good(tmp), "outdir": str(tmp / "o")}]),
     "job 2", ["also job 1's"]),
    ("batch-bad-job", _batch(lambda tmp: [{"config": _good(tmp), "outdir": str(tmp / "o1")},
                                          {"config": str(tmp / "nope.json"),
                                           "outdir": str(tmp / "o2")}]),
     "job 2", ["nope.json does not exist"]),
]


@pytest.mark.parametrize("argv,subject,words",
                         [pytest.param(a, s, w, id=i) for i, a, s, w in CLI_CASES])
def test_the_cli_refuses_bad_options_with_exit_2_and_creates_nothing(tmp_path, capsys, argv,
                                                                      subject, words):
    args = argv(tmp_path)                       # writes the case's input files
    inputs = sorted(tmp_path.rglob("*"))
    assert cli.main(args) == 2
    assert_names(capsys.readouterr().err, subject, words)
    assert sorted(tmp_path.rglob("*")) == inputs, "the refused run created files"


def test_a_bad_provider_import_switch_is_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STACK_FULL_PROVIDER_IMPORT", "yes")
    assert cli.main(["--config", _good(tmp_path), "--outdir", str(tmp_path / "out")]) == 2
    assert_names(capsys.readouterr().err, "STACK_FULL_PROVIDER_IMPORT", [])
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ the sweeper's suffix
SWEEP_SUFFIXES = [("sw", "at least 4 characters"), ("abc", "at least 4 characters"),
                  ("Swp7", "lowercase"), ("", "empty"), ("a--b1", "single hyphens"),
                  ("-abc1", "hyphen"), ("abc1-", "hyphen"), ("a_bc1", "lowercase"),
                  ("../x1", "lowercase")]


@pytest.mark.parametrize("suffix,words", SWEEP_SUFFIXES, ids=[s or "empty" for s, _ in SWEEP_SUFFIXES])
def test_the_sweeper_refuses_what_the_config_refuses(suffix, words):
    out = io.StringIO()
    assert sweep.main([f"--suffix={suffix}", "--endpoint", "http://127.0.0.1:9", "--delete"],
                      out=out) == 2
    assert_names(out.getvalue(), f"--suffix {suffix!r}", [words])
    with pytest.raises(ConfigError):
        config_from_mapping({**GOOD, "environment_suffix": suffix})


# ------------------------------------------------------------------ a real command line
def _many_bad_jobs(work: Path) -> speedups.Launch:
    """One `python -m stack.cli --batch` over a share of the cases: every job's problem is
    reported, exit 2, and not one output directory is made."""
    jobs, expected = [], []
    for n, (_, settings, setting, words) in enumerate(VALUE_CASES[::8]):
        config = _write(work / f"value{n}.json", {**GOOD, **settings})
        jobs.append({"config": config, "outdir": str(work / "out" / f"value{n}")})
        expected.append((setting, words))
    for n, (case, make, words) in enumerate(FILE_CASES):
        if case in ("unreadable", "directory"):   # needs a monkeypatch / named by directory
            continue
        folder = work / f"file{n}"
        folder.mkdir()
        path = make(folder, pytest.MonkeyPatch())
        jobs.append({"config": str(path), "outdir": str(work / "out" / f"file{n}")})
        expected.append((str(path), words))
    _write(work / "plain", "x")
    jobs.append({"config": _write(work / "good.json", GOOD), "outdir": str(work / "plain" / "o")})
    expected.append(("--outdir", ["which is a file"]))
    batch = _write(work / "jobs.json", jobs)
    return speedups.Launch([sys.executable, "-m", "stack.cli", "--batch", batch],
                             cwd=PROJECT_ROOT, env=child_env(),
                             context={"expected": expected, "out": work / "out",
                                      "jobs": len(jobs)})


@pytest.mark.control("2.2.1")
@speedups.head_start(_many_bad_jobs)
def test_a_real_batch_of_bad_jobs_reports_each_and_creates_nothing(child):
    assert child.returncode == 2, child.stderr
    assert "Traceback" not in child.stderr + child.stdout
    for setting, words in child.context["expected"]:
        assert_names(child.stderr, setting, words)
    for n in range(1, child.context["jobs"] + 1):
        assert f"job {n}: " in child.stderr, f"job {n} not reported:\n{child.stderr}"
    assert not child.context["out"].exists()
