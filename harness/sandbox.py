"""The sandbox account: a moto server on a free loopback port, started and stopped by us.

It runs as its own process in its own session, with its pid in the workdir: a run that is
killed leaves the server (and so the deployment) alive, and ``--destroy-stack`` can still
destroy it and then stop the server. Only loopback addresses are ever used.
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from stack.config import loopback_problem

HOST = "127.0.0.1"


class SandboxError(RuntimeError):
    pass


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def is_up(endpoint: str, timeout: float = 2.0) -> bool:
    problem = loopback_problem(endpoint)
    if problem:
        raise SandboxError(f"sandbox endpoint {endpoint!r}: {problem}")
    try:
        # moto dashboard: cheap whatever is deployed (data.json serializes every model).
        with urllib.request.urlopen(endpoint.rstrip("/") + "/moto-api/", timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (OSError, ValueError, http.client.HTTPException):  # refused, reset, garbled, 5xx
        return False


def start(log_file: Path, port: int | None = None, wait: float = 60.0) -> tuple[str, int]:
    """Start ``python -m moto.server`` on 127.0.0.1; return (endpoint, pid) once it answers."""
    port = port or free_port()
    endpoint = f"http://{HOST}:{port}"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # Real accounts have AWS's managed IAM policies (e.g. AmazonSSMManagedInstanceCore);
    # moto only loads them when asked.
    env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    with open(log_file, "a") as log:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SandboxError(f"the moto server exited with {proc.returncode} before answering; "
                               f"see {log_file} (is moto[server]==5.2.1 installed? "
                               "bin/setup, which installs the pins in pyproject.toml)")
        if is_up(endpoint, timeout=1):
            return endpoint, proc.pid
        time.sleep(0.2)
    stop(proc.pid)
    raise SandboxError(f"the moto server on {endpoint} did not answer within {wait:.0f}s; see {log_file}")


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own exited child) is not alive.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def is_moto(pid: int) -> bool:
    """Guards against signalling a recycled pid that is no longer our server."""
    try:
        return b"moto.server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def stop(pid: int | None, wait: float = 15.0) -> bool:
    """Stop the server we started (by its pid only). True if it is gone."""
    if not pid or not alive(pid) or not is_moto(pid):
        return True
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if not alive(pid):
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return True
