"""Whether bin/setup can skip pip: this checkout's editable install is already current.

``pip install -e ".[dev]"`` rebuilds the editable wheel in a fresh build environment on every
run (15-25 s here, against under a second for this check). The install is current when:
the project is installed editable from this checkout; from the pyproject.toml that is here now
(its SHA-256 is recorded after each install: ``--record``); and every pin, the dev tools'
included, is installed at its pinned version (so a package changed by hand since is noticed).
What the pins themselves require was checked by pip when it installed them.

Usage: ``python3 bin/install_is_current.py`` exits 0 when current, else 1 with the reason;
``python3 bin/install_is_current.py --record`` after a successful install.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
# Under the gitignored build folder: a fresh clone has none, so it installs.
STAMP = ROOT / "build" / "pyproject.sha256"


def _digest() -> str:
    return hashlib.sha256(PYPROJECT.read_bytes()).hexdigest()


def editable_install(name: str) -> tuple[str, importlib.metadata.Distribution] | None:
    """The file URL an editable install of ``name`` points at, and its metadata; None when
    there is none. The <name>.egg-info the editable build leaves in the checkout (found first
    when the checkout is on sys.path) records no install and is passed over."""
    for dist in importlib.metadata.distributions(name=name):
        info = json.loads(dist.read_text("direct_url.json") or "{}")
        if info.get("dir_info", {}).get("editable"):
            return info.get("url"), dist
    return None


def _unmet_pins(project: dict) -> list[str]:
    from packaging.requirements import Requirement  # pytest's dependency: absent before pip

    pins = [*project.get("dependencies", []),
            *project.get("optional-dependencies", {}).get("dev", [])]
    unmet = []
    for pin in map(Requirement, pins):
        try:
            version = importlib.metadata.version(pin.name)
        except importlib.metadata.PackageNotFoundError:
            unmet.append(f"{pin} (not installed)")
            continue
        if not pin.specifier.contains(version, prereleases=True):
            unmet.append(f"{pin} ({version} installed)")
    return unmet


def problem() -> str | None:
    """Why pip must run, or None when the install is current."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    install = editable_install(project["name"])
    location = install[0] if install else None
    if location != ROOT.as_uri():
        return f"{project['name']} is not installed editable from {ROOT} (found: {location})"
    if not STAMP.is_file() or STAMP.read_text().strip() != _digest():
        return "pyproject.toml changed since the last install"
    try:
        unmet = _unmet_pins(project)
    except ImportError as exc:
        return f"cannot read the pins ({exc})"
    return f"not as pinned: {', '.join(unmet)}" if unmet else None


def main(argv: list[str]) -> int:
    if argv == ["--record"]:
        STAMP.parent.mkdir(parents=True, exist_ok=True)
        STAMP.write_text(_digest() + "\n")
        return 0
    reason = problem()
    print(reason or "the editable install and every pin are current")
    return 1 if reason else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
