"""The test session keeps its bytecode out of the source tree (tests/speedups.py)."""
import sys

import pytest

from tests.speedups import keep_bytecode_out_of_the_tree

pytestmark = pytest.mark.unit


@pytest.fixture
def interpreter(monkeypatch):
    """The two interpreter settings, restored after the test whatever it set."""
    monkeypatch.setattr(sys, "dont_write_bytecode", sys.dont_write_bytecode)
    monkeypatch.setattr(sys, "pycache_prefix", sys.pycache_prefix)
    monkeypatch.delenv("STACK_SYNTH_CACHE", raising=False)
    return monkeypatch


def test_with_bytecode_off_it_goes_under_the_cache_not_beside_the_sources(interpreter, tmp_path):
    interpreter.setattr(sys, "dont_write_bytecode", True)
    interpreter.setattr(sys, "pycache_prefix", None)
    prefix = keep_bytecode_out_of_the_tree(tmp_path)
    assert prefix == (tmp_path / ".synth-cache" / "bytecode").resolve()
    assert sys.pycache_prefix == str(prefix) and not sys.dont_write_bytecode


@pytest.mark.parametrize("situation", ["python writes bytecode anyway", "caller chose a prefix",
                                       "caches off"])
def test_otherwise_nothing_changes(interpreter, tmp_path, situation):
    interpreter.setattr(sys, "dont_write_bytecode", situation != "python writes bytecode anyway")
    interpreter.setattr(sys, "pycache_prefix", "/elsewhere" if situation == "caller chose a prefix" else None)
    if situation == "caches off":
        interpreter.setenv("STACK_SYNTH_CACHE", "off")
    before = (sys.dont_write_bytecode, sys.pycache_prefix)
    assert keep_bytecode_out_of_the_tree(tmp_path) is None
    assert (sys.dont_write_bytecode, sys.pycache_prefix) == before
