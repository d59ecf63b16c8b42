"""Progress lines for the long steps (synth, init, apply, destroy) and their timings.

A step prints when it starts, a heartbeat every ``interval`` seconds while it runs (with
whatever the step can tell, e.g. resources created so far), and how long it took. Lines go
to the terminal through ``write`` and to the workdir's progress.log; timings to
timings.jsonl so the session's summary can show every step, whichever process ran it.
"""
from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Any
from collections.abc import Callable, Iterator

from harness.workdir import StackWorkdir

Writer = Callable[[str], None]


def stderr_writer(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class Progress:
    def __init__(self, workdir: StackWorkdir | None, write: Writer = stderr_writer,
                 interval: float = 15.0):
        self.workdir = workdir
        self._write = write
        self.interval = interval
        self._lock = threading.Lock()

    def say(self, message: str) -> None:
        line = f"[stack {time.strftime('%H:%M:%S')}] {message}"
        with self._lock:
            try:
                self._write(line)
            except Exception:  # a closed terminal must not break a destroy
                pass
            if self.workdir is not None and self.workdir.path.is_dir():
                with open(self.workdir.progress_file, "a") as fh:
                    fh.write(line + "\n")

    @contextlib.contextmanager
    def step(self, name: str, detail: Callable[[], str] | None = None) -> Iterator[None]:
        """Time ``name``; while it runs, say every ``interval`` s how long and ``detail()``."""
        started = time.monotonic()
        self.say(f"{name}: started")
        done = threading.Event()

        def heartbeat() -> None:
            while not done.wait(self.interval):
                extra = ""
                if detail is not None:
                    with contextlib.suppress(Exception):
                        extra = detail()
                self.say(f"{name}: running {time.monotonic() - started:.0f}s"
                         + (f" ({extra})" if extra else ""))

        thread = threading.Thread(target=heartbeat, name=f"progress-{name}", daemon=True)
        thread.start()
        ok = False
        try:
            yield
            ok = True
        finally:
            done.set()
            thread.join(timeout=1)
            seconds = time.monotonic() - started
            self.say(f"{name}: {'done' if ok else 'FAILED'} in {seconds:.1f}s")
            if self.workdir is not None and self.workdir.path.is_dir():
                self.workdir.record_timing(name, seconds, ok)


def timing_table(timings: list[dict[str, Any]]) -> list[str]:
    """One line per step, in the order they ran, plus the total."""
    if not timings:
        return []
    width = max(len(t["step"]) for t in timings)
    lines = [f"  {t['step']:<{width}}  {t['seconds']:>7.1f}s  {'ok' if t['ok'] else 'FAILED'}"
             for t in timings]
    lines.append(f"  {'total':<{width}}  {sum(t['seconds'] for t in timings):>7.1f}s")
    return lines
