"""Loaded by ``-p`` from pytest.ini, before pytest imports any plugin: the installed package's
entry points load the harness and evidence plugins ahead of the root conftest, so a redirect
made there would come after their modules were compiled (~0.3 s a run, and again in each
xdist worker, when PYTHONDONTWRITEBYTECODE is set)."""
from pathlib import Path

from tests.bytecode_cache import keep_bytecode_out_of_the_tree

keep_bytecode_out_of_the_tree(Path(__file__).resolve().parent.parent)
