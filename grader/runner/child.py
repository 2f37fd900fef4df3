"""What a forked child does: confine itself, run the student's file on every case, send back data.

Everything after ``sandbox.enter`` is untrusted: the student's code shares
this process, so nothing here holds an answer, and the only thing that
leaves is one result frame on a private pipe (never stdout, which the
student controls). The function never returns: the child always ends with
``os._exit``.
"""

from __future__ import annotations

import linecache
import os
import signal
import sys
import traceback
import types

from grader.runner import calling as drive, harvest, lifeline, sandbox, wire


def run_child(header: wire.RequestHeader, payload: bytes, result_fd: int, output_fd: int,
              prepared: sandbox.Prepared) -> None:
    """Child entry point, called right after ``os.fork()`` in the zygote; ``payload`` holds the inputs."""
    status = wire.EXIT_SETUP_FAILED
    try:
        lifeline.die_with_parent()
        os.setsid()  # its own process group: the zygote's wall-clock kill takes everything it started
        _redirect_output(output_fd)
        _reset_signals()
        _close_other_fds(keep=(0, 1, 2, result_fd))
        status = wire.EXIT_SANDBOX_FAILED
        sandbox.enter(prepared, sandbox.Policy(
            readable=header.readable,
            scratch=header.scratch,
            memory_bytes=header.memory_mb << 20,
            cpu_seconds=max(1, int(header.timeout) + 1),
        ))
        status = wire.EXIT_HARNESS_FAILED
        os.environ["MPLBACKEND"] = "Agg"  # a student's plotting code must not look for a display
        result = _run(header, payload)
        _flush()
        _write_all(result_fd, wire.pack_result(result))
        status = 0
    except BaseException:  # noqa: BLE001 - the child must always reach os._exit
        # Reaching here is the harness's failure (the student's errors are caught per case):
        # leave the traceback in the captured output for whoever investigates.
        os.write(2, traceback.format_exc().encode("utf-8", "replace"))
    finally:
        _flush()
        os._exit(status)


def _run(header: wire.RequestHeader, payload: bytes) -> wire.ResultEnvelope:
    """Import the submission from its source and run its function on every input."""
    inputs = wire.load_inputs(payload)
    filename, source = header.filename, header.source
    # Tracebacks show the student's own lines without the child reading the file.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(header.module)
    module.__file__ = filename
    sys.modules[header.module] = module
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
        exec(code, module.__dict__)  # noqa: S102 - this is the sandboxed child's whole purpose
    except BaseException as error:  # noqa: BLE001 - SystemExit at import is a load error too
        return wire.ResultEnvelope("load_error", error=harvest.exception(error, filename))
    function = module.__dict__.get(header.function)
    if not callable(function):
        public = sorted(n for n, v in module.__dict__.items() if callable(v) and not n.startswith("_"))
        return wire.ResultEnvelope("missing_function", defined=tuple(public[:20]))
    cases = tuple(drive.run_case(header.protocol, function, given, filename) for given in inputs)
    return wire.ResultEnvelope("ok", cases=cases)


def _redirect_output(output_fd: int) -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(null)
    os.close(output_fd)


def _reset_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _close_other_fds(keep: tuple[int, ...]) -> None:
    """Close every inherited descriptor but ``keep`` (the zygote's socket above all)."""
    previous = -1
    for fd in sorted(set(keep)):
        if fd > previous + 1:  # os.closerange(n, n) closes everything on Python 3.11: never call it empty
            os.closerange(previous + 1, fd)
        previous = fd
    os.closerange(previous + 1, 1 << 20)


def scrub_import_path() -> None:
    """Keep only the interpreter's own directories on sys.path (no cwd, no course folder).

    Called once in the zygote before it forks, not in every child: walking ``sys.modules`` after
    ``import torch`` touches thousands of shared pages, ≈900 copy-on-write faults and 5.5 ms per
    child (measured). Children inherit the scrubbed state.
    """
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    sys.path[:] = [p for p in sys.path if p and any(os.path.abspath(p).startswith(r + os.sep) for r in roots)]
    for name in [n for n in sys.modules if n == "solutions" or n.startswith("solutions.")]:
        del sys.modules[name]


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - the student may have replaced or closed it
            pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
