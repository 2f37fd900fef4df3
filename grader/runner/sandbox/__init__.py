"""Confine a forked child before it runs a student's code (docs/isolation.md).

The zygote (a process that imported torch and nothing of the answers) calls
:func:`prepare` once; every child it forks calls :func:`enter` before it
touches the student's file. ``enter`` applies, irreversibly and in this order:

1. **rlimits** (:mod:`.limits`) - address space, CPU time, file size, descriptors, no core files.
2. **scratch** - chowned to the unprivileged uid, made the cwd, ``TMPDIR``
   and ``HOME`` (torch's import and ``tempfile`` want a writable TMPDIR).
3. **private mount namespace, only when needed** (:mod:`.mounts`) - hidden
   paths the child needs are bind-mounted back under a tmpfs, in the child's namespace only.
4. **no_new_privs + Landlock** (:mod:`.landlock`) - read the interpreter,
   system and policy paths, write scratch, nothing else; no TCP, no signals out.
5. **privilege drop (as root)** (:mod:`.credentials`) - uid/gid 65534, no groups, no capabilities.
6. **seccomp** (:mod:`.seccomp`) - no new processes, no sockets but AF_UNIX,
   no ptrace, mounts, namespaces and the other kernel attack surface.

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

from grader.runner.sandbox import credentials, landlock, limits, mounts, seccomp
from grader.runner.sandbox import libc as native
from grader.runner.sandbox.policy import (DEFAULT_UID, DEV_NULL, PROC_SELF, SYSTEM_PATHS, Layers, Policy, Prepared,
                                          SandboxError, describe)

__all__ = ["Layers", "Policy", "Prepared", "SandboxError", "describe", "enter", "prepare"]


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
        layers = Layers(False, 0, False, False, False, False, False,
                        resource is not None and sys.platform != "darwin", tuple(missing))
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

    layers = Layers(landlock=abi > 0, landlock_abi=max(abi, 0), landlock_net=abi >= 4, landlock_scope=abi >= 6,
                    seccomp=seccomp_ok, setuid=setuid, private_mounts=private_mounts, memory_limit=True,
                    missing=tuple(missing))
    masks = mounts.plan_views(system_paths, DEFAULT_UID, DEFAULT_UID)[0] if setuid else {}
    return Prepared(layers, arch, bpf, system_paths, credentials.cap_last_cap(),
                    setuid and native.CAP_SETPCAP in caps,
                    tuple((cover, tuple(paths)) for cover, paths in masks.items()), libc)


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
    uid = gid = policy.unprivileged_uid
    status = native.read_status() if native.LINUX else {}
    if native.LINUX and status.get("Threads", "1").strip() != "1":
        # Landlock and seccomp bind the calling thread only: other threads would stay free.
        raise SandboxError("enter() must run in a single-threaded process (right after fork)")

    limits.apply_rlimits(policy, status, layers.memory_limit)

    if layers.setuid:
        # The child owns its scratch; 0700 keeps other unprivileged children out of it.
        os.chown(scratch, uid, gid)
        os.chmod(scratch, 0o700)
        if uid == DEFAULT_UID:  # the system part was planned in prepare(): only the policy's paths remain
            masks, unfixable = mounts.plan_views((*readable, scratch), uid, gid)
            for cover, paths in prepared.system_masks:
                masks.setdefault(cover, []).extend(paths)
        else:
            masks, unfixable = mounts.plan_views((*prepared.system_paths, *readable, scratch), uid, gid)
        if unfixable:
            raise SandboxError(f"{unfixable[0]} cannot be read by uid {uid}")
        if masks:
            mounts.expose(prepared.libc or native.libc(), masks)

    os.chdir(scratch)
    for name in ("TMPDIR", "TMP", "TEMP", "HOME"):
        os.environ[name] = scratch
    cached = sys.modules.get("tempfile")
    if cached is not None:  # the zygote may already have resolved tempfile's default to /tmp
        cached.tempdir = scratch
    if not native.LINUX:
        return

    libc = prepared.libc or native.libc()
    # Needed before Landlock when not root, before seccomp always, and it stops exec from regaining privileges.
    native.check(native.prctl(libc, native.PR_SET_NO_NEW_PRIVS, 1), "prctl(PR_SET_NO_NEW_PRIVS)")
    if layers.landlock:
        landlock.restrict(libc, layers.landlock_abi, prepared.system_paths, readable, scratch)
    if layers.setuid:
        credentials.drop_privileges(libc, uid, gid, prepared.cap_last_cap, prepared.can_drop_bounding)
        for path in (scratch, *readable):  # fail here, in words, rather than inside the student's import
            if not os.access(path, os.R_OK | (os.X_OK if os.path.isdir(path) else 0)):
                raise SandboxError(f"{path} is not readable by uid {uid} after the drop")
    if layers.seccomp:
        seccomp.install(libc, prepared.seccomp_filter)
