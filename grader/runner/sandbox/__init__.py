"""Confine a forked child before it runs a student's code (docs/isolation.md).

The zygote (a process that imported torch and nothing of the answers) calls
:func:`prepare` once; every child it forks calls :func:`enter` before it
touches the student's file. ``enter`` applies, irreversibly and in this order:

1. **memory cgroup** (:mod:`.memory`), when the policy names one - joined first, so every page after counts.
2. **rlimits** (:mod:`.limits`) - address space, CPU time, file size, descriptors, no core files.
3. **scratch** - as root with CAP_SYS_ADMIN, a private mount namespace and a tmpfs on scratch with a
   size and file-count cap, owned by the child's uid; else the host folder, chowned. It becomes the cwd.
4. **mount views, only when needed** (:mod:`.mounts`) - hidden paths the child needs are bind-mounted
   back under a tmpfs, in the child's namespace only.
5. **environment** (:mod:`.environment`) - replaced by an allow-list; HOME and TMPDIR are scratch.
6. **no_new_privs + Landlock** (:mod:`.landlock`) - read the interpreter,
   system and policy paths, write scratch, nothing else; no TCP, no signals out.
7. **privilege drop (as root)** (:mod:`.credentials`) - to ``policy.uid`` (one per concurrent child,
   leased with :func:`.uids.reserve`), no groups, no capabilities.
8. **seccomp** (:mod:`.seccomp`) - no new processes, no sockets, no memfd, no ptrace, mounts, namespaces;
   prlimit, scheduling and priority calls only on the caller itself; the death signal stays set.

A layer this machine lacks is skipped and named in ``Layers.missing``; a
layer :func:`prepare` found available that then fails in :func:`enter`
raises :class:`SandboxError` - never a silent half-sandbox.

What ``enter`` does not do: descriptors opened before it stay usable
(Landlock checks at open time), so the caller closes everything the child
must not hold; modules not imported before it must be importable from the
readable paths (the course folder is not one of them).
"""

from __future__ import annotations

import os
import platform
import site
import struct
import sys
import sysconfig

from grader.runner.sandbox import credentials, environment, landlock, limits, memory, mounts, seccomp, uids
from grader.runner.sandbox import libc as native
from grader.runner.sandbox.policy import (DEFAULT_UID, DEV_NULL, PROC_SELF, SYSTEM_PATHS, Layers, Policy, Prepared,
                                          SandboxError, describe)

__all__ = ["DEFAULT_UID", "Layers", "Policy", "Prepared", "SandboxError", "describe", "enter", "environment", "memory",
           "prepare", "uids"]


def prepare() -> Prepared:
    """Probe what this kernel offers and build the seccomp program. Call once, before forking.

    Never raises for a missing layer: the reason lands in ``layers.missing``.
    """
    missing: list[str] = []
    arch = seccomp.ARCH_ALIASES.get(platform.machine().lower(), platform.machine())
    system_paths = _system_paths()
    resource = limits.resource
    if not native.LINUX:
        missing.append(f"{sys.platform} is not Linux: no Landlock, seccomp, privilege drop or mount "
                       "namespace, only rlimits and a private working directory")
        if resource is None or sys.platform == "darwin":
            missing.append(f"{sys.platform} does not enforce RLIMIT_AS: no memory cap")
        layers = Layers(landlock=False, landlock_abi=0, landlock_net=False, landlock_scope=False, seccomp=False,
                        setuid=False, private_mounts=False,
                        memory_limit=resource is not None and sys.platform != "darwin", missing=tuple(missing))
        return Prepared(layers, arch, b"", system_paths, 0, False)

    supported = arch in seccomp.ARCHES and struct.calcsize("P") == 8 and sys.byteorder == "little"
    libc = native.libc()
    caps = native.cap_set(native.read_status().get("CapEff", "0"))

    abi = landlock.probe_abi(libc) if supported else 0
    if not supported:
        missing.append(f"architecture {arch} is not supported by this sandbox: no Landlock, no seccomp")
    elif abi <= 0:
        missing.append("the kernel offers no Landlock (disabled or older than 5.13): files are not confined")
    if 0 < abi < 4:
        missing.append(f"Landlock ABI {abi} < 4: TCP is left to seccomp")
    if 0 < abi < 6:
        missing.append(f"Landlock ABI {abi} < 6: signals are confined by the uid drop only")

    seccomp_ok = supported and seccomp.available(libc, arch)
    if supported and not seccomp_ok:
        missing.append("the kernel offers no seccomp filters: the child could fork, open sockets and ptrace")
    bpf = seccomp.build_filter(arch) if seccomp_ok else b""

    private_mounts = os.geteuid() == 0 and native.CAP_SYS_ADMIN in caps
    setuid, why = credentials.can_drop(caps, private_mounts, system_paths)
    if not setuid:
        missing.append(why)
    masks, owners, unfixable = {}, (frozenset(), frozenset()), []
    if setuid:  # planned once for every uid that owns none of these paths: see Prepared.system_masks
        masks, unfixable = mounts.plan_views(system_paths, mounts.STRANGER, mounts.STRANGER)
        owners = mounts.owners(system_paths)

    uid_ok, uid_why = uids.available()
    if setuid and uid_ok and unfixable:
        uid_ok, uid_why = False, f"{unfixable[0]} is readable by its owner or group only"
    uid_per_child = setuid and uid_ok
    if not uid_per_child:
        uid_why = uid_why if setuid else "without the privilege drop every child keeps the grader's uid"
        missing.append(f"no uid per child ({uid_why}): concurrent children share a uid, though seccomp keeps "
                       "prlimit, scheduling and priority calls to the caller"
                       + (" and Landlock its signals" if abi >= 6 else ""))
    if not private_mounts:
        missing.append("no scratch quota (needs root with CAP_SYS_ADMIN for a private tmpfs): scratch is on the "
                       "host's disk, and RLIMIT_FSIZE caps each file but not their number or total size")
    cgroup_ok, cgroup_why = memory.available()
    if not cgroup_ok:
        missing.append(f"no memory cgroup ({cgroup_why}): memory counted by RLIMIT_AS only, which does not count "
                       "memfd/shared memory" + ("; memfd_create is refused by seccomp" if seccomp_ok else ""))

    layers = Layers(landlock=abi > 0, landlock_abi=max(abi, 0), landlock_net=abi >= 4, landlock_scope=abi >= 6,
                    seccomp=seccomp_ok, setuid=setuid, private_mounts=private_mounts, memory_limit=True,
                    missing=tuple(missing), memory_cgroup=cgroup_ok, scratch_quota=private_mounts,
                    uid_per_child=uid_per_child, environment=True)
    return Prepared(layers, arch, bpf, system_paths, credentials.cap_last_cap(),
                    setuid and native.CAP_SETPCAP in caps,
                    tuple((cover, tuple(paths)) for cover, paths in masks.items()), owners, libc)


def _system_paths() -> tuple[str, ...]:
    """The interpreter's prefixes and site-packages plus SYSTEM_PATHS: resolved, existing, deduplicated."""
    candidates = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]
    try:
        scheme = sysconfig.get_paths()
        candidates += [scheme.get(key, "") for key in ("stdlib", "platstdlib", "purelib", "platlib")]
        candidates += site.getsitepackages()
    except Exception:  # noqa: BLE001 - an unreadable build config or an old site.py: the prefixes still count
        pass
    # Only package directories from sys.path: it may also hold the cwd or the course folder.
    candidates += [p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")]
    candidates += list(SYSTEM_PATHS)
    resolved = {os.path.realpath(p) for p in candidates if p and os.path.exists(p)}
    resolved.discard("/")  # a rule on / would make Landlock pointless
    kept = sorted(p for p in resolved if not any(mounts.beneath(p, q) for q in resolved if q != p))
    return (*kept, DEV_NULL, PROC_SELF)


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
    status = native.read_status() if native.LINUX else {}
    if native.LINUX and status.get("Threads", "1").strip() != "1":
        # Landlock and seccomp bind the calling thread only: other threads would stay free.
        raise SandboxError("enter() must run in a single-threaded process (right after fork)")
    if policy.cgroup:  # first, so that what follows is charged too; and as root: cgroup.procs is root's
        memory.join(policy.cgroup)

    limits.apply_rlimits(policy, status, layers.memory_limit)
    libc = (prepared.libc or native.libc()) if native.LINUX else None
    # The uid that will own scratch: the child's after the drop, else the one it keeps.
    uid = gid = policy.uid if layers.setuid else (os.geteuid() if hasattr(os, "geteuid") else 0)

    if layers.scratch_quota:
        # Always a namespace of its own here: the tmpfs caps size and file count, and its pages count in the
        # memory cgroup, not on the host's disk. 0700 and uid-owned keep other children out of it.
        mounts.private_namespace(libc)
        mounts.mount_scratch(libc, scratch, policy.scratch_bytes, policy.scratch_files, uid, gid)
    elif layers.setuid:
        # The child owns its scratch; 0700 keeps other unprivileged children out of it.
        os.chown(scratch, uid, gid)
        os.chmod(scratch, 0o700)
    if layers.setuid:
        if uid in prepared.system_owners[0] or gid in prepared.system_owners[1]:
            # This uid owns a system path or an ancestor: prepare()'s plan does not hold for it.
            masks, unfixable = mounts.plan_views((*prepared.system_paths, *readable, scratch), uid, gid)
        else:  # the system part was planned in prepare(): only the policy's paths remain
            masks, unfixable = mounts.plan_views((*readable, scratch), uid, gid)
            for cover, paths in prepared.system_masks:
                masks.setdefault(cover, []).extend(paths)
        if unfixable:
            raise SandboxError(f"{unfixable[0]} cannot be read by uid {uid}")
        if masks:
            mounts.expose(libc, masks, fresh_namespace=not layers.scratch_quota)

    os.chdir(scratch)
    environment.install(scratch)
    cached = sys.modules.get("tempfile")
    if cached is not None:  # the zygote may already have resolved tempfile's default to /tmp
        cached.tempdir = scratch
    if not native.LINUX:
        return
    environment.wipe_inherited()  # the zygote's exec-time block, readable in /proc/self/environ

    # Needed before Landlock when not root, before seccomp always, and it stops exec from regaining privileges.
    native.check(native.prctl(libc, native.PR_SET_NO_NEW_PRIVS, 1), "prctl(PR_SET_NO_NEW_PRIVS)")
    if layers.landlock:
        landlock.restrict(libc, layers.landlock_abi, prepared.system_paths, readable, scratch)
    if layers.setuid:
        try:
            credentials.drop_privileges(libc, uid, gid, prepared.cap_last_cap, prepared.can_drop_bounding)
        except OSError as error:  # e.g. a uid not mapped in this user namespace: EINVAL
            raise SandboxError(f"cannot drop to uid {uid}: {error.strerror}") from None
        for path in (scratch, *readable):  # fail here, in words, rather than inside the student's import
            if not os.access(path, os.R_OK | (os.X_OK if os.path.isdir(path) else 0)):
                raise SandboxError(f"{path} is not readable by uid {uid} after the drop")
    if layers.seccomp:
        seccomp.install(libc, prepared.seccomp_filter)
