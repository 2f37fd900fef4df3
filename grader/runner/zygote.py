"""The zygote: a process that has imported torch and nothing of the answers, and forks one child per run.

Started by ``grader.runner.pool`` as ``python -m grader.runner.zygote FD``. Forking from a
process that already imported torch costs ≈10 ms instead of ≈900 ms for a
fresh interpreter (ISOLATION.md). It never computes a reference, never sees
a result (children write straight to pipes the trusted process owns, passed
in with SCM_RIGHTS), and runs torch single-threaded so no OpenMP pool exists
to deadlock a forked child.

Wire: the trusted process sends one request (header + input payload, with
the result and output pipe ends attached); the zygote forks, waits at most
the time budget, kills the child's process group on overrun, and answers
with one JSON status line.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.runner.sandbox import Prepared


def serve(sock: socket.socket, warm: bool) -> None:
    """Answer requests until the trusted process closes the socket."""
    prepared = start(warm)
    from grader.runner import child, sandbox, wire as protocol

    sock.sendall(json.dumps({"ready": True, "layers": sandbox.describe(prepared)}).encode())

    while True:
        try:
            message, fds, _flags, _addr = socket.recv_fds(sock, protocol.MAX_REQUEST_BYTES, 4)
        except (ConnectionError, OSError):
            os._exit(0)
        if not message:
            # The trusted process is done: leave at once (a normal interpreter exit tears torch
            # down for seconds, and the caller waits for it).
            os._exit(0)
        header, payload = protocol.unpack_request(message)
        result_fd, output_fd = fds
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            sock.close()
            child.run_child(header, payload, result_fd, output_fd, prepared)
        os.close(result_fd)
        os.close(output_fd)
        status = _wait(pid, float(header["timeout"]))
        status["wall"] = round(time.monotonic() - started, 4)
        sock.sendall(json.dumps(status).encode())


def start(warm: bool) -> Prepared:
    """Make this process a zygote: torch imported and single-threaded, the sandbox prepared.

    ``warm`` (batch grading): spend ≈1.5 s once at start-up so that hundreds of children do not each
    pay it; a single ``grader check`` starts faster without.
    """
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    from grader.runner import child, sandbox, wire as protocol

    protocol.load(protocol.dump({"warm": [torch.zeros(2, dtype=torch.float64)]}))
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

    madv_hugepage, madv_collapse, huge = 14, 25, 1 << 21
    libc = ctypes.CDLL(None, use_errno=True)
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


def _wait(pid: int, timeout: float) -> dict:
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
    return {
        "exit_code": os.waitstatus_to_exitcode(wait_status),
        "timed_out": timed_out,
        "max_rss_kb": usage.ru_maxrss,
    }


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
