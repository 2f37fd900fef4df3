"""The zygote: a process that has imported torch and nothing of the answers, and forks one child per run.

Started by ``grader.runner.pool`` as ``python -m grader.runner.zygote FD``. Forking from a
process that already imported torch costs ≈10 ms, against ≈900 ms for a
fresh interpreter that imports it (measured). It never computes a reference, never sees
a result (children write straight to pipes the trusted process owns, passed
in with SCM_RIGHTS), and runs torch single-threaded so no OpenMP pool exists
to deadlock a forked child.

On the socket (``grader.runner.wire`` describes each message): the zygote says
``ZygoteReady`` once, then for every request (a ``RequestHeader`` and the inputs,
with the result and output pipe ends attached) forks a child, waits at most the
time budget, kills the child's process group on overrun, and answers ``ChildExit``.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING

from grader.runner import wire

if TYPE_CHECKING:
    from grader.runner.sandbox import Prepared


def serve(sock: socket.socket, warm: bool) -> None:
    """Answer requests until the trusted process closes the socket."""
    prepared = start(warm)
    from grader.runner import child, sandbox

    sock.sendall(wire.pack_ready(wire.ZygoteReady(layers=sandbox.describe(prepared))))

    while True:
        try:
            message, fds, _flags, _addr = socket.recv_fds(sock, wire.MAX_REQUEST_BYTES, 4)
        except (ConnectionError, OSError):
            os._exit(0)
        if not message:
            # The trusted process is done: leave at once (a normal interpreter exit tears torch
            # down for seconds, and the caller waits for it).
            os._exit(0)
        try:
            header, payload = wire.unpack_request(message)
            if len(fds) != 2:
                raise wire.FrameError(f"request: {len(fds)} descriptors attached, not 2")
        except wire.FrameError as error:
            # Only the trusted process writes requests, so this is the grader's own bug. The pool
            # reports the last line of this log when the socket closes; leave at once, as above.
            os.write(2, f"malformed request: {error}\n".encode())
            os._exit(2)
        result_fd, output_fd = fds
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            sock.close()
            child.run_child(header, payload, result_fd, output_fd, prepared)
        os.close(result_fd)
        os.close(output_fd)
        sock.sendall(wire.pack_exit(_wait(pid, header.timeout, started)))


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


def _wait(pid: int, timeout: float, started: float) -> wire.ChildExit:
    """Wait for the child up to ``timeout`` seconds of wall clock; kill its whole group after that."""
    timed_out = False
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    if pidfd is not None:
        ready, _, _ = select.select([pidfd], [], [], timeout)
        timed_out = not ready
        os.close(pidfd)
    else:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and os.waitpid(pid, os.WNOHANG) == (0, 0):
            time.sleep(0.002)
        timed_out = time.monotonic() >= deadline
    if timed_out:
        _kill_group(pid)
    _, wait_status, usage = os.wait4(pid, 0)
    # Anything the child left in its group (possible only without the seccomp layer) goes too.
    _kill_group(pid)
    return wire.ChildExit(
        exit_code=os.waitstatus_to_exitcode(wait_status),
        timed_out=timed_out,
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
    # replaced from a job thread would die with that thread. A closed socket ends the loop instead.
    sock = socket.socket(fileno=int(sys.argv[1]))
    serve(sock, warm="--warm" in sys.argv[2:])


if __name__ == "__main__":
    main()
