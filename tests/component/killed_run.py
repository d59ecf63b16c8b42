"""A runner that dies mid-apply: the child pytest and the terraform it started, SIGKILLed.

The harness starts terraform in its own session (so Ctrl-C reaches it once), so killing the
child's process group leaves terraform running; a dead CI runner takes both. The terraform
processes are found by their working directory under the child's project (Linux /proc).
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


def processes_in(folder: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if cwd == folder or folder in cwd.parents:
            found.append(int(entry.name))
    return found


def kill_when(proc: subprocess.Popen[str], project: Path, ready, timeout: float = 300) -> None:
    """SIGKILL the child session and every process working under ``project`` once ``ready()``."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"the run ended before the kill point: {out}\n{err}")
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    for pid in processes_in(project):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.communicate()
