"""Where the test session's bytecode goes when PYTHONDONTWRITEBYTECODE is set.

With the variable set (it is on these machines) every run recompiles the plugins and
re-rewrites the asserts of ~50 test modules: ~0.7 s of a ~5 s warm unit run. The variable's
point is no bytecode beside the sources, so the session writes it under the project's cache
instead. STACK_SYNTH_CACHE=off (a cold run: every cache off) keeps none, and a prefix the
caller chose (PYTHONPYCACHEPREFIX) is left alone.
"""
from __future__ import annotations

import sys
from pathlib import Path

from stack.synthesis.cache import caching_off, default_cache_dir


def keep_bytecode_out_of_the_tree(project_root: Path) -> Path | None:
    """Redirect and enable bytecode writing; returns the directory, None when nothing changed."""
    if not sys.dont_write_bytecode or sys.pycache_prefix or caching_off():
        return None
    prefix = (default_cache_dir(project_root) / "bytecode").resolve()
    sys.pycache_prefix = str(prefix)
    sys.dont_write_bytecode = False
    return prefix
