"""The run tags' expiry: ``--stack-ttl`` parsed and bounded, ``ExpiresAt`` computed once per run.

The xdist controller computes the expiry while options are parsed and hands it to every
worker inside Options, so all processes of one run tag the same time.
"""
from __future__ import annotations

import datetime
import re

from stack.config.sections import EXPIRES_AT_FORMAT

DEFAULT_TTL = "6h"
# At least the longest measured cycle with room for a slow account; at most three days, so
# a stack kept over a long weekend still counts as abandoned by Tuesday's sweep.
MIN_TTL_HOURS, MAX_TTL_HOURS = 1, 72
MIN_TTL_TEXT, MAX_TTL_TEXT = f"{MIN_TTL_HOURS}h", f"{MAX_TTL_HOURS}h"
_TTL = re.compile(r"(?P<number>[1-9][0-9]{0,4})(?P<unit>[mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class TtlError(ValueError):
    """The message names the setting, the rule and an example."""


def parse_ttl(text: str) -> datetime.timedelta:
    match = _TTL.fullmatch(text.strip())
    if match is None:
        raise TtlError(f"--stack-ttl {text!r}: a whole number and a unit m, h or d, e.g. 90m, "
                       "6h, 2d")
    ttl = datetime.timedelta(**{_UNITS[match["unit"]]: int(match["number"])})
    if not (datetime.timedelta(hours=MIN_TTL_HOURS) <= ttl
            <= datetime.timedelta(hours=MAX_TTL_HOURS)):
        raise TtlError(f"--stack-ttl {text}: between {MIN_TTL_TEXT} and {MAX_TTL_TEXT} "
                       "(shorter would let the expiry sweep destroy a stack still under test; "
                       "longer leaves an abandoned one running for days)")
    return ttl


def expires_at(ttl: datetime.timedelta, now: datetime.datetime | None = None) -> str:
    """UTC, to the second, e.g. 2026-11-30T01:00:00Z (the ExpiresAt tag's format)."""
    start = now or datetime.datetime.now(datetime.UTC)
    return (start.astimezone(datetime.UTC) + ttl).strftime(EXPIRES_AT_FORMAT)


def is_expired(expires: str, now: datetime.datetime | None = None) -> bool:
    """Whether an ExpiresAt value is past; a value that is not one is never expired."""
    try:
        when = datetime.datetime.strptime(expires, EXPIRES_AT_FORMAT).replace(tzinfo=datetime.UTC)
    except ValueError:
        return False
    return when <= (now or datetime.datetime.now(datetime.UTC))
