"""A worker slot: the identity every child of one zygote runs under, distinct from every other slot's.

The pool reserves one uid and one memory cgroup per slot for its whole life, so two children running at
the same time never share a uid (one cannot signal, renice or prlimit the other) nor a memory account;
a zygote passes its slot to each child it forks, and ``policy`` turns a run order into the sandbox's
policy for that child.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.runner import sandbox, wire

SCRATCH_BYTES = 64 << 20
"""The child's scratch quota: enough for any plot or temporary file an exercise writes."""
SCRATCH_FILES = 1000


@dataclass(frozen=True)
class Slot:
    """What is fixed for every child of one zygote."""

    uid: int
    """The unprivileged uid (and gid) its children drop to."""
    cgroup: str = ""
    """The memory cgroup its children join; '' where there is none."""

    def policy(self, order: wire.RunOrder) -> sandbox.Policy:
        return sandbox.Policy(
            readable=order.readable,
            scratch=order.scratch,
            memory_bytes=order.memory_mb << 20,
            cpu_seconds=order.cpu_seconds,
            uid=self.uid,
            cgroup=self.cgroup or None,
            scratch_bytes=SCRATCH_BYTES,
            scratch_files=SCRATCH_FILES,
        )

    def arguments(self) -> list[str]:
        """The zygote's command-line arguments that carry this slot."""
        return ["--uid", str(self.uid), "--cgroup", self.cgroup]
