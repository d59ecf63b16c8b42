"""The release a change upgrades from, synthesized with its own code.

The base is ``--stack-base REF`` (ini ``stack_base``, env ``STACK_BASE``) or, by default, the
newest release tag (``v*``) below HEAD, else the previous commit: HEAD itself when the working
tree has uncommitted changes (they are the next commit), HEAD~1 when it has none. Its tree is
checked out into a temporary git worktree and synthesized there by its own
``python -m stack.cli``, so the base's code, not today's, decides its addresses. A commit never
changes, so the output is cached under the commit's id and the config: an unchanged base costs
nothing after the first run.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stack.synthesis.cache import SynthCache, caching_off, default_cache_dir

RELEASE_TAGS = "v*"
GIT_TIMEOUT = 60
SYNTH_TIMEOUT = 300


class BaseError(RuntimeError):
    pass


@dataclass(frozen=True)
class Base:
    ref: str        # what was asked for, or how the default was chosen
    commit: str     # the full commit id


def _git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              timeout=GIT_TIMEOUT)
    except FileNotFoundError:
        raise BaseError("git is not installed: the upgrade check needs git to read the base "
                        "release") from None
    if proc.returncode != 0:
        raise BaseError(f"git {' '.join(args)} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.strip()


def resolve(root: Path, ref: str | None, flag: str = "--stack-base") -> Base:
    """The base commit: ``ref`` if given, else the default described in the module docstring.
    ``flag`` names the option that gave ``ref``, for the error."""
    if ref:
        try:
            return Base(ref, _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"))
        except BaseError:
            raise BaseError(f"{flag} {ref}: no such commit or tag in {root}; name a tag, "
                            "branch or commit id (a shallow clone needs `git fetch --tags "
                            "--unshallow` first)") from None
    head = _git(root, "rev-parse", "HEAD")
    dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no"))
    tags = [t for t in _git(root, "tag", "--list", RELEASE_TAGS, "--merged", "HEAD",
                            "--sort=-v:refname").splitlines() if t]
    for tag in tags:
        commit = _git(root, "rev-parse", f"{tag}^{{commit}}")
        if commit != head or dirty:
            return Base(f"release tag {tag}", commit)
    if dirty:
        return Base("HEAD (the working tree has uncommitted changes)", head)
    try:
        return Base("HEAD~1 (the previous commit)", _git(root, "rev-parse", "--verify", "HEAD~1"))
    except BaseError:
        raise BaseError("no release tag and no previous commit to compare with (a first commit "
                        "or a shallow clone): fetch more history (`git fetch --unshallow`) or "
                        "pass --stack-base REF") from None


def head_commit(root: Path) -> str:
    """The commit being signed off: HEAD, marked when the working tree differs from it."""
    head = _git(root, "rev-parse", "HEAD")
    dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no"))
    return head + (" + uncommitted changes" if dirty else "")


def non_default_settings(obj: Any) -> dict[str, Any]:
    """The settings of a config that differ from the defaults: what the base is given, so a
    setting added since the base (with its default) never trips the base's parser."""
    out: dict[str, Any] = {}
    declared = getattr(type(obj), "__pydantic_fields__", {})
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        info = declared.get(f.name)
        default = (info.get_default(call_default_factory=True) if info is not None
                   and not info.is_required() else dataclasses.MISSING)
        if dataclasses.is_dataclass(value) and dataclasses.is_dataclass(default):
            nested = non_default_settings(value)
            if nested:
                out[f.name] = nested
        elif value != default:
            out[f.name] = (non_default_settings(value) if dataclasses.is_dataclass(value)
                           else list(value) if isinstance(value, tuple) else value)
    return out


def synthesize_base(root: Path, base: Base, config: dict[str, Any]) -> dict[str, Any]:
    """The base's ``cdk.tf.json`` for ``config`` (a mapping of the settings that differ from
    the defaults, so a setting added since the base does not break its parser)."""
    with tempfile.TemporaryDirectory(prefix="stack-base-json-") as tmp:
        doc: dict[str, Any] = json.loads(
            synthesize_base_stack(root, base, config, Path(tmp)).read_text())
        return doc


def synthesize_base_stack(root: Path, base: Base, config: dict[str, Any], dest: Path) -> Path:
    """The base's whole stack folder (``cdk.tf.json`` and the assets it refers to by relative
    paths) copied into ``dest``; returns the JSON's path. Deploying the base needs the assets."""
    cache = None if caching_off() else SynthCache(default_cache_dir(root))
    key = hashlib.sha256(json.dumps([base.commit, config, sys.version],
                                    sort_keys=True).encode()).hexdigest()[:32]
    with tempfile.TemporaryDirectory(prefix="stack-base-") as tmp:
        outdir = Path(tmp) / "out"
        if cache is None or not cache.restore(key, outdir):
            _synthesize_in_worktree(root, base, config, Path(tmp), outdir)
            if cache is not None:
                cache.store(key, outdir)
        found = sorted(outdir.glob("stacks/*/cdk.tf.json"))
        if len(found) != 1:
            raise BaseError(f"the base {base.ref} ({base.commit[:12]}) synthesized "
                            f"{len(found)} stacks, expected one")
        shutil.copytree(found[0].parent, dest, dirs_exist_ok=True)
        return dest / found[0].name


def _synthesize_in_worktree(root: Path, base: Base, config: dict[str, Any], tmp: Path,
                            outdir: Path) -> None:
    tree = tmp / "tree"
    _git(root, "worktree", "add", "--detach", "--force", str(tree), base.commit)
    try:
        config_file = tmp / "base-config.json"
        config_file.write_text(json.dumps(config, indent=2, sort_keys=True))
        env = {k: v for k, v in os.environ.items()
               if k not in ("STACK_CONFIG", "STACK_ENVIRONMENT", "STACK_ENVIRONMENT_SUFFIX")}
        env["PYTHONPATH"] = str(tree)
        env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        proc = subprocess.run([sys.executable, "-m", "stack.cli", "--config", str(config_file),
                               "--outdir", str(outdir)], cwd=tree, env=env, capture_output=True,
                              text=True, timeout=SYNTH_TIMEOUT)
        if proc.returncode != 0:
            raise BaseError(f"the base {base.ref} ({base.commit[:12]}) did not synthesize "
                            f"(exit {proc.returncode}); its own code decides, so reproduce with "
                            f"`git worktree add /tmp/base {base.commit[:12]}` and `python -m "
                            f"stack.cli --config FILE` there:\n{proc.stderr[-3000:]}")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=root,
                       capture_output=True, timeout=GIT_TIMEOUT)
