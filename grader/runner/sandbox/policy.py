"""What a sandboxed child may do, what this machine can enforce, and what prepare() hands to enter().

Plain data only: no system calls here. The paths every child may read besides
the policy's own live here too, since both Landlock and the mount views need them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from grader.errors import GraderError


class SandboxError(GraderError, RuntimeError):
    """A layer that prepare() found available could not be applied: the run must fail."""


@dataclass(frozen=True)
class Policy:
    """What a sandboxed child may do."""

    readable: tuple[str, ...]  # extra read-only paths: the submission's directory or file
    scratch: str  # the one writable directory: cwd, TMPDIR and HOME
    memory_bytes: int  # address space allowed on top of what the child maps when enter() runs
    cpu_seconds: int  # RLIMIT_CPU (a wall-clock kill is the caller's job)
    max_file_bytes: int = 64 << 20  # RLIMIT_FSIZE
    # uid and gid to drop to when running as root: one per concurrent child (sandbox.uids.reserve),
    # so that no child shares a uid with another and the kernel's same-uid permissions reach no one.
    uid: int = 65534
    cgroup: str | None = None  # memory cgroup directory to join (sandbox.memory.MemoryCgroups), or none
    scratch_bytes: int = 64 << 20  # size of the private tmpfs on scratch (root with CAP_SYS_ADMIN)
    scratch_files: int = 1000  # files and directories scratch may hold

    @property
    def unprivileged_uid(self) -> int:
        """The former name of :attr:`uid`."""
        return self.uid


@dataclass(frozen=True)
class Layers:
    """Which isolation layers this machine offers, and one sentence for each one it does not."""

    landlock: bool
    landlock_abi: int
    landlock_net: bool  # TCP bind/connect denied (ABI >= 4)
    landlock_scope: bool  # signals and abstract unix sockets confined to the sandbox (ABI >= 6)
    seccomp: bool
    setuid: bool  # drop to an unprivileged uid with no capabilities
    private_mounts: bool  # may make a private mount namespace (used only when a needed path is hidden)
    memory_limit: bool  # RLIMIT_AS is enforced
    missing: tuple[str, ...]
    memory_cgroup: bool = False  # a memory cgroup can be made per worker slot; it counts every page charged
    scratch_quota: bool = False  # scratch is a private tmpfs with a size and file-count cap
    uid_per_child: bool = False  # concurrent children can run as distinct uids (sandbox.uids)
    environment: bool = True  # the child's environment is replaced by sandbox.environment.clean

    def summary(self) -> str:
        """One line: the layers present, then every missing-layer sentence."""
        on = [name for name in LAYER_NAMES if getattr(self, name)]
        text = "sandbox: " + (", ".join(on) if on else "rlimits only")
        return text + "".join(f"; {reason}" for reason in self.missing)


@dataclass(frozen=True)
class Prepared:
    """Everything enter() needs that can be computed once, before forking."""

    layers: Layers
    arch: str
    seccomp_filter: bytes  # struct sock_filter[] in host byte order; b"" without seccomp
    system_paths: tuple[str, ...]  # always readable (resolved, deduplicated; "/proc/self" literal)
    cap_last_cap: int
    can_drop_bounding: bool  # CAP_SETPCAP present: the bounding set can be emptied
    # {directory it cannot search: system paths under it} (mounts.plan_views) for any uid and gid that own
    # none of the paths and ancestors planned: the plan then reads "other" mode bits only, whatever the uid.
    system_masks: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # The uids and gids owning those paths and ancestors: a child dropping to one of them is planned afresh.
    system_owners: tuple[frozenset[int], frozenset[int]] = (frozenset(), frozenset())
    # libc with its functions resolved in the zygote, so a child does not pay for dlsym (≈0.4 ms).
    libc: object = field(default=None, repr=False, compare=False)


def describe(prepared: Prepared) -> dict:
    """The layers as plain JSON-able data, for the grader to tell the user what protects them."""
    return {**asdict(prepared.layers), "missing": list(prepared.layers.missing), "arch": prepared.arch,
            "summary": prepared.layers.summary()}


DEFAULT_UID = Policy.uid  # 65534, nobody/nogroup
LAYER_NAMES = ("landlock", "seccomp", "setuid", "memory_limit", "memory_cgroup", "scratch_quota", "uid_per_child",
               "environment")

# Readable by every child besides the interpreter's own directories (resolved in prepare()).
# /proc/cpuinfo, /proc/meminfo and /sys/devices/system/cpu let torch and glibc size thread pools.
SYSTEM_PATHS = ("/usr", "/lib", "/lib64", "/bin", "/etc", "/dev/urandom", "/proc/cpuinfo", "/proc/meminfo",
                "/sys/devices/system/cpu")
PROC_SELF = "/proc/self"  # opened in the child itself, so it names the child's own /proc entry
DEV_NULL = "/dev/null"
