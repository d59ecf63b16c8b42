"""The synthesized-output cache: same inputs hit, any change to an input misses."""
import contextlib
import os
import shutil
from pathlib import Path

import pytest

from stack.synthesis.synth import PROJECT_ROOT
from stack.synthesis.cache import (KEEP_ENTRIES, KEYED_DIRS, KEYED_FILES, SynthCache, cache_key,
                               caching_off, default_cache_dir)

pytestmark = pytest.mark.unit

CONFIG = {"environment_suffix": "cache1", "waf_rate_limit": 2000}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    # One copy for the module (~300 files; a copy per test was 0.5 s of a warm unit run):
    # each test puts back what it changed, and the teardown proves it did.
    root = tmp_path_factory.mktemp("cache-key") / "project"
    for name in KEYED_DIRS:
        shutil.copytree(PROJECT_ROOT / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for name in KEYED_FILES:
        shutil.copy(PROJECT_ROOT / name, root / name)
    key = cache_key(root, CONFIG)
    yield root
    assert cache_key(root, CONFIG) == key, "a test left the copied tree changed"


@contextlib.contextmanager
def written(path, data: bytes):
    """``path`` holds ``data`` inside the block; afterwards what it held before, or nothing."""
    before = path.read_bytes() if path.exists() else None
    path.write_bytes(data)
    try:
        yield
    finally:
        if before is None:
            path.unlink()
        else:
            path.write_bytes(before)


def test_unchanged_inputs_give_the_same_key(tree):
    assert cache_key(tree, CONFIG) == cache_key(tree, dict(CONFIG))
    bytecode = tree / "stack" / "__pycache__"
    bytecode.mkdir()
    with written(bytecode / "x.pyc", b"compiled"):
        assert cache_key(tree, CONFIG) == cache_key(tree, CONFIG), "bytecode is not an input"
    bytecode.rmdir()


@pytest.mark.parametrize("changed", [
    "stack/cdn.py", "stack/config/model.py", "lambda/build.py", "lambda/rotation/handler.py",
    "app/requirements-instance.txt", "harness/plugin.py", "pyproject.toml", "cdktf.json"])
def test_a_change_to_any_input_is_a_miss(tree, changed):
    before = cache_key(tree, CONFIG)
    path = tree / changed
    with written(path, path.read_bytes() + b"\n# changed\n"):
        assert cache_key(tree, CONFIG) != before


def test_a_new_file_and_a_config_change_are_misses(tree):
    before = cache_key(tree, CONFIG)
    assert cache_key(tree, {**CONFIG, "waf_rate_limit": 2001}) != before
    with written(tree / "app" / "platform_app" / "new_module.py", b"X = 1\n"):
        assert cache_key(tree, CONFIG) != before


def test_store_then_restore_round_trip_without_terraform_droppings(tmp_path):
    out = tmp_path / "out"
    (out / "stacks" / "platform" / ".terraform").mkdir(parents=True)
    (out / "stacks" / "platform" / "cdk.tf.json").write_text("{}")
    (out / "stacks" / "platform" / "terraform.tfstate").write_text("state")
    cache = SynthCache(tmp_path / "cache")
    assert not cache.restore("k1", tmp_path / "restored")
    cache.store("k1", out)
    restored = tmp_path / "restored"
    assert cache.restore("k1", restored)
    assert (restored / "stacks" / "platform" / "cdk.tf.json").read_text() == "{}"
    assert not (restored / "stacks" / "platform" / ".terraform").exists()
    assert not (restored / "stacks" / "platform" / "terraform.tfstate").exists()
    assert not (restored / "COMPLETE").exists()


def test_pruning_keeps_the_newest_entries_and_whatever_else_shares_the_directory(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "cdk.tf.json").write_text("{}")
    cache = SynthCache(tmp_path / "cache")
    neighbours = [tmp_path / "cache" / name for name in ("checkov", "validated", "bytecode")]
    for path in neighbours:
        path.mkdir(parents=True)
    keys = [f"{i:032x}" for i in range(KEEP_ENTRIES + 3)]
    for i, key in enumerate(keys):
        cache.store(key, out)
        os.utime(cache.entry(key), (1_000_000 + i, 1_000_000 + i))
    cache.store(keys[-1], out)  # prunes once more, now that the times are ordered
    kept = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert kept == sorted(keys[-KEEP_ENTRIES:] + ["checkov", "validated", "bytecode"])


@pytest.mark.parametrize("value,off,where", [
    (None, False, "default"), ("", False, "default"), ("on", False, "default"),
    ("1", False, "default"), ("TRUE", False, "default"), ("yes", False, "default"),
    ("off", True, "default"), ("0", True, "default"), ("False", True, "default"),
    ("no", True, "default"), ("/var/cache/stack", False, "/var/cache/stack")])
def test_the_switch_reads_words_as_words_and_anything_else_as_the_directory(
        monkeypatch, tmp_path, value, off, where):
    if value is None:
        monkeypatch.delenv("STACK_SYNTH_CACHE", raising=False)
    else:
        monkeypatch.setenv("STACK_SYNTH_CACHE", value)
    assert caching_off() is off
    expected = tmp_path / ".synth-cache" if where == "default" else Path(where)
    assert default_cache_dir(tmp_path) == expected
