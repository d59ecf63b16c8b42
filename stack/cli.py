"""Command line: validate the configuration, then synthesize.

    python -m stack.cli [--config FILE] [--outdir cdktf.out]
    python -m stack.cli --batch jobs.json        # [{"config": ..., "outdir": ...}, ...]
    python -m stack.cli --print-schema           # the config file's JSON Schema

Every input problem (a setting, a config or batch file, an output directory) is reported,
all of them, one line each, with exit 2, before the provider bindings are even imported:
bad input costs a fraction of a second and creates nothing.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# This process uses no pydantic plugins; looking for them scans every installed distribution's
# entry points, ~50 ms of the ~0.5 s a refused config costs.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from stack.config import ConfigError, StackConfig, load_config, read_json_file  # noqa: E402
from stack.synthesis.bindings import (full_import_requested,  # noqa: E402
                                      use_lean_provider_package)

DEFAULT_OUTDIR = "cdktf.out"
BATCH_KEYS = ("config", "outdir")
ENTRY_SHAPE = '{"config": "FILE", "outdir": "DIR"}'


@dataclass(frozen=True)
class Job:
    config: StackConfig
    outdir: Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Synthesize the platform stack")
    parser.add_argument("--config", help="JSON config file (default: $STACK_CONFIG)")
    parser.add_argument("--outdir", help=f"output directory (default: {DEFAULT_OUTDIR}; "
                        "created with its parents)")
    parser.add_argument("--batch", help="JSON list of {config, outdir}: several synths, one import")
    parser.add_argument("--print-schema", action="store_true",
                        help="print the config file's JSON Schema and exit")
    args = parser.parse_args(argv)
    if args.print_schema:
        from stack.config.schema import schema_text
        sys.stdout.write(schema_text())
        return 0
    try:
        full_import_requested()
        jobs = planned_jobs(args)
        for job in jobs:
            _create(job.outdir)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except ValueError as exc:               # STACK_FULL_PROVIDER_IMPORT
        print(f"error: {exc}", file=sys.stderr)
        return 2
    use_lean_provider_package()                 # ~7 s of imports instead of ~23 s
    from cdktf import App                       # only for valid input
    from stack.main import PlatformStack
    for job in jobs:
        app = App(outdir=str(job.outdir))
        PlatformStack(app, job.config)
        app.synth()
    return 0


def planned_jobs(args: argparse.Namespace) -> list[Job]:
    """Every (config, outdir) to synthesize, all checked; ConfigError lists every problem."""
    for flag, value in (("--config", args.config), ("--outdir", args.outdir),
                        ("--batch", args.batch)):
        if value is not None and not value.strip():
            raise ConfigError(f"{flag} was given an empty value: name a file or directory, or "
                              "leave the option out")
    if args.batch and (args.config or args.outdir):
        raise ConfigError("--batch names each job's config and outdir: leave out --config and "
                          "--outdir")
    pairs = (batch_entries(args.batch) if args.batch
             else [(args.config, args.outdir or DEFAULT_OUTDIR)])
    problems: list[str] = []
    jobs: list[Job] = []
    seen: dict[Path, int] = {}
    for number, (config_file, outdir) in enumerate(pairs, 1):
        where = f"job {number}: " if args.batch else ""
        path = Path(outdir).absolute()
        if path in seen:
            problems.append(f"{where}--outdir {outdir} is also job {seen[path]}'s: give each "
                            "job its own directory")
        seen.setdefault(path, number)
        problem = outdir_problem(Path(outdir))
        if problem:
            problems.append(where + problem)
        try:
            jobs.append(Job(load_config(config_file), path))
        except ConfigError as exc:
            problems.append(where + str(exc))
    if problems:
        raise ConfigError("\n".join(problems), problems)
    return jobs


def batch_entries(batch_file: str) -> list[tuple[str, str]]:
    """The (config, outdir) pairs of a batch file; ConfigError names each bad entry."""
    data = read_json_file(batch_file, "--batch file")
    if not isinstance(data, list) or not data:
        raise ConfigError(f"--batch file {batch_file} must hold a non-empty JSON list like "
                          f"[{ENTRY_SHAPE}, ...], not {_shown(data)}")
    problems = [p for number, entry in enumerate(data, 1) for p in _entry_problems(number, entry)]
    if problems:
        lines = [f"--batch file {batch_file}: {p}; each entry is like {ENTRY_SHAPE}"
                 for p in problems]
        raise ConfigError("\n".join(lines), lines)
    return [(entry["config"], entry["outdir"]) for entry in data]


def _entry_problems(number: int, entry: Any) -> list[str]:
    if not isinstance(entry, dict):
        return [f"entry {number} must be an object, not {_shown(entry)}"]
    problems = [f"entry {number} has no {key!r}" for key in BATCH_KEYS if key not in entry]
    problems += [f"entry {number} has an unknown key {key!r}" for key in entry
                 if key not in BATCH_KEYS]
    problems += [f"entry {number}: {key} must be a non-empty path string, not "
                 f"{_shown(entry[key])}" for key in BATCH_KEYS
                 if key in entry and (not isinstance(entry[key], str) or not entry[key].strip())]
    return problems


def outdir_problem(outdir: Path) -> str | None:
    """Why ``outdir`` cannot be (created and) written, or None."""
    if outdir.exists() and not outdir.is_dir():
        return f"--outdir {outdir} is a file: name a directory (it is created if missing)"
    existing = next((p for p in (outdir.absolute(), *outdir.absolute().parents) if p.exists()),
                    None)
    if existing is not None and not existing.is_dir():
        return (f"--outdir {outdir} is under {existing}, which is a file: name a directory "
                "elsewhere")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        return (f"--outdir {outdir}: {existing} is not writable for this user: choose "
                "another directory")
    return None


def _create(outdir: Path) -> None:
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--outdir {outdir} cannot be created ({exc.strerror}): name "
                          "another directory") from None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


if __name__ == "__main__":
    sys.exit(main())
