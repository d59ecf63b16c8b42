"""What the harness's processes do on SIGTERM, SIGHUP and SIGINT.

``bin/main-job``'s timeout signals the whole process group: the xdist controller and every
worker. Terraform runs in its own session (harness.terraform), so it hears nothing itself.

  owner   SIGTERM/SIGHUP become KeyboardInterrupt: pytest ends in order and the owner's
          sessionfinish destroys (Ctrl-C already is one).
  worker  SIGTERM/SIGHUP/SIGINT become KeyboardInterrupt in the worker: the running terraform
          call is stopped (SIGINT, a grace period, SIGTERM: harness.terraform.stop_child), the
          deployment is recorded as failed, and the worker ends; the owner destroys.
  destroy a second signal during the destroy is noted with a message and acted on after it.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

OWNER_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
WORKER_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
DEFERRED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

Handlers = dict[signal.Signals, Any]


def to_interrupt(signum: int, frame: FrameType | None) -> None:
    # pytest turns KeyboardInterrupt into an orderly end: sessionfinish runs, so we destroy.
    raise KeyboardInterrupt(signal.Signals(signum).name)


def install(signals: tuple[signal.Signals, ...]) -> Handlers:
    """Makes each of ``signals`` a KeyboardInterrupt; returns the previous handlers (none off
    the main thread, where Python cannot set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {s: signal.signal(s, to_interrupt) for s in signals}


def restore(previous: Handlers) -> None:
    for s, handler in previous.items():
        if handler is not None:
            signal.signal(s, handler)


@contextlib.contextmanager
def deferred(say: Callable[[str], None], doing: str = "destroy",
             reraise: bool = True) -> Iterator[list[int]]:
    """Work that must not be cut short (the destroy; stopping terraform): a signal meanwhile
    is noted with a message and, with ``reraise``, raised as KeyboardInterrupt afterwards;
    without, the caller reads the signals received from the yielded list."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def note(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        say(f"{signal.Signals(signum).name} received during {doing}: finishing the {doing} "
            "first, then exiting")

    previous = {s: signal.signal(s, note) for s in DEFERRED_SIGNALS}
    try:
        yield received
    finally:
        restore(previous)
    if received and reraise:
        raise KeyboardInterrupt(f"{signal.Signals(received[0]).name} during {doing}")
