"""The privilege drop (as root): no supplementary groups, an empty capability bounding set, uid/gid 65534.

Going from uid 0 to non-zero clears the permitted and effective sets;
``/proc/self/status`` is read back to prove it. Root with capabilities can
remount, unmount or unshare its way around every other layer, so whenever the
process is root the capabilities go, always.
"""

from __future__ import annotations

import ctypes
import os

from grader.runner.sandbox.libc import (CAP_SETGID, CAP_SETUID, PR_CAPBSET_DROP, PR_GET_PDEATHSIG, PR_SET_PDEATHSIG,
                                        check, prctl, read_int, read_status)
from grader.runner.sandbox.mounts import plan_views
from grader.runner.sandbox.policy import DEFAULT_UID, SandboxError


def cap_last_cap() -> int:
    """The highest capability number this kernel knows (63 if it does not say)."""
    return read_int("/proc/sys/kernel/cap_last_cap", 63)


def uid_mapped(uid: int) -> bool:
    """Whether ``uid`` exists in this process's user namespace."""
    try:
        with open("/proc/self/uid_map") as handle:
            for line in handle:
                inside, _, count = (int(n) for n in line.split())
                if inside <= uid < inside + count:
                    return True
    except (OSError, ValueError):
        return True  # no user namespaces at all: every uid exists
    return False


def can_drop(caps: set[int], private_mounts: bool, system_paths: tuple[str, ...],
             uid: int = DEFAULT_UID) -> tuple[bool, str]:
    """Whether a child can drop to ``uid`` (gid the same) and still read ``system_paths``; if not, why, in words."""
    if os.geteuid() != 0:
        return False, f"not running as root (uid {os.geteuid()}): the child keeps this uid"
    if not {CAP_SETUID, CAP_SETGID} <= caps:
        return False, "root without CAP_SETUID/CAP_SETGID: the child cannot drop to an unprivileged uid"
    if not uid_mapped(uid):
        return False, f"uid {uid} is not mapped in this user namespace: the child stays root"
    masks, unfixable = plan_views(system_paths, uid, uid)
    if unfixable:
        return False, f"{unfixable[0]} is not readable by uid {uid}: the child stays root"
    if masks and not private_mounts:
        return False, (f"the interpreter lies under {next(iter(masks))}, which uid {uid} cannot search, "
                       "and no mount namespace is available to expose it: the child stays root")
    return True, ""


def drop_privileges(libc: ctypes.CDLL, uid: int, gid: int, last_cap: int, drop_bounding: bool) -> None:
    """Become ``uid``/``gid`` with no groups and no capabilities (and, if ``drop_bounding``, none to regain).

    Reads /proc/self/status back and raises SandboxError if any id or capability survived.
    """
    # A credential change clears the parent-death signal; the caller's lifeline must survive it.
    deathsig = ctypes.c_int(0)
    prctl(libc, PR_GET_PDEATHSIG, ctypes.byref(deathsig))
    parent = os.getppid()
    os.setgroups([])
    if drop_bounding:  # needs CAP_SETPCAP, so before setresuid
        for cap in range(last_cap + 1):
            check(prctl(libc, PR_CAPBSET_DROP, cap), f"prctl(PR_CAPBSET_DROP, {cap})")
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)  # from root to non-root without keepcaps: permitted and effective are cleared
    if deathsig.value:
        prctl(libc, PR_SET_PDEATHSIG, deathsig.value)
        if os.getppid() != parent:  # the parent died while the signal was unset
            raise SandboxError("parent exited while the sandbox was being entered")

    status = read_status()
    ids = [status.get("Uid", "").split(), status.get("Gid", "").split()]
    if ids != [[str(uid)] * 4, [str(gid)] * 4] or status.get("Groups", "").strip():
        raise SandboxError(f"privilege drop incomplete: Uid {ids[0]} Gid {ids[1]}")
    sets = ("CapInh", "CapPrm", "CapEff", "CapAmb") + (("CapBnd",) if drop_bounding else ())
    left = {name: status.get(name) for name in sets if int(status.get(name, "1"), 16) != 0}
    if left:
        raise SandboxError(f"capabilities survived the drop: {left}")
