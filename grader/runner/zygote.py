"""The zygote: a process that has imported torch and nothing of the answers, and forks one child per run.

Started by ``grader.runner.pool`` as ``python -m grader.runner.zygote FD [--warm] --uid U --cgroup PATH``
(its slot: see ``grader.runner.slot``). Forking from a process that already
imported torch costs ≈10 ms, against ≈900 ms for a fresh interpreter that
imports it (measured). It never computes a reference and never sees a
submission or a result: a run order carries only limits and places, and the
child reads its job from, and writes its results to, pipes the trusted
process owns (passed in with SCM_RIGHTS). It runs torch single-threaded so
no OpenMP pool exists to deadlock a forked child.

On the socket (``grader.runner.wire`` describes each message): the zygote
says ``ZygoteReady`` once, then for every ``RunOrder`` forks a child and waits
for it, killing the child's process group on a ``KillOrder``, at the run's
wall-clock backstop, or when the trusted process goes away (its socket
closes: Ctrl-C or kill -9 of the grader), and answers ``ChildExit``.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING

from grader.runner import wire
from grader.runner.slot import Slot

if TYPE_CHECKING:
    from grader.runner.sandbox import Prepared

_FIXED_DESCRIPTORS = 3
"""job, events, confinement marker: the pipe ends every run order carries before its output pipes."""


def serve(sock: socket.socket, warm: bool, slot: Slot) -> None:
    """Answer run orders until the trusted process closes the socket."""
    prepared = start(warm)
    from grader.runner import child, sandbox

    if slot.cgroup:
        _enter_slot_cgroup(slot.cgroup)

    sock.sendall(wire.pack_ready(wire.ZygoteReady(layers=sandbox.describe(prepared))))
    while True:
        try:
            message, fds, _flags, _addr = socket.recv_fds(sock, wire.MAX_ORDER_BYTES,
                                                          _FIXED_DESCRIPTORS + wire.MAX_EXERCISES + 1)
        except (ConnectionError, OSError):
            os._exit(0)
        if not message:
            # The trusted process is done: leave at once (a normal interpreter exit tears torch
            # down for seconds, and the caller waits for it).
            os._exit(0)
        try:
            order = wire.unpack_order(message)
            expected = _FIXED_DESCRIPTORS + order.exercises
            if len(fds) != expected:
                raise wire.FrameError(f"run order: {len(fds)} descriptors attached, not {expected}")
        except wire.FrameError as error:
            # Only the trusted process writes orders, so this is the grader's own bug. The pool
            # reports the last line of this log when the socket closes; leave at once, as above.
            os.write(2, f"malformed run order: {error}\n".encode())
            os._exit(2)
        pipes = child.ChildPipes(fds[0], fds[1], fds[2], tuple(fds[3:]))
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            sock.close()
            child.run_child(order, pipes, prepared, slot)
        for fd in fds:
            os.close(fd)
        sock.sendall(wire.pack_exit(_wait(pid, order.wall_seconds, started, sock)))


def start(warm: bool) -> Prepared:
    """Make this process a zygote: torch imported and single-threaded, the sandbox prepared.

    ``warm`` (batch grading): spend ≈1.5 s once at start-up so that hundreds of children do not each
    pay it; a single ``grader check`` starts faster without.
    """
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    from grader.runner import child, sandbox

    wire.load(wire.dump({"warm": [torch.zeros(2, dtype=torch.float64)]}))
    prepared = sandbox.prepare()
    # Everything a child needs is imported by now: the course folder leaves the import path for good.
    child.scrub_import_path()
    if warm:
        # The first backward with an explicit gradient imports sympy (≈1.5 s, measured): once here,
        # not in every child that uses `y.backward(torch.ones_like(y))`.
        leaf = torch.ones(2, requires_grad=True)
        (leaf * leaf).backward(torch.ones(2))
        torch.autograd.grad((leaf * leaf).sum(), leaf)
        _collapse_to_huge_pages()
    return prepared


def _collapse_to_huge_pages() -> None:
    """Back this process's anonymous memory with 2 MiB pages, best effort (Linux ≥ 6.1).

    Measured here: fork + exit of a child costs ≈21 ms with torch's ≈150 MB of 4 KiB anonymous pages
    (page tables copied at fork, zapped at exit) and ≈9 ms once they are huge pages. MADV_COLLAPSE
    does it now, synchronously (≈0.3 s, once); khugepaged would take minutes. A child's writes still
    copy 4 KiB at a time: the kernel splits a huge page on copy-on-write.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    from grader.runner.sandbox.libc import MADV_COLLAPSE, MADV_HUGEPAGE
    from grader.runner.sandbox.libc import libc as load_libc

    madv_hugepage, madv_collapse, huge = MADV_HUGEPAGE, MADV_COLLAPSE, 1 << 21
    libc = load_libc()
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    try:
        with open("/proc/self/maps") as maps:
            regions = [line.split() for line in maps]
    except OSError:
        return
    for fields in regions:
        anonymous = len(fields) < 6 or fields[5] == "[heap]"
        if not (fields[1].startswith("rw") and anonymous):
            continue
        low, high = (int(bound, 16) for bound in fields[0].split("-"))
        start, end = (low + huge - 1) & ~(huge - 1), high & ~(huge - 1)
        if end > start:
            libc.madvise(start, end - start, madv_hugepage)
            libc.madvise(start, end - start, madv_collapse)  # fails harmlessly on older kernels


def _enter_slot_cgroup(path: str) -> None:
    """Move this zygote into its slot's memory cgroup, so that children are born in it.

    Moving a child at its start costs 5–15 ms of wall clock in the kernel (measured); a child forked
    inside the cgroup costs nothing. What the zygote already holds (torch, ≈200 MB) stays charged where
    it was allocated — cgroup v1 and v2 do not move charges with a task — so the slot's limit counts
    only what each child newly takes. The zygote itself must never be the one the kernel kills when a
    child exceeds it: each child raises its own OOM score to the maximum (child.run_child), and the
    zygote lowers its own to -1000 where it may.
    """
    from grader.runner.sandbox import memory

    memory.join(path)
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("-1000")
    except PermissionError:
        pass  # no CAP_SYS_RESOURCE (a container): each child's own +1000 still makes it the one killed


def _wait(pid: int, backstop: float, started: float, sock: socket.socket) -> wire.ChildExit:
    """Wait for the child; kill its group on a kill order, at the backstop, or if the trusted process left."""
    timed_out = killed = False
    pidfd = os.pidfd_open(pid)
    try:
        deadline = started + backstop
        while True:
            ready, _, _ = select.select([pidfd, sock], [], [], max(0.0, deadline - time.monotonic()))
            if pidfd in ready:
                break
            if not ready:
                timed_out = True
                break
            message = sock.recv(wire.MAX_ORDER_BYTES)
            if not message:  # the grader is gone (Ctrl-C, kill -9): nothing it started may stay
                _kill_group(pid)
                os._exit(0)
            try:
                wire.unpack_control(message)
            except wire.FrameError as error:
                os.write(2, f"malformed control message: {error}\n".encode())
                _kill_group(pid)
                os._exit(2)
            killed = True
            break
    finally:
        os.close(pidfd)
    if timed_out or killed:
        _kill_group(pid)
    _, wait_status, usage = os.wait4(pid, 0)
    # Anything the child left in its group (possible only without the seccomp layer) goes too.
    _kill_group(pid)
    return wire.ChildExit(
        exit_code=os.waitstatus_to_exitcode(wait_status),
        timed_out=timed_out,
        killed=killed,
        max_rss_kb=usage.ru_maxrss,
        wall=round(time.monotonic() - started, 4),
    )


def _kill_group(pid: int) -> None:
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
        except (ProcessLookupError, PermissionError):
            pass


def main() -> None:
    # No parent-death signal here: the kernel ties it to the starting *thread*, and a worker
    # replaced from a job thread would die with that thread. A closed socket ends the zygote instead,
    # even while it waits for a child (see _wait).
    parser = argparse.ArgumentParser(prog="python -m grader.runner.zygote")
    parser.add_argument("fd", type=int)
    parser.add_argument("--warm", action="store_true")
    parser.add_argument("--uid", type=int, required=True)
    parser.add_argument("--cgroup", default="")
    args = parser.parse_args()
    # Ctrl-C in a terminal reaches the whole process group: the grader decides, and this zygote ends
    # when the grader closes its socket (killing its child then), not half-way through a run.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(socket.socket(fileno=args.fd), args.warm, Slot(args.uid, args.cgroup))


if __name__ == "__main__":
    main()
