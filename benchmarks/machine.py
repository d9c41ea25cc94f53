"""What a benchmark ran on, recorded with its figures: results measured on different CPUs differ."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else the platform's processor or architecture."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def describe_machine() -> dict:
    """{"cpu": model name, "cores": logical CPUs}: the machine a benchmark's figures belong to."""
    return {"cpu": cpu_model(), "cores": os.cpu_count()}
