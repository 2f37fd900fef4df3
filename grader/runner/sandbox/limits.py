"""The rlimits layer: memory, CPU time, file size, descriptors, no core files.

``RLIMIT_AS`` = what the child already maps (it inherited ≈1 GB of torch; a
fixed cap below that breaks torch) + the policy's allowance; ``RLIMIT_CPU``,
``RLIMIT_FSIZE``, ``RLIMIT_NOFILE``, no core files. ``RLIMIT_NPROC`` is *not*
used: it does not bind root, and after the drop it would count every
sandboxed child's threads under the one shared uid. CPU time does not stop
``time.sleep``: the caller keeps a wall clock.
"""

from __future__ import annotations

from grader.runner.sandbox.policy import Policy

try:
    import resource
except ImportError:  # Windows: no rlimits; the grader does not fork there anyway
    resource = None  # type: ignore[assignment]

NOFILE = 256


def apply_rlimits(policy: Policy, status: dict[str, str], memory_limit: bool) -> None:
    """Lower this process's limits to the policy's; ``status`` is /proc/self/status (for VmSize), may be empty."""
    if resource is None:
        return
    if memory_limit and "VmSize" in status:
        mapped = int(status["VmSize"].split()[0]) * 1024  # "1234567 kB"
        lower(resource.RLIMIT_AS, mapped + policy.memory_bytes)
    cpu = max(1, int(policy.cpu_seconds))
    lower(resource.RLIMIT_CPU, cpu, cpu + 1)  # SIGXCPU at the soft limit, SIGKILL one second later
    lower(resource.RLIMIT_FSIZE, policy.max_file_bytes)
    lower(resource.RLIMIT_NOFILE, NOFILE)
    lower(resource.RLIMIT_CORE, 0)


def lower(which: int, soft: int, hard: int | None = None) -> None:
    """Set a limit, never above the current hard limit (so this also works unprivileged)."""
    _, current_hard = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(which, (soft, hard))
