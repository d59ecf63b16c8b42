"""Issue #15 items 4-5: --sandbox-endpoint is written into a record only once it answers,
--destroy-stack honours it, and a deploy checks a given server before creating anything."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import preflight, sandbox
from harness.deployment import Deployer
from harness.errors import DeployError, DestroyError
from harness.options import Options
from harness.progress import Progress
from harness.record import Deployment, Status, Target
from harness.run_config import planned_config
from harness.workdir import StackWorkdir
from stack.config import StackConfig
from tests.component.child_pytest import make_project, pytest_command, pytest_env

pytestmark = pytest.mark.component

TESTS = '''
    import pytest

    @pytest.mark.integration
    def test_needs_stack(stack):
        """needs a deployment"""
'''


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    endpoint, pid = sandbox.start(tmp_path_factory.mktemp("moto") / "moto.log")
    yield endpoint
    sandbox.stop(pid)


def dead_endpoint() -> str:
    return f"http://127.0.0.1:{sandbox.free_port()}"  # bound and released: nothing listens


def plant(root: Path, suffix: str, endpoint: str) -> Path:
    """A kept deployment of ``suffix`` in the sandbox at ``endpoint`` (no state, no resources)."""
    wd = StackWorkdir(root, suffix).create()
    wd.save_deployment(Deployment.started(suffix=suffix, target=Target.SANDBOX,
                                          region="us-east-1", run_id="earlier", config_file="",
                                          workdir=str(wd.path)).with_endpoint(endpoint)
                       .deployed(()))
    return wd.deployment_file


def deployer(root: Path, suffix: str, endpoint: str | None) -> Deployer:
    opts = Options(suffix=suffix, workdir_root=root, sandbox_endpoint=endpoint)
    return Deployer(opts, Progress(None, write=lambda line: None), _no_synth, run_id="t")


def _no_synth(cfg: StackConfig, outdir: Path) -> Path:
    raise AssertionError("nothing is synthesized here")


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(pytest_command(*args), cwd=project, env=pytest_env(),
                          capture_output=True, text=True, timeout=300)


def test_a_mistyped_endpoint_on_reuse_leaves_the_record_and_destroy_still_works(
        tmp_path: Path, live: str) -> None:
    """The issue's story: --reuse-stack S --sandbox-endpoint <mistyped> used to write the
    mistyped address into the record, after which --destroy-stack S could not reach it.
    Now the reuse fails naming the option, the record is unchanged, and the destroy works."""
    project = make_project(tmp_path, "", TESTS, "test_x.py")
    record = plant(project / ".stack-work", "mist1", live)
    before = record.read_bytes()
    mistyped = dead_endpoint()
    proc = run(project, "--reuse-stack", "mist1", "--sandbox-endpoint", mistyped)
    assert proc.returncode == pytest.ExitCode.TESTS_FAILED, proc.stdout + proc.stderr
    assert f"--sandbox-endpoint {mistyped} does not answer" in proc.stdout
    assert record.read_bytes() == before
    proc = run(project, "--destroy-stack", "mist1")
    assert proc.returncode == pytest.ExitCode.OK, proc.stdout + proc.stderr
    assert "destroyed suffix mist1" in proc.stdout
    done = StackWorkdir(project / ".stack-work", "mist1").deployment()
    assert done is not None and done.status is Status.DESTROYED and done.endpoint == live


def test_destroy_uses_the_given_endpoint_once_it_answers(tmp_path: Path, live: str) -> None:
    """The sandbox moved: --destroy-stack S --sandbox-endpoint NEW destroys through NEW and
    records NEW (the error's own advice now works)."""
    plant(tmp_path, "moved1", dead_endpoint())
    deployer(tmp_path, "moved1", live).destroy()
    record = StackWorkdir(tmp_path, "moved1").deployment()
    assert record is not None and record.status is Status.DESTROYED and record.endpoint == live


def test_destroy_with_an_endpoint_that_does_not_answer_changes_nothing(tmp_path: Path,
                                                                        live: str) -> None:
    """A dead --sandbox-endpoint on destroy: an error naming the option and the record it
    left alone, and that record byte-identical (still naming the endpoint that works)."""
    record = plant(tmp_path, "keep1", live)
    before = record.read_bytes()
    wrong = dead_endpoint()
    started = time.monotonic()
    with pytest.raises(DestroyError, match=f"--sandbox-endpoint {wrong} does not answer.*"
                                           "is unchanged"):
        deployer(tmp_path, "keep1", wrong).destroy()
    assert time.monotonic() - started < preflight.ANSWER_TIMEOUT + 1
    assert record.read_bytes() == before


def test_deploy_refuses_a_server_without_managed_policies(tmp_path: Path) -> None:
    """A --sandbox-endpoint server started without MOTO_IAM_LOAD_MANAGED_POLICIES fails in
    the preflight, in seconds and before any workdir exists, saying how to start it; a dead
    one fails within the stated answer bound."""
    env = {k: v for k, v in os.environ.items() if k != "MOTO_IAM_LOAD_MANAGED_POLICIES"}
    port = sandbox.free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", sandbox.HOST, "-p",
                             str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    endpoint = f"http://{sandbox.HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while not sandbox.is_up(endpoint, timeout=1) and time.monotonic() < deadline:
            time.sleep(0.2)
        root = tmp_path / "work"
        d = deployer(root, "plain1", endpoint)
        started = time.monotonic()
        with pytest.raises(DeployError, match="has no AWS managed IAM policies.*"
                                              "MOTO_IAM_LOAD_MANAGED_POLICIES=true"):
            d.deploy(planned_config(d.opts))
        assert time.monotonic() - started < 10
        assert not root.exists()
        d = deployer(root, "plain1", dead_endpoint())
        started = time.monotonic()
        with pytest.raises(DeployError, match="--sandbox-endpoint .* does not answer"):
            d.deploy(planned_config(d.opts))
        assert time.monotonic() - started < preflight.ANSWER_TIMEOUT + 5
        assert not root.exists()
    finally:
        sandbox.stop(proc.pid)
