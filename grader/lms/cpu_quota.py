"""How many CPUs this process may really use: the cgroup's CPU quota, not the machine's core count.

Gradescope's default container has 0.5 of a CPU on a many-core host: ``os.cpu_count()`` says the host's
cores, and two grading workers there would only fight over half a CPU. cgroup v2 states the quota in
``cpu.max`` (``"50000 100000"``, or ``"max 100000"`` for none); v1 in ``cpu.cfs_quota_us`` (-1 for none)
and ``cpu.cfs_period_us``.
"""

from __future__ import annotations

import os
from pathlib import Path

_V2 = "cpu.max"
_V1 = (("cpu", "cpu.cfs_quota_us", "cpu.cfs_period_us"), ("cpu,cpuacct", "cpu.cfs_quota_us", "cpu.cfs_period_us"))


def cpu_quota(root: Path = Path("/sys/fs/cgroup"), own: str | None = None) -> float | None:
    """CPUs the quota allows (0.5, 2.0, ...), or None when there is no quota or it cannot be read.

    ``own``: this process's cgroup path (read from /proc/self/cgroup when None); the quota is looked up
    there and, for a container whose view is its own root, at the hierarchy's root.
    """
    paths = own_paths() if own is None else {"v2": own, "v1": own}
    for folder in dict.fromkeys((root / paths.get("v2", "/").lstrip("/"), root)):
        quota = _read_v2(folder / _V2)
        if quota is not None:
            return quota
    for controller, quota_name, period_name in _V1:
        base = root / controller
        for folder in dict.fromkeys((base / paths.get("v1", "/").lstrip("/"), base)):
            quota = _read_v1(folder / quota_name, folder / period_name)
            if quota is not None:
                return quota
    return None


def default_jobs(root: Path = Path("/sys/fs/cgroup")) -> int:
    """Grading workers worth starting here: one where the quota is one CPU or less, else the CPUs it allows."""
    quota = cpu_quota(root)
    cores = os.cpu_count() or 1
    if quota is None:
        return max(1, min(cores, 2))
    return max(1, min(cores, int(quota)))


def own_paths() -> dict[str, str]:
    """This process's cgroup path in the v2 hierarchy and in v1's cpu controller, from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup") as handle:
            for line in handle:
                number, controllers, path = line.rstrip("\n").split(":", 2)
                if number == "0" and not controllers:
                    paths["v2"] = path
                elif "cpu" in controllers.split(","):
                    paths["v1"] = path
    except (OSError, ValueError):
        pass
    return paths


def _read_v2(path: Path) -> float | None:
    try:
        quota, period = path.read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def _read_v1(quota_path: Path, period_path: Path) -> float | None:
    try:
        quota, period = int(quota_path.read_text()), int(period_path.read_text())
    except (OSError, ValueError):
        return None
    return None if quota <= 0 or period <= 0 else quota / period
