"""Synthesize the stack for a given config in a child process, and find its JSON.

A child process keeps the jsii/node runtime (and its ~7 s import, see bindings.py) out of
the caller, so pytest, the plugin and bench scripts all share one path to the Terraform JSON.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from stack.config import StackConfig, config_to_mapping
from stack.naming import STACK_NAME
from stack.synthesis.cache import SynthCache, cache_key, source_hashes

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class SynthError(RuntimeError):
    pass


def stack_json_path(outdir: Path) -> Path:
    return Path(outdir) / "stacks" / STACK_NAME / "cdk.tf.json"


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env.pop("STACK_CONFIG", None)
    env.pop("STACK_ENVIRONMENT", None)
    env.pop("STACK_ENVIRONMENT_SUFFIX", None)
    return env


def synthesize(cfg: StackConfig, outdir: Path, timeout: float = 300) -> Path:
    """Write ``outdir/stacks/platform/cdk.tf.json`` for ``cfg`` and return its path."""
    return synthesize_many([(cfg, outdir)], timeout)[0]


def synthesize_many(jobs: list[tuple[StackConfig, Path]], timeout: float = 300,
                    cache: SynthCache | None = None) -> list[Path]:
    """Several configs in one child process: the binding import is paid once.

    With ``cache``, outputs whose inputs are unchanged are copied instead of synthesized.
    """
    sources = source_hashes(PROJECT_ROOT) if cache else None
    pending = []
    for cfg, outdir in jobs:
        outdir = Path(outdir).resolve()
        key = cache_key(PROJECT_ROOT, config_to_mapping(cfg), sources) if cache else ""
        if not (cache and cache.restore(key, outdir)):
            pending.append((cfg, outdir, key))
    if pending:
        _synthesize_in_child([(cfg, outdir) for cfg, outdir, _ in pending], timeout)
        if cache:
            for _, outdir, key in pending:
                cache.store(key, outdir)
    return [stack_json_path(Path(outdir).resolve()) for _, outdir in jobs]


def _synthesize_in_child(jobs: list[tuple[StackConfig, Path]], timeout: float) -> None:
    batch = []
    for cfg, outdir in jobs:
        outdir.mkdir(parents=True, exist_ok=True)
        config_file = outdir / "stack-config.json"
        config_file.write_text(json.dumps(config_to_mapping(cfg), indent=2, sort_keys=True))
        batch.append({"config": str(config_file), "outdir": str(outdir)})
    batch_file = Path(batch[0]["outdir"]) / "synth-batch.json"
    batch_file.write_text(json.dumps(batch, indent=2))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "stack.cli", "--batch", str(batch_file)],
                          cwd=PROJECT_ROOT, env=child_env(), capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise SynthError(
            f"synth failed after {time.monotonic() - started:.1f}s (exit {proc.returncode}); "
            f"reproduce with: python -m stack.cli --batch {batch_file}\n" + proc.stderr[-4000:])
    missing = [str(stack_json_path(Path(job["outdir"]))) for job in batch
               if not stack_json_path(Path(job["outdir"])).is_file()]
    if missing:
        raise SynthError(f"synth exited 0 but wrote no {', '.join(missing)}")
