"""Which machine a bench table came from, and how busy it was when the run started."""
from __future__ import annotations

import os
import platform
from pathlib import Path


def describe() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}, {os.cpu_count()} cores{', ' + model if model else ''}"


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())
