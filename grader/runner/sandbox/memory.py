"""The memory cgroup layer: a cap that counts every page a child makes its own (cgroup v1 and v2).

``RLIMIT_AS`` counts address space only: pages written into a memfd, a
tmpfs file or the page cache are never mapped and escape it. A memory
cgroup charges every page to the cgroup of the process that first touched
it, so a cap on the cgroup counts them all; past it, the kernel's OOM killer
sends SIGKILL to the cgroup's largest process, the child.

Trusted side: :meth:`MemoryCgroups.create` makes one cgroup per worker slot
*under this process's own memory cgroup* (nothing else is touched), with the
limit and no swap; :meth:`~MemoryCgroups.oom_kills` tells whether a run
died of it; :meth:`~MemoryCgroups.remove` deletes them. Child side:
:func:`join` (called by ``enter()`` before the privilege drop, since
``cgroup.procs`` is root's to write).

Joining costs a cgroup migration, which waits for an RCU grace period when
migrations are rare (measured here, cgroup v1: ≈0.2 ms back to back, ≈5 ms
with 50 ms between children). A zygote placed in its slot's cgroup once
(:meth:`~MemoryCgroups.attach`) forks children that are members already,
and :func:`join` then only reads ``/proc/self/cgroup``.
"""

from __future__ import annotations

import errno
import os
import time

from grader.runner.sandbox.policy import SandboxError

PREFIX = "autograd-grader-"


def own_cgroup() -> tuple[int, str, str]:
    """(version, directory of this process's memory cgroup, path inside the hierarchy). Raises OSError if none."""
    v1_path, v2_path = _hierarchy_paths()
    mounts = _cgroup_mounts()
    if v1_path is not None:
        for fstype, root, point, options in mounts:
            if fstype == "cgroup" and "memory" in options:
                return 1, _inside(point, root, v1_path), v1_path
    if v2_path is not None:
        for fstype, root, point, _ in mounts:
            if fstype == "cgroup2":
                directory = _inside(point, root, v2_path)
                if "memory" in _words(os.path.join(directory, "cgroup.controllers")):
                    return 2, directory, v2_path
    raise OSError(errno.ENOENT, "this process is in no memory cgroup")


def _read_only(path: str) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def available() -> tuple[bool, str]:
    """Whether :meth:`MemoryCgroups.create` can work here; if not, the reason in words (no side effects)."""
    try:
        version, directory, _ = own_cgroup()
    except OSError as error:
        return False, error.strerror or str(error)
    if not os.access(directory, os.W_OK):
        if _read_only(directory):  # Docker mounts cgroupfs read-only: say so, not "not writable by uid 0"
            return False, f"the cgroup filesystem holding {directory} is mounted read-only (as in a container)"
        return False, f"{directory} is not writable by uid {os.geteuid()}"
    if version == 2 and "memory" not in _words(os.path.join(directory, "cgroup.subtree_control")):
        if _words(os.path.join(directory, "cgroup.procs")):
            # cgroup v2 forbids enabling a controller for children of a cgroup that holds processes.
            return False, (f"memory is not delegated below {directory} (not in its cgroup.subtree_control, "
                           "and it holds processes); run the grader in a delegated cgroup, e.g. systemd-run "
                           "--scope -p Delegate=yes")
    return True, ""


class MemoryCgroups:
    """One memory cgroup per worker slot, under this process's own memory cgroup. A context manager."""

    def __init__(self, version: int, paths: tuple[str, ...]) -> None:
        self.version = version
        self.paths = paths

    @classmethod
    def create(cls, count: int, label: str, limit_bytes: int | None = None) -> MemoryCgroups:
        """Make ``count`` cgroups named ``autograd-grader-<label>-<pid>-<i>``; raises SandboxError if unavailable."""
        ok, why = available()
        if not ok:
            raise SandboxError(f"no memory cgroup: {why}")
        version, directory, _ = own_cgroup()
        _sweep(directory)
        if version == 2 and "memory" not in _words(os.path.join(directory, "cgroup.subtree_control")):
            _write(os.path.join(directory, "cgroup.subtree_control"), "+memory")
        paths = []
        try:
            for index in range(count):
                path = os.path.join(directory, f"{PREFIX}{label}-{os.getpid()}-{index}")
                os.mkdir(path, 0o755)
                paths.append(path)
        except OSError as error:
            for path in paths:
                os.rmdir(path)
            raise SandboxError(f"cannot create a memory cgroup under {directory}: {error.strerror}") from None
        made = cls(version, tuple(paths))
        if limit_bytes is not None:
            for path in paths:
                made.set_limit(path, limit_bytes)
        return made

    def set_limit(self, path: str, limit_bytes: int) -> None:
        """Cap the cgroup at ``limit_bytes`` of memory, with no swap on top."""
        limit = str(int(limit_bytes))
        if self.version == 2:
            _write(os.path.join(path, "memory.max"), limit)
            if os.path.exists(os.path.join(path, "memory.swap.max")):
                _write(os.path.join(path, "memory.swap.max"), "0")
            return
        memory = os.path.join(path, "memory.limit_in_bytes")
        memsw = os.path.join(path, "memory.memsw.limit_in_bytes")  # memory + swap; absent without swap accounting
        if not os.path.exists(memsw):
            _write(memory, limit)
            return
        try:  # the kernel keeps memory <= memsw at every step: lowering goes memory first, raising memsw first
            _write(memory, limit)
            _write(memsw, limit)
        except OSError as error:
            if error.errno != errno.EINVAL:
                raise
            _write(memsw, limit)
            _write(memory, limit)

    def oom_kills(self, path: str) -> int:
        """How many processes the kernel's OOM killer has killed in this cgroup since it was made."""
        if self.version == 2:
            return _field(os.path.join(path, "memory.events"), "oom_kill")
        count = _field(os.path.join(path, "memory.oom_control"), "oom_kill")  # Linux >= 4.13
        if count < 0:
            count = _field_file(os.path.join(path, "memory.failcnt"))  # times the limit was hit: an upper bound
        return max(count, 0)

    def attach(self, path: str, pid: int) -> None:
        """Move process ``pid`` (e.g. a worker's zygote) into the cgroup; its children are born members."""
        _write(os.path.join(path, "cgroup.procs"), str(pid))

    def remove(self, timeout: float = 2.0) -> None:
        """rmdir every cgroup once its processes are gone (waiting up to ``timeout`` for them to be reaped)."""
        deadline = time.monotonic() + timeout
        left = list(self.paths)
        while left:
            for path in list(left):
                try:
                    os.rmdir(path)
                except FileNotFoundError:
                    pass
                except OSError as error:
                    if error.errno != errno.EBUSY or time.monotonic() > deadline:
                        raise SandboxError(f"cannot remove memory cgroup {path}: {error.strerror}") from None
                    continue
                left.remove(path)
            if left:
                time.sleep(0.01)

    def __enter__(self) -> MemoryCgroups:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def join(path: str) -> None:
    """Move the calling process into the cgroup at ``path``, unless it is a member already. Raises SandboxError."""
    try:  # a zygote attached to the cgroup forks members: spare them the migration (only /proc/self/cgroup read)
        inside = [p for p in _hierarchy_paths() if p and p != "/"]
        if any(os.path.normpath(path).endswith(p) for p in inside) and \
                os.path.realpath(own_cgroup()[1]) == os.path.realpath(path):
            return
    except (OSError, ValueError):
        pass
    try:
        fd = os.open(os.path.join(path, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, b"0")  # 0: the writing process itself (v1 and v2 alike)
        finally:
            os.close(fd)
    except OSError as error:
        raise SandboxError(f"cannot join memory cgroup {path}: {error.strerror}") from None


def _hierarchy_paths() -> tuple[str | None, str | None]:
    """This process's path in the v1 memory hierarchy and in the v2 hierarchy, from /proc/self/cgroup."""
    v1_path = v2_path = None
    with open("/proc/self/cgroup") as handle:
        for line in handle:
            number, controllers, path = line.rstrip("\n").split(":", 2)
            if "memory" in controllers.split(","):
                v1_path = path
            elif number == "0" and controllers == "":
                v2_path = path
    return v1_path, v2_path


def _cgroup_mounts() -> list[tuple[str, str, str, set[str]]]:
    """(fstype, root inside the hierarchy, mount point, super options) of each cgroup mount, from mountinfo."""
    found = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            dash = fields.index("-")
            fstype = fields[dash + 1]
            if fstype in ("cgroup", "cgroup2"):
                options = set(fields[dash + 3].split(",")) if len(fields) > dash + 3 else set()
                found.append((fstype, _unescape(fields[3]), _unescape(fields[4]), options))
    return found


def _inside(point: str, root: str, path: str) -> str:
    """Where hierarchy path ``path`` appears under a mount of hierarchy directory ``root`` at ``point``."""
    relative = os.path.relpath(path, root) if root != "/" else path.lstrip("/")
    if relative.startswith(".."):  # our cgroup is outside what this mount shows (a container's namespace)
        raise OSError(errno.ENOENT, f"cgroup {path} is not visible under {point}")
    return os.path.normpath(os.path.join(point, relative))


def _unescape(text: str) -> str:
    return text.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def _sweep(directory: str) -> None:
    """Remove empty cgroups an earlier, dead grader left here (names carry the creator's pid)."""
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for name in entries:
        if not name.startswith(PREFIX):
            continue
        try:
            pid = int(name.rsplit("-", 2)[-2])
        except (ValueError, IndexError):
            continue
        if pid != os.getpid() and not os.path.exists(f"/proc/{pid}"):
            try:
                os.rmdir(os.path.join(directory, name))
            except OSError:
                pass  # still holds a process: leave it


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _words(path: str) -> list[str]:
    try:
        with open(path) as handle:
            return handle.read().split()
    except OSError:
        return []


def _field(path: str, name: str) -> int:
    """The integer after ``name`` in a "key value" per line file; -1 if absent."""
    try:
        with open(path) as handle:
            for line in handle:
                key, _, value = line.partition(" ")
                if key == name:
                    return int(value)
    except (OSError, ValueError):
        pass
    return -1


def _field_file(path: str) -> int:
    try:
        with open(path) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return -1
