"""Whether a folder option (--stack-workdir, --evidence-dir) names a usable directory.

Checked while the options are parsed, without creating anything: a bad folder found later
surfaced once per test (every test's fixture failed on it) or as INTERNALERROR.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

FIX = "name another directory (it is created if missing)"


def directory_problem(path: Path) -> str | None:
    """None when ``path`` is a writable directory or can be created as one, else what is
    wrong and what to do (to follow "--option PATH: ")."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"is a symlink loop: point the link at a real directory or {FIX}"
        if exc.errno == errno.ENOENT and os.path.islink(path):
            return (f"is a symlink to {os.readlink(path)}, which does not exist: create that "
                    f"directory or {FIX}")
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
            return f"cannot be examined ({exc.strerror}): {FIX}"
        return _creatable(path)
    if not stat.S_ISDIR(st.st_mode):
        return f"is a file, not a directory: {FIX}"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"is not writable for this user: make it writable or {FIX}"
    return None


def _creatable(path: Path) -> str | None:
    """``path`` is missing: its nearest existing ancestor must be a writable directory."""
    for ancestor in path.parents:
        try:
            st = os.stat(ancestor)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return f"is under {ancestor}, a symlink loop: {FIX}"
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                continue
            return f"cannot be created: {ancestor} cannot be examined ({exc.strerror}): {FIX}"
        if not stat.S_ISDIR(st.st_mode):
            return f"is under {ancestor}, which is a file, not a directory: {FIX}"
        if not os.access(ancestor, os.W_OK | os.X_OK):
            return (f"cannot be created: {ancestor} is not writable for this user; make it "
                    f"writable or {FIX}")
        return None
    return f"has no existing ancestor directory: {FIX}"  # pragma: no cover - "/" exists
