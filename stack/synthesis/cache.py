"""A synthesized-output cache keyed by the content of everything that shapes the JSON.

A synth costs ~7 s (23 s with the package's full import), most of it importing bindings.
With nothing changed, the same inputs give the same JSON, so a second run copies the
earlier output.
The key hashes: the configuration, every source file under stack/, lambda/, app/ and
harness/ (the plugin), pyproject.toml (the pins), cdktf.json, and the Python version.
Any change to one of them is a new key; old entries are pruned.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

KEYED_DIRS = ("stack", "lambda", "app", "harness")
KEYED_FILES = ("pyproject.toml", "cdktf.json")
SKIPPED_PARTS = {"__pycache__", ".pytest_cache"}
KEEP_ENTRIES = 8
# The cache directory also holds the validate markers, the checkov reports and the test
# session's bytecode; only synth entries are pruned.
ENTRY_NAME = re.compile(r"[0-9a-f]{32}")


def _source_files(root: Path) -> Iterable[Path]:
    for name in KEYED_DIRS:
        base = root / name
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                if path.is_file() and not SKIPPED_PARTS & set(path.parts) and path.suffix != ".pyc":
                    yield path
    for name in KEYED_FILES:
        if (root / name).is_file():
            yield root / name


def source_hashes(root: Path) -> list[tuple[bytes, bytes]]:
    """(relative path, SHA-256) of every keyed file: read once for all configs of a batch."""
    return [(str(path.relative_to(root)).encode(), hashlib.sha256(path.read_bytes()).digest())
            for path in _source_files(root)]


def cache_key(root: Path, config: dict[str, Any],
              sources: list[tuple[bytes, bytes]] | None = None) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(config, sort_keys=True).encode())
    digest.update(sys.version.encode())
    for name, file_hash in source_hashes(root) if sources is None else sources:
        digest.update(name + b"\0")
        digest.update(file_hash)
    return digest.hexdigest()[:32]


# STACK_SYNTH_CACHE: unset or a switch word for on, a switch word for off, or the directory.
# A word is never taken for a directory ("on" used to become ./on).
OFF_WORDS = {"off", "0", "false", "no"}
ON_WORDS = {"", "on", "1", "true", "yes"}


def caching_off() -> bool:
    """STACK_SYNTH_CACHE=off: no synth cache, validate verdict, scan report or bytecode."""
    return os.environ.get("STACK_SYNTH_CACHE", "").strip().lower() in OFF_WORDS


def default_cache_dir(root: Path) -> Path:
    value = os.environ.get("STACK_SYNTH_CACHE", "").strip()
    return root / ".synth-cache" if value.lower() in OFF_WORDS | ON_WORDS else Path(value)


class SynthCache:
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def entry(self, key: str) -> Path:
        return self.directory / key

    def has(self, key: str) -> bool:
        return (self.entry(key) / "COMPLETE").is_file()

    def restore(self, key: str, outdir: Path) -> bool:
        """Copy a complete cached output into ``outdir``; False when there is none."""
        entry = self.entry(key)
        if not self.has(key):
            return False
        if outdir.exists():
            shutil.rmtree(outdir)
        shutil.copytree(entry, outdir, ignore=shutil.ignore_patterns("COMPLETE"))
        os.utime(entry)  # most recently used survives pruning
        return True

    def store(self, key: str, outdir: Path) -> None:
        entry = self.entry(key)
        staging = entry.with_name(entry.name + f".tmp{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(outdir, staging, ignore=shutil.ignore_patterns(
            ".terraform", ".terraform.lock.hcl", "*.tfstate*"))
        (staging / "COMPLETE").write_text(key)
        shutil.rmtree(entry, ignore_errors=True)
        staging.rename(entry)
        self._prune()

    def _prune(self) -> None:
        entries = sorted((p for p in self.directory.iterdir()
                          if p.is_dir() and ENTRY_NAME.fullmatch(p.name)),
                         key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEEP_ENTRIES:]:
            shutil.rmtree(old, ignore_errors=True)
