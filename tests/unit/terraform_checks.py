"""terraform validate of a synthesized stack through the offline provider mirror.

A success is remembered by content (the JSON's bytes, the terraform version, the mirror):
validating identical input with identical tools proves nothing new. STACK_SYNTH_CACHE=off
validates every time. The session runs these in the background (tests/speedups.py).
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path
from collections.abc import Sequence

from harness.mirror import require_mirror, write_cli_config
from harness.terraform import terraform_env, version_json
from stack.synthesis.cache import caching_off, default_cache_dir
from stack.synthesis.synth import PROJECT_ROOT

VALIDATED = ("prod", "imported", "sandbox")
VALID = "Success! The configuration is valid."


def validation_mirror() -> Path:
    """The provider mirror every validation reads; fails with what to do when it is missing."""
    if shutil.which("terraform") is None:
        raise RuntimeError("terraform is not on PATH: run bin/setup")
    return require_mirror()


def _validated_marker(json_text: str, mirror: Path) -> Path | None:
    if caching_off():
        return None
    key = "\0".join([json_text, version_json(), str(mirror)])
    return default_cache_dir(PROJECT_ROOT) / "validated" / hashlib.sha256(key.encode()).hexdigest()[:32]


def validate(stack_dir: Path, workdir: Path, mirror: Path, json_text: str,
             under: Sequence[str] = ()) -> str:
    """`terraform init` + `terraform validate` output; a success is remembered by content.
    ``under``: a command that runs `terraform validate` (e.g. nice), or nothing."""
    marker = _validated_marker(json_text, mirror)
    if marker is not None and marker.is_file():
        return marker.read_text()
    shutil.copytree(stack_dir, workdir)
    env = terraform_env(write_cli_config(workdir / "terraform.rc", mirror))
    out = []
    for cmd in (["terraform", "init", "-backend=false", "-input=false", "-no-color"],
                [*under, "terraform", "validate", "-no-color"]):
        proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
        out.append(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            break
    text = "\n".join(out)
    if marker is not None and VALID in text:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(text)
    return text
