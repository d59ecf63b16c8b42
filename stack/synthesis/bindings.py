"""Import the AWS provider bindings one submodule at a time.

``cdktf_cdktf_provider_aws/__init__.py`` imports all ~2,100 of its submodules so that jsii
has every type registered: 16 of the 23 s a synth took here, for ~130 submodules the stack
uses. With the package module put in place without running that ``__init__``, each
``from cdktf_cdktf_provider_aws.vpc import Vpc`` loads only what it names, and the shared
``_jsii`` assembly once.

Why this is safe: jsii's Python runtime (1.142, pinned) imports a type's module on demand when
node hands back a type it has not seen, and raises ``ValueError: Unknown type`` when it cannot
find it: a missing registration fails the synth loudly, it cannot change the JSON. A component
test synthesizes the same config both ways and compares the bytes.
STACK_FULL_PROVIDER_IMPORT=1 restores the package's own import.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types

PACKAGE = "cdktf_cdktf_provider_aws"
FULL_IMPORT_ENV = "STACK_FULL_PROVIDER_IMPORT"


def _lazy_submodule(name: str) -> types.ModuleType:
    # PEP 562: `cdktf_cdktf_provider_aws.vpc` as an attribute still works, loaded on first use.
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return importlib.import_module(f"{PACKAGE}.{name}")
    except ModuleNotFoundError:
        raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}") from None


def full_import_requested() -> bool:
    """STACK_FULL_PROVIDER_IMPORT: "1" full, unset/""/"0" lean; anything else is an error
    (a "true" or "yes" silently meaning lean would make a comparison prove nothing)."""
    value = os.environ.get(FULL_IMPORT_ENV, "")
    if value not in ("", "0", "1"):
        raise ValueError(f"{FULL_IMPORT_ENV}={value!r}: use 1 for the provider package's own "
                         "import, or 0 / unset for the lean one")
    return value == "1"


def use_lean_provider_package() -> str:
    """Install the lean package module unless the package is already imported or the full
    import is asked for. Returns which one the process will use: "lean" or "full"."""
    if full_import_requested():
        return "full"
    current = sys.modules.get(PACKAGE)
    if current is not None:
        return "lean" if getattr(current, "__lean__", False) else "full"
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{PACKAGE} is not installed: run bin/setup (pyproject.toml pins it)")
    module = importlib.util.module_from_spec(spec)   # not executed: that is the point
    module.__path__ = list(spec.submodule_search_locations)
    # Module globals, as a module-level `def __getattr__` (PEP 562) and a constant would be.
    module.__dict__.update(__getattr__=_lazy_submodule, __lean__=True)
    sys.modules[PACKAGE] = module
    return "lean"
