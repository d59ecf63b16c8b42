"""The rotation Lambda's package as the synth builds it: lambda/build.py, loaded by path (the
folder is named "lambda", a Python keyword), building into a folder of this process's own.

Own folder because synths run side by side in one checkout (xdist workers, a unit run beside
a deploy): with one shared folder, one synth rebuilt it while another was zipping it, and
that synth failed. cdktf hashes an asset by its files' contents, so the folder's name never
reaches the JSON. No cdktf import here: the unit tests load this module in-process.
"""
from __future__ import annotations

import atexit
import importlib.util
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from types import ModuleType

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LAMBDA_BUILD = PROJECT_ROOT / "lambda" / "build.py"


@lru_cache(maxsize=1)
def lambda_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rotation_lambda_build", LAMBDA_BUILD)
    if spec is None or spec.loader is None:
        raise ImportError(f"{LAMBDA_BUILD} cannot be loaded as a Python module; restore it "
                          "from the repository")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=1)
def build_dir() -> Path:
    """This process's build folder, removed when the process exits."""
    path = Path(tempfile.mkdtemp(prefix="rotation-lambda-build-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def build_package() -> Path:
    """Build the package (replacing an earlier build of this process) and return its folder."""
    return Path(lambda_builder().build(build_dir()))
