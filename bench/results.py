"""bench/RESULTS.md holds the latest table of each bench, one section per bench.

Each bench calls ``record(name, title, body)`` when it finishes: the text between that bench's two
markers is replaced and every other section is kept byte for byte, so the file is always the
latest result of every bench and git history is the log of earlier runs.
"""
from __future__ import annotations

import os
import shlex
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().with_name("RESULTS.md")
HEADER = (
    "# Benchmark results\n\n"
    "The latest run of each bench, written by the bench itself when it finishes "
    "(`bench/results.py`); earlier runs are in git history. Absolute seconds on a shared "
    "machine are noise: where a bench measures a floor in the same run, its ratios to that "
    "floor are the result.\n"
)


class ResultsFileError(ValueError):
    pass


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} begin -->", f"<!-- bench:{name} end -->"


def replace_section(text: str, name: str, body: str) -> str:
    """``text`` with bench ``name``'s section set to ``body`` (appended if it has none yet)."""
    begin, end = markers(name)
    block = f"{begin}\n{body.strip()}\n{end}\n"
    if not text.strip():
        return f"{HEADER}\n{block}"
    starts, ends = text.count(begin), text.count(end)
    if (starts, ends) == (0, 0):
        return f"{text.rstrip()}\n\n{block}"
    first, last = text.find(begin), text.find(end)
    if (starts, ends) != (1, 1) or last < first:
        raise ResultsFileError(
            f"the section of bench {name!r} needs exactly one {begin!r} followed "
            f"by one {end!r} (found {starts} and {ends}); mend the markers by hand or delete the "
            "whole section, and the bench writes it afresh")
    after = text[last + len(end):].lstrip("\n")
    return text[:first] + block + ("\n" + after if after else "")


def invocation() -> str:
    """The command line that ran this bench, as a reader would type it from the repository."""
    return shlex.join(["python", f"bench/{Path(sys.argv[0]).name}", *sys.argv[1:]])


def record(name: str, title: str, body: str, path: Path = RESULTS) -> Path:
    """Write ``body`` under ``title`` as bench ``name``'s section of ``path``; the other
    sections stay."""
    current = path.read_text() if path.is_file() else ""
    try:
        updated = replace_section(current, name, f"## {title}\n\n{body.strip()}")
    except ResultsFileError as exc:
        raise ResultsFileError(f"{path}: {exc}") from None
    # Written beside the file and renamed over it: an interrupted bench never leaves half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(updated)
        # mkstemp makes the file private; the results are as readable as the file they replace.
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
