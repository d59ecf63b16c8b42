"""The synthesized-output cache: same inputs hit, any change to an input misses."""
import shutil

import pytest

from stack.synth import PROJECT_ROOT
from stack.synth_cache import KEYED_DIRS, KEYED_FILES, SynthCache, cache_key

pytestmark = pytest.mark.unit

CONFIG = {"environment_suffix": "cache1", "waf_rate_limit": 2000}


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "project"
    for name in KEYED_DIRS:
        shutil.copytree(PROJECT_ROOT / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for name in KEYED_FILES:
        shutil.copy(PROJECT_ROOT / name, root / name)
    return root


def test_unchanged_inputs_give_the_same_key(tree):
    assert cache_key(tree, CONFIG) == cache_key(tree, dict(CONFIG))
    (tree / "stack" / "__pycache__").mkdir(exist_ok=True)
    (tree / "stack" / "__pycache__" / "x.pyc").write_bytes(b"compiled")
    assert cache_key(tree, CONFIG) == cache_key(tree, CONFIG), "bytecode is not an input"


@pytest.mark.parametrize("changed", [
    "stack/cdn.py", "stack/config.py", "lambda/build.py", "lambda/rotation/handler.py",
    "app/requirements-instance.txt", "harness/plugin.py", "requirements.txt", "cdktf.json"])
def test_a_change_to_any_input_is_a_miss(tree, changed):
    before = cache_key(tree, CONFIG)
    path = tree / changed
    path.write_text(path.read_text() + "\n# changed\n")
    assert cache_key(tree, CONFIG) != before


def test_a_new_file_and_a_config_change_are_misses(tree):
    before = cache_key(tree, CONFIG)
    assert cache_key(tree, {**CONFIG, "waf_rate_limit": 2001}) != before
    (tree / "app" / "platform_app" / "new_module.py").write_text("X = 1\n")
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
