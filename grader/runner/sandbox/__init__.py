"""Confine a forked child before it runs a student's code (SPEC §5).

The zygote (a process that imported torch and nothing of the answers) calls
:func:`prepare` once; every child it forks calls :func:`enter` before it
touches the student's file. ``enter`` applies, irreversibly and in this order:

1. **rlimits** - ``RLIMIT_AS`` = what the child already maps (it inherited
   ≈1 GB of torch; a fixed cap below that breaks torch) + the policy's
   allowance; ``RLIMIT_CPU``, ``RLIMIT_FSIZE``, ``RLIMIT_NOFILE``, no core
   files. ``RLIMIT_NPROC`` is *not* used: it does not bind root, and after the
   drop it would count every sandboxed child's threads under the one shared
   uid. CPU time does not stop ``time.sleep``: the caller keeps a wall clock.
2. **scratch** - chowned to the unprivileged uid, made the cwd, ``TMPDIR``
   and ``HOME`` (torch's import and ``tempfile`` want a writable TMPDIR).
3. **private mount namespace, only when needed** - if a path the child must
   read lies under a directory the unprivileged uid cannot search (here the
   interpreter lives in ``/root/.pyenv`` and ``/root`` is 0700), that
   directory is covered with an empty tmpfs *in the child's own mount
   namespace* and just the needed paths are bind-mounted back. Nothing on
   the host changes, and the rest of the covered directory vanishes.
4. **no_new_privs + Landlock** - read-only: the interpreter's prefixes and
   site-packages, ``/usr``, ``/etc``, ``/proc/self``, ``/dev/null|urandom``
   and the policy's readable paths; read-write: scratch; nothing else, so
   ``solutions/``, other submissions and the output directory cannot be read.
   Landlock restricts root too. ABI ≥ 4 also denies every TCP bind/connect
   (Landlock does not cover UDP: seccomp below does); ABI ≥ 6 scopes signals
   and abstract unix sockets to the child's own domain.
5. **privilege drop (as root)** - no supplementary groups, an empty
   capability bounding set, uid/gid 65534. Going from uid 0 to non-zero
   clears the permitted and effective sets; ``/proc/self/status`` is read
   back to prove it. ISOLATION.md: root with capabilities can remount, unmount
   or unshare its way around every other layer - "drop capabilities, always".
6. **seccomp** (hand-assembled classic BPF, built once in :func:`prepare`:
   building a filter in the child may spawn a compiler lookup that Landlock
   then breaks) - EPERM for creating processes (fork, vfork, clone without
   ``CLONE_THREAD``; clone3 answers ENOSYS so glibc falls back to clone and
   threads keep working), sockets other than AF_UNIX, ptrace and
   process_vm_*, mounts, namespaces, io_uring, bpf, perf, modules, kexec,
   keyrings, userfaultfd, personality, reboot, swap, handle-based opens,
   pidfd_getfd, and TIOCSTI/TIOCLINUX terminal injection; a foreign
   architecture (i386, x32) is refused. ISOLATION.md: rlimits do not stop
   root, and a ``setsid()`` grandchild survives ``killpg`` and holds pipes
   open - only a fork ban (or a PID namespace) prevents leftovers.

A layer this machine lacks is skipped and named in ``Layers.missing``; a
layer :func:`prepare` found available that then fails in :func:`enter`
raises :class:`SandboxError` - never a silent half-sandbox.

What ``enter`` does not do: descriptors opened before it stay usable
(Landlock checks at open time), so the caller closes everything the child
must not hold; modules not imported before it must be importable from the
readable paths (the course folder is not one of them).
"""

from __future__ import annotations

import ctypes
import os
import platform
import site
import stat
import struct
import sys
import sysconfig
from dataclasses import asdict, dataclass, field

from grader.errors import GraderError

try:
    import resource
except ImportError:  # Windows: no rlimits; the grader does not fork there anyway
    resource = None  # type: ignore[assignment]

__all__ = ["Layers", "Policy", "Prepared", "SandboxError", "describe", "enter", "prepare"]


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
    unprivileged_uid: int = 65534  # uid and gid to drop to when running as root


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

    def summary(self) -> str:
        on = [name for name in ("landlock", "seccomp", "setuid", "memory_limit") if getattr(self, name)]
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
    # For the default uid: {directory it cannot search: system paths under it}, see _plan_views.
    system_masks: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # libc with its functions resolved in the zygote, so a child does not pay for dlsym (≈0.4 ms).
    libc: object = field(default=None, repr=False, compare=False)


def describe(prepared: Prepared) -> dict:
    """The layers as plain JSON-able data, for the grader to tell the user what protects them."""
    return {**asdict(prepared.layers), "missing": list(prepared.layers.missing), "arch": prepared.arch,
            "summary": prepared.layers.summary()}


# --------------------------------------------------------------------------- constants

_LINUX = sys.platform.startswith("linux")

# prctl(2)
_PR_GET_PDEATHSIG = 2
_PR_SET_PDEATHSIG = 1
_PR_SET_SECCOMP = 22
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_MODE_FILTER = 2
_SECCOMP_GET_ACTION_AVAIL = 2

# capabilities(7) bit numbers
_CAP_CHOWN, _CAP_SETGID, _CAP_SETUID, _CAP_SETPCAP, _CAP_SYS_ADMIN = 0, 6, 7, 8, 21

# mount(2), unshare(2)
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 2, 4, 8
_MS_BIND, _MS_REC, _MS_PRIVATE = 4096, 16384, 1 << 18
_CLONE_NEWNS = 0x00020000
_CLONE_THREAD = 0x00010000
# Every namespace flag clone() accepts; a thread must not create namespaces either.
_CLONE_NS_MASK = 0x7E020000

# Landlock (linux/landlock.h); syscall numbers are the same on x86_64 and aarch64.
_SYS_LANDLOCK_CREATE_RULESET, _SYS_LANDLOCK_ADD_RULE, _SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_REMOVE_DIR, _FS_REMOVE_FILE, _FS_MAKE_CHAR, _FS_MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
_FS_MAKE_REG, _FS_MAKE_SOCK, _FS_MAKE_FIFO, _FS_MAKE_BLOCK = 1 << 8, 1 << 9, 1 << 10, 1 << 11
_FS_MAKE_SYM, _FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 12, 1 << 13, 1 << 14, 1 << 15
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1
_FS_READ = _FS_READ_FILE | _FS_READ_DIR
# No EXECUTE anywhere: the child has no business running programs (and cannot fork anyway).
_FS_SCRATCH = (_FS_WRITE_FILE | _FS_READ_FILE | _FS_READ_DIR | _FS_REMOVE_DIR | _FS_REMOVE_FILE | _FS_MAKE_DIR
               | _FS_MAKE_REG | _FS_MAKE_SOCK | _FS_MAKE_FIFO | _FS_MAKE_SYM | _FS_REFER | _FS_TRUNCATE)
# Only these rights apply to a rule on a non-directory (the kernel rejects others with EINVAL).
_FS_FILE_ONLY = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
# open(os.devnull, "w") truncates, so /dev/null needs TRUNCATE as well as write.
_FS_DEVNULL = _FS_READ_FILE | _FS_WRITE_FILE | _FS_TRUNCATE

# Classic BPF opcodes and seccomp return values (linux/filter.h, linux/seccomp.h).
_BPF_LD_W_ABS = 0x20
_BPF_JEQ, _BPF_JGE, _BPF_JSET = 0x15, 0x35, 0x45
_BPF_RET_K = 0x06
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000
_EPERM, _ENOSYS = 1, 38
_AF_UNIX = 1
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C
_X32_SYSCALL_BIT = 0x40000000
# struct seccomp_data: int nr; u32 arch; u64 ip; u64 args[6] (low word first: little-endian only)
_OFF_NR, _OFF_ARCH = 0, 4


def _off_arg(index: int) -> int:
    return 16 + 8 * index


# Per architecture: audit arch, the syscalls whose arguments we inspect, and the flat deny list.
_ARCHES = {
    "x86_64": {
        "audit": 0xC000003E, "x32": True, "seccomp": 317,
        "clone": 56, "clone3": 435, "socket": 41, "ioctl": 16,
        "deny": {
            "fork": 57, "vfork": 58, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
            "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "unshare": 272, "setns": 308,
            "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "bpf": 321,
            "perf_event_open": 298, "kexec_load": 246, "kexec_file_load": 320, "init_module": 175,
            "finit_module": 313, "delete_module": 176, "keyctl": 250, "add_key": 248, "request_key": 249,
            "userfaultfd": 323, "personality": 135, "reboot": 169, "swapon": 167, "swapoff": 168,
            "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
            "fspick": 433, "mount_setattr": 442, "open_tree_attr": 467, "name_to_handle_at": 303,
            "open_by_handle_at": 304, "pidfd_getfd": 438, "process_madvise": 440,
        },
    },
    "aarch64": {  # asm-generic table: there is no fork or vfork syscall, clone does both
        "audit": 0xC00000B7, "x32": False, "seccomp": 277,
        "clone": 220, "clone3": 435, "socket": 198, "ioctl": 29,
        "deny": {
            "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
            "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "unshare": 97, "setns": 268,
            "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "bpf": 280,
            "perf_event_open": 241, "kexec_load": 104, "kexec_file_load": 294, "init_module": 105,
            "finit_module": 273, "delete_module": 106, "keyctl": 219, "add_key": 217, "request_key": 218,
            "userfaultfd": 282, "personality": 92, "reboot": 142, "swapon": 224, "swapoff": 225,
            "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
            "fspick": 433, "mount_setattr": 442, "open_tree_attr": 467, "name_to_handle_at": 264,
            "open_by_handle_at": 265, "pidfd_getfd": 438, "process_madvise": 440,
        },
    },
}
_ARCH_ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}

# Readable by every child besides the interpreter's own directories (resolved in prepare()).
# /proc/cpuinfo, /proc/meminfo and /sys/devices/system/cpu let torch and glibc size thread pools.
_SYSTEM_PATHS = ("/usr", "/lib", "/lib64", "/bin", "/etc", "/dev/urandom", "/proc/cpuinfo", "/proc/meminfo",
                 "/sys/devices/system/cpu")
_PROC_SELF = "/proc/self"  # opened in the child itself, so it names the child's own /proc entry
_DEV_NULL = "/dev/null"
_NOFILE = 256
_DEFAULT_UID = Policy.unprivileged_uid  # 65534, nobody/nogroup


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel struct is __attribute__((packed)): 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


# --------------------------------------------------------------------------- prepare


def prepare() -> Prepared:
    """Probe what this kernel offers and build the seccomp program. Call once, before forking.

    Never raises for a missing layer: the reason lands in ``layers.missing``.
    """
    missing: list[str] = []
    arch = _ARCH_ALIASES.get(platform.machine().lower(), platform.machine())
    system_paths = _system_paths()
    if not _LINUX:
        missing.append(f"{sys.platform} is not Linux: no Landlock, seccomp, privilege drop or mount "
                       "namespace, only rlimits and a private working directory")
        if resource is None or sys.platform == "darwin":
            missing.append(f"{sys.platform} does not enforce RLIMIT_AS: no memory cap")
        layers = Layers(False, 0, False, False, False, False, False,
                        resource is not None and sys.platform != "darwin", tuple(missing))
        return Prepared(layers, arch, b"", system_paths, 0, False)

    native = arch in _ARCHES and struct.calcsize("P") == 8 and sys.byteorder == "little"
    libc = _libc()
    caps = _cap_set(_read_status().get("CapEff", "0"))

    abi = _landlock_abi(libc) if native else 0
    if not native:
        missing.append(f"architecture {arch} is not supported by this sandbox: no Landlock, no seccomp")
    elif abi <= 0:
        missing.append("the kernel offers no Landlock (disabled or older than 5.13): files are not confined")
    if 0 < abi < 4:
        missing.append(f"Landlock ABI {abi} < 4: TCP is left to seccomp")
    if 0 < abi < 6:
        missing.append(f"Landlock ABI {abi} < 6: signals are confined by the uid drop only")

    seccomp_ok = native and _seccomp_available(libc, _ARCHES[arch]["seccomp"])
    if native and not seccomp_ok:
        missing.append("the kernel offers no seccomp filters: the child could fork, open sockets and ptrace")
    bpf = _build_filter(arch) if seccomp_ok else b""

    private_mounts = os.geteuid() == 0 and _CAP_SYS_ADMIN in caps
    setuid, why = _can_drop(caps, private_mounts, system_paths)
    if not setuid:
        missing.append(why)

    cap_last = _read_int("/proc/sys/kernel/cap_last_cap", 63)
    layers = Layers(landlock=abi > 0, landlock_abi=max(abi, 0), landlock_net=abi >= 4, landlock_scope=abi >= 6,
                    seccomp=seccomp_ok, setuid=setuid, private_mounts=private_mounts, memory_limit=True,
                    missing=tuple(missing))
    masks = _plan_views(system_paths, _DEFAULT_UID, _DEFAULT_UID)[0] if setuid else {}
    return Prepared(layers, arch, bpf, system_paths, cap_last, setuid and _CAP_SETPCAP in caps,
                    tuple((cover, tuple(paths)) for cover, paths in masks.items()), libc)


def _system_paths() -> tuple[str, ...]:
    """The interpreter's prefixes and site-packages plus _SYSTEM_PATHS: resolved, existing, deduplicated."""
    candidates = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]
    try:
        scheme = sysconfig.get_paths()
        candidates += [scheme.get(key, "") for key in ("stdlib", "platstdlib", "purelib", "platlib")]
        candidates += site.getsitepackages()
    except Exception:  # noqa: BLE001 - an unreadable build config or an old site.py: the prefixes still count
        pass
    # Only package directories from sys.path: it may also hold the cwd or the course folder.
    candidates += [p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")]
    candidates += list(_SYSTEM_PATHS)
    resolved = {os.path.realpath(p) for p in candidates if p and os.path.exists(p)}
    resolved.discard("/")  # a rule on / would make Landlock pointless
    kept = sorted(p for p in resolved if not any(_beneath(p, q) for q in resolved if q != p))
    return (*kept, _DEV_NULL, _PROC_SELF)


def _can_drop(caps: set[int], private_mounts: bool, system_paths: tuple[str, ...]) -> tuple[bool, str]:
    if os.geteuid() != 0:
        return False, f"not running as root (uid {os.geteuid()}): the child keeps this uid"
    if not {_CAP_SETUID, _CAP_SETGID} <= caps:
        return False, "root without CAP_SETUID/CAP_SETGID: the child cannot drop to an unprivileged uid"
    if not _uid_mapped(_DEFAULT_UID):
        return False, "uid 65534 is not mapped in this user namespace: the child stays root"
    masks, unfixable = _plan_views(system_paths, _DEFAULT_UID, _DEFAULT_UID)
    if unfixable:
        return False, f"{unfixable[0]} is not readable by uid 65534: the child stays root"
    if masks and not private_mounts:
        return False, (f"the interpreter lies under {next(iter(masks))}, which uid 65534 cannot search, "
                       "and no mount namespace is available to expose it: the child stays root")
    return True, ""


def _landlock_abi(libc: ctypes.CDLL) -> int:
    abi = _syscall(libc, _SYS_LANDLOCK_CREATE_RULESET, None, 0, _LANDLOCK_CREATE_RULESET_VERSION)
    return abi if abi > 0 else 0


def _seccomp_available(libc: ctypes.CDLL, nr: int) -> bool:
    # SECCOMP_GET_ACTION_AVAIL answers 0 only if filters exist and know the action.
    for action in (_RET_KILL_PROCESS, _RET_ERRNO, _RET_ALLOW):
        value = ctypes.c_uint32(action)
        if _syscall(libc, nr, _SECCOMP_GET_ACTION_AVAIL, 0, ctypes.addressof(value)) != 0:
            return False
    return True


def _build_filter(arch: str) -> bytes:
    """Assemble the seccomp program: check the arch, special-case clone/socket/ioctl, deny a list, allow the rest."""
    table = _ARCHES[arch]
    code: list[tuple[int, int, str | None, str | None]] = []  # (opcode, k, jump-if-true, jump-if-false)
    labels: dict[str, int] = {}

    def op(opcode: int, k: int, jt: str | None = None, jf: str | None = None) -> None:
        code.append((opcode, k, jt, jf))

    def label(name: str) -> None:
        labels[name] = len(code)

    op(_BPF_LD_W_ABS, _OFF_ARCH)
    op(_BPF_JEQ, table["audit"], None, "kill")  # i386/arm32 compat calls have other numbers: refuse them
    op(_BPF_LD_W_ABS, _OFF_NR)
    if table["x32"]:
        op(_BPF_JGE, _X32_SYSCALL_BIT, "eperm", None)  # x32 ABI shares AUDIT_ARCH_X86_64
    op(_BPF_JEQ, table["clone"], "clone", None)
    op(_BPF_JEQ, table["clone3"], "enosys", None)  # its flags sit behind a pointer BPF cannot read
    op(_BPF_JEQ, table["socket"], "socket", None)
    op(_BPF_JEQ, table["ioctl"], "ioctl", None)
    for nr in sorted(set(table["deny"].values())):
        op(_BPF_JEQ, nr, "eperm", None)
    op(_BPF_RET_K, _RET_ALLOW)
    label("clone")  # a thread (CLONE_THREAD) may be made, a process may not, nor namespaces
    op(_BPF_LD_W_ABS, _off_arg(0))
    op(_BPF_JSET, _CLONE_NS_MASK, "eperm", None)
    op(_BPF_JSET, _CLONE_THREAD, "allow", "eperm")
    label("socket")  # AF_UNIX only: no network, no netlink, no packet sockets
    op(_BPF_LD_W_ABS, _off_arg(0))
    op(_BPF_JEQ, _AF_UNIX, "allow", "eperm")
    label("ioctl")  # pushing keystrokes into a terminal would escape through the user's shell
    op(_BPF_LD_W_ABS, _off_arg(1))
    op(_BPF_JEQ, _TIOCSTI, "eperm", None)
    op(_BPF_JEQ, _TIOCLINUX, "eperm", None)
    label("allow")
    op(_BPF_RET_K, _RET_ALLOW)
    label("eperm")
    op(_BPF_RET_K, _RET_ERRNO | _EPERM)
    label("enosys")
    op(_BPF_RET_K, _RET_ERRNO | _ENOSYS)
    label("kill")
    op(_BPF_RET_K, _RET_KILL_PROCESS)

    out = bytearray()
    for index, (opcode, k, jt, jf) in enumerate(code):
        offsets = [0 if target is None else labels[target] - index - 1 for target in (jt, jf)]
        if not all(0 <= o <= 255 for o in offsets):
            raise AssertionError("seccomp program too long for 8-bit jumps")  # a bug here, not a machine fact
        out += struct.pack("=HBBI", opcode, offsets[0], offsets[1], k)
    return bytes(out)


# --------------------------------------------------------------------------- enter


def enter(prepared: Prepared, policy: Policy) -> None:
    """Confine the calling (freshly forked, single-threaded) process for good. Raises SandboxError on failure."""
    layers = prepared.layers
    scratch = os.path.realpath(policy.scratch)
    readable = tuple(os.path.realpath(p) for p in policy.readable)
    if not os.path.isdir(scratch):
        raise SandboxError(f"scratch directory {policy.scratch} does not exist")
    for original, path in zip(policy.readable, readable):
        if not os.path.exists(path):
            raise SandboxError(f"readable path {original} does not exist")
    uid = gid = policy.unprivileged_uid
    status = _read_status() if _LINUX else {}
    if _LINUX and status.get("Threads", "1").strip() != "1":
        # Landlock and seccomp bind the calling thread only: other threads would stay free.
        raise SandboxError("enter() must run in a single-threaded process (right after fork)")

    _apply_rlimits(policy, status, layers.memory_limit)

    if layers.setuid:
        # The child owns its scratch; 0700 keeps other unprivileged children out of it.
        os.chown(scratch, uid, gid)
        os.chmod(scratch, 0o700)
        if uid == _DEFAULT_UID:  # the system part was planned in prepare(): only the policy's paths remain
            masks, unfixable = _plan_views((*readable, scratch), uid, gid)
            for cover, paths in prepared.system_masks:
                masks.setdefault(cover, []).extend(paths)
        else:
            masks, unfixable = _plan_views((*prepared.system_paths, *readable, scratch), uid, gid)
        if unfixable:
            raise SandboxError(f"{unfixable[0]} cannot be read by uid {uid}")
        if masks:
            _expose(prepared.libc or _libc(), masks)

    os.chdir(scratch)
    for name in ("TMPDIR", "TMP", "TEMP", "HOME"):
        os.environ[name] = scratch
    cached = sys.modules.get("tempfile")
    if cached is not None:  # the zygote may already have resolved tempfile's default to /tmp
        cached.tempdir = scratch
    if not _LINUX:
        return

    libc = prepared.libc or _libc()
    # Needed before Landlock when not root, before seccomp always, and it stops exec from regaining privileges.
    _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0),
                      ctypes.c_ulong(0)), "prctl(PR_SET_NO_NEW_PRIVS)")
    if layers.landlock:
        _landlock(libc, layers, prepared.system_paths, readable, scratch)
    if layers.setuid:
        _drop_privileges(libc, prepared, uid, gid)
        for path in (scratch, *readable):  # fail here, in words, rather than inside the student's import
            if not os.access(path, os.R_OK | (os.X_OK if os.path.isdir(path) else 0)):
                raise SandboxError(f"{path} is not readable by uid {uid} after the drop")
    if layers.seccomp:
        buffer = ctypes.create_string_buffer(prepared.seccomp_filter, len(prepared.seccomp_filter))
        fprog = _SockFprog(len(prepared.seccomp_filter) // 8, ctypes.addressof(buffer))
        _check(libc.prctl(_PR_SET_SECCOMP, ctypes.c_ulong(_SECCOMP_MODE_FILTER), ctypes.byref(fprog),
                          ctypes.c_ulong(0), ctypes.c_ulong(0)), "prctl(PR_SET_SECCOMP)")


def _apply_rlimits(policy: Policy, status: dict[str, str], memory_limit: bool) -> None:
    if resource is None:
        return
    if memory_limit and "VmSize" in status:
        mapped = int(status["VmSize"].split()[0]) * 1024  # "1234567 kB"
        _lower(resource.RLIMIT_AS, mapped + policy.memory_bytes)
    cpu = max(1, int(policy.cpu_seconds))
    _lower(resource.RLIMIT_CPU, cpu, cpu + 1)  # SIGXCPU at the soft limit, SIGKILL one second later
    _lower(resource.RLIMIT_FSIZE, policy.max_file_bytes)
    _lower(resource.RLIMIT_NOFILE, _NOFILE)
    _lower(resource.RLIMIT_CORE, 0)


def _lower(which: int, soft: int, hard: int | None = None) -> None:
    """Set a limit, never above the current hard limit (so this also works unprivileged)."""
    _, current_hard = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(which, (soft, hard))


def _landlock(libc: ctypes.CDLL, layers: Layers, system_paths: tuple[str, ...], readable: tuple[str, ...],
              scratch: str) -> None:
    abi = layers.landlock_abi
    handled = (_FS_REFER - 1) | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
    handled |= _FS_IOCTL_DEV if abi >= 5 else 0
    attr = _RulesetAttr(handled, 0, 0)
    size = 8
    if abi >= 4:  # handled but never granted: every TCP bind and connect is refused
        attr.handled_access_net, size = _NET_BIND_TCP | _NET_CONNECT_TCP, 16
    if abi >= 6:  # no signals to, no abstract-socket connections with, processes outside this sandbox
        attr.scoped, size = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL, 24
    ruleset = _syscall(libc, _SYS_LANDLOCK_CREATE_RULESET, ctypes.addressof(attr), size, 0)
    if ruleset < 0:
        _raise("landlock_create_ruleset")
    try:
        rules = [(p, _FS_DEVNULL if p == _DEV_NULL else _FS_READ) for p in system_paths]
        rules += [(p, _FS_READ) for p in readable] + [(scratch, _FS_SCRATCH)]
        for path, access in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except FileNotFoundError:
                if path in system_paths:  # a system path that vanished grants nothing; no reason to fail
                    continue
                raise SandboxError(f"readable path {path} does not exist") from None
            try:
                if not stat.S_ISDIR(os.fstat(fd).st_mode):
                    access &= _FS_FILE_ONLY
                rule = _PathBeneathAttr(access & handled, fd)
                if _syscall(libc, _SYS_LANDLOCK_ADD_RULE, ruleset, _LANDLOCK_RULE_PATH_BENEATH,
                            ctypes.addressof(rule), 0) != 0:
                    _raise(f"landlock_add_rule({path})")
            finally:
                os.close(fd)
        if _syscall(libc, _SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
            _raise("landlock_restrict_self")
    finally:
        os.close(ruleset)


def _drop_privileges(libc: ctypes.CDLL, prepared: Prepared, uid: int, gid: int) -> None:
    # A credential change clears the parent-death signal; the caller's lifeline must survive it.
    deathsig = ctypes.c_int(0)
    libc.prctl(_PR_GET_PDEATHSIG, ctypes.byref(deathsig), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))
    parent = os.getppid()
    os.setgroups([])
    if prepared.can_drop_bounding:  # needs CAP_SETPCAP, so before setresuid
        for cap in range(prepared.cap_last_cap + 1):
            _check(libc.prctl(_PR_CAPBSET_DROP, ctypes.c_ulong(cap), ctypes.c_ulong(0), ctypes.c_ulong(0),
                              ctypes.c_ulong(0)), f"prctl(PR_CAPBSET_DROP, {cap})")
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)  # from root to non-root without keepcaps: permitted and effective are cleared
    if deathsig.value:
        libc.prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(deathsig.value), ctypes.c_ulong(0), ctypes.c_ulong(0),
                   ctypes.c_ulong(0))
        if os.getppid() != parent:  # the parent died while the signal was unset
            raise SandboxError("parent exited while the sandbox was being entered")

    status = _read_status()
    ids = [status.get("Uid", "").split(), status.get("Gid", "").split()]
    if ids != [[str(uid)] * 4, [str(gid)] * 4] or status.get("Groups", "").strip():
        raise SandboxError(f"privilege drop incomplete: Uid {ids[0]} Gid {ids[1]}")
    sets = ("CapInh", "CapPrm", "CapEff", "CapAmb") + (("CapBnd",) if prepared.can_drop_bounding else ())
    left = {name: status.get(name) for name in sets if int(status.get(name, "1"), 16) != 0}
    if left:
        raise SandboxError(f"capabilities survived the drop: {left}")


def _plan_views(paths: tuple[str, ...], uid: int, gid: int) -> tuple[dict[str, list[str]], list[str]]:
    """Which directories hide needed paths from ``uid``: {topmost unsearchable ancestor: [paths under it]}.

    Also returns the paths no mount can help (they themselves are not readable by ``uid``).
    """
    masks: dict[str, list[str]] = {}
    unfixable: list[str] = []
    for path in paths:
        if path == _PROC_SELF:
            continue  # the child's own entry: always readable by the child
        try:
            own = os.stat(path)
        except FileNotFoundError:
            continue
        if not _permits(own, uid, gid, 0o5 if stat.S_ISDIR(own.st_mode) else 0o4):
            unfixable.append(path)
            continue
        ancestors = []
        walk = os.path.dirname(path)
        while True:
            ancestors.append(walk)
            if walk == "/":
                break
            walk = os.path.dirname(walk)
        blocked = next((a for a in reversed(ancestors) if not _permits(os.stat(a), uid, gid, 0o1)), None)
        if blocked == "/":
            unfixable.append(path)
        elif blocked is not None:
            masks.setdefault(blocked, []).append(path)
    return masks, unfixable


def _expose(libc: ctypes.CDLL, masks: dict[str, list[str]]) -> None:
    """In a private mount namespace, cover each unsearchable directory with a tmpfs and bind back what is needed."""
    _check(libc.unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    # Private first: otherwise the tmpfs would propagate back into the host's namespace.
    _check(libc.mount(None, b"/", None, ctypes.c_ulong(_MS_REC | _MS_PRIVATE), None), "mount(/, MS_PRIVATE)")
    # Opened only now: a bind source must be a mount of the namespace we are in (else EINVAL).
    fds = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for paths in masks.values() for path in paths}
    try:
        for cover, paths in masks.items():
            _check(libc.mount(b"tmpfs", cover.encode(), b"tmpfs", ctypes.c_ulong(_MS_NOSUID | _MS_NODEV | _MS_NOEXEC),
                              b"mode=0755,size=64k"), f"mount(tmpfs, {cover})")
            done: list[str] = []
            for path in sorted(paths):
                if any(_beneath(path, d) for d in done):
                    continue  # already visible through the bind of a parent
                parent = os.path.dirname(path)
                os.makedirs(parent, exist_ok=True)
                walk = parent
                while walk != cover:  # makedirs honours the umask; these must be searchable
                    os.chmod(walk, 0o755)
                    walk = os.path.dirname(walk)
                if stat.S_ISDIR(os.fstat(fds[path]).st_mode):
                    os.mkdir(path, 0o755)
                else:
                    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644))
                source = f"/proc/self/fd/{fds[path]}".encode()  # the original, now under the tmpfs
                _check(libc.mount(source, path.encode(), None, ctypes.c_ulong(_MS_BIND | _MS_REC), None),
                       f"bind mount {path}")
                done.append(path)
    finally:
        for fd in fds.values():
            os.close(fd)


# --------------------------------------------------------------------------- helpers


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)  # the already-loaded libc: no find_library, no subprocess
    libc.syscall.restype = ctypes.c_long
    for name in ("prctl", "unshare", "mount"):
        getattr(libc, name)  # CDLL caches each function on first access
    return libc


def _syscall(libc: ctypes.CDLL, nr: int, *args: int | None) -> int:
    return libc.syscall(ctypes.c_long(nr), *(ctypes.c_long(0 if a is None else a) for a in args))


def _check(result: int, what: str) -> None:
    if result != 0:
        _raise(what)


def _raise(what: str) -> None:
    errno = ctypes.get_errno()
    raise SandboxError(f"{what} failed: {os.strerror(errno)} (errno {errno})")


def _read_status() -> dict[str, str]:
    fd = os.open("/proc/self/status", os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, 1 << 16).decode()
    finally:
        os.close(fd)
    return {key: value.strip() for key, _, value in (line.partition(":") for line in data.splitlines())}


def _read_int(path: str, default: int) -> int:
    try:
        with open(path) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return default


def _cap_set(mask_hex: str) -> set[int]:
    mask = int(mask_hex or "0", 16)
    return {bit for bit in range(64) if mask >> bit & 1}


def _uid_mapped(uid: int) -> bool:
    try:
        with open("/proc/self/uid_map") as handle:
            for line in handle:
                inside, _, count = (int(n) for n in line.split())
                if inside <= uid < inside + count:
                    return True
    except (OSError, ValueError):
        return True  # no user namespaces at all: every uid exists
    return False


def _permits(st: os.stat_result, uid: int, gid: int, bits: int) -> bool:
    """Classic DAC for a process with exactly this uid/gid and no groups (ACLs aside)."""
    if st.st_uid == uid:
        shift = 6
    elif st.st_gid == gid:
        shift = 3
    else:
        shift = 0
    return (st.st_mode >> shift) & bits == bits


def _beneath(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")
