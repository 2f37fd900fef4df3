"""grader.runner.pool with real zygote children: every way a run can end is reported as data, and the pool lives on."""

from __future__ import annotations

import time

import pytest

from grader.runner import pool as pool_module, wire
from grader.core.cases import build_cases
from grader.runner.pool import RunRequest, request_header
from helpers import REPO, spec as exercise, SUBMISSIONS

EX03 = exercise("ex03")


def ex03_request(source: str, timeout: float = 10.0) -> RunRequest:
    """A run of ex03's public case, built the way grader.core.pipeline builds it."""
    cases = build_cases(EX03, 2026, include_hidden=False)
    return RunRequest(
        exercise_id="ex03",
        protocol=EX03.protocol,
        function=EX03.function,
        source=source,
        filename=EX03.filename,
        inputs=tuple(case.input for case in cases),
        timeout=timeout,
        memory_mb=1024,
    )


def fixture_source(scenario: str) -> str:
    return (SUBMISSIONS / scenario / EX03.filename).read_text(encoding="utf-8")


@pytest.fixture
def still_works(pool):
    """After the test: does the pool still grade the correct solution?"""
    yield
    after = pool.run(ex03_request(fixture_source("correct")))
    assert after.status == "ok", after
    assert after.cases[0].error is None


def test_correct_solution_runs_ok(pool):
    """Does the correct ex03 come back 'ok' with y and x.grad as tensors?"""
    result = pool.run(ex03_request(fixture_source("correct")))
    assert result.status == "ok"
    (case,) = result.cases
    assert case.error is None
    assert case.returned.data is not None and case.grad.data is not None


def test_hang_is_stopped_at_the_time_budget(pool, still_works):
    """Is a sleeping child killed at its 1 s budget and reported 'timeout', well before 5 s?"""
    started = time.monotonic()
    result = pool.run(ex03_request(fixture_source("hang"), timeout=1.0))
    elapsed = time.monotonic() - started
    assert result.status == "timeout"
    assert elapsed < 5.0
    assert result.wall >= 1.0


def test_crash_is_reported_with_its_signal(pool, still_works):
    """Is a child that segfaults reported 'crashed' with SIGSEGV, and no cases?"""
    result = pool.run(ex03_request(fixture_source("crash")))
    assert result.status == "crashed"
    assert result.detail == "SIGSEGV"
    assert result.cases == ()


def test_early_exit_gives_no_result_and_its_print_is_only_output(pool, still_works):
    """Does os._exit(0) after printing fake JSON give 'no_result', the JSON only in the captured output?"""
    result = pool.run(ex03_request(fixture_source("exit_early")))
    assert result.status == "no_result"
    assert result.exit_code == 0
    assert result.cases == ()
    assert '{"score": 100}' in result.output


def test_sys_exit_is_a_case_error(pool, still_works):
    """Is sys.exit() inside the function caught as a SystemExit error of that case, not an end of the run?"""
    result = pool.run(ex03_request(fixture_source("sys_exit")))
    assert result.status == "ok"
    (case,) = result.cases
    assert case.error is not None and case.error.type_name == "SystemExit"


def test_chatty_output_is_capped(pool, still_works):
    """Does a child printing megabytes still pass, with output kept to OUTPUT_CAP and the rest counted?"""
    result = pool.run(ex03_request(fixture_source("chatty")))
    assert result.status == "ok"
    assert result.cases[0].error is None
    assert 0 < len(result.output.encode("utf-8")) <= pool_module.OUTPUT_CAP
    assert result.output_dropped > 0
    assert result.output.startswith("debug: still computing")


READ_SECRET = """import os
import torch


def sum_backward(x):
    return torch.tensor(float(len({call})))
"""


@pytest.mark.parametrize("call", [
    f"open({str(REPO / 'solutions' / EX03.filename)!r}).read()",
    f"os.listdir({str(REPO / 'solutions')!r})",
    "open('../../solutions/" + EX03.filename + "').read()",
    f"open({str(SUBMISSIONS / 'correct' / EX03.filename)!r}).read()",
], ids=["solution-file", "solutions-dir", "relative-path", "other-submission"])
def test_child_cannot_read_solutions_or_other_submissions(pool, still_works, call):
    """Can a submission read the reference solution or another submission? (It must not.)"""
    result = pool.run(ex03_request(READ_SECRET.format(call=call)))
    assert result.status == "ok"
    (case,) = result.cases
    assert case.error is not None, f"the child read it: {case.returned}"
    assert case.error.type_name in ("PermissionError", "FileNotFoundError")


IMPORT_PATH = """import sys
import torch


def sum_backward(x):
    try:
        import solutions  # noqa: F401
        found = 1.0
    except ImportError:
        found = 0.0
    course = any(p in ("", {repo!r}) for p in sys.path)
    return torch.tensor([found, float(course)])
"""


def test_course_folder_is_not_on_the_childs_import_path(pool, still_works):
    """Is the course folder off sys.path in the child, so `import solutions` fails? (Scrubbed once, in the zygote.)"""
    result = pool.run(ex03_request(IMPORT_PATH.format(repo=str(REPO))))
    (case,) = result.cases
    assert case.error is None, case.error
    assert case.returned.data.tolist() == [0.0, 0.0]


SPAWN = """import os
import subprocess
import torch


def sum_backward(x):
{body}
    return torch.tensor(1.0)
"""


@pytest.mark.parametrize("body", [
    "    pid = os.fork()\n    if pid == 0:\n        os._exit(0)\n    os.waitpid(pid, 0)",
    "    subprocess.run(['/bin/true'], check=True)",
], ids=["fork", "subprocess"])
def test_child_cannot_start_processes(pool, still_works, body):
    """Can a submission fork or start a program? (It must get an error instead.)"""
    result = pool.run(ex03_request(SPAWN.format(body=body)))
    assert result.status == "ok"
    (case,) = result.cases
    assert case.error is not None, "the child started a process"
    assert case.error.type_name in ("PermissionError", "OSError", "BlockingIOError")


SIGNAL = """import os
import torch


def sum_backward(x):
    os.kill(os.getpid(), {signum})
    return torch.tensor(1.0)
"""


def test_unnamed_signal_is_reported_as_a_crash(pool, still_works):
    """Is a child killed by a real-time signal (no name in signal.Signals) reported 'crashed', not an exception?"""
    result = pool.run(ex03_request(SIGNAL.format(signum=40)))
    assert result.status == "crashed"
    assert result.detail == "signal 40"


def test_request_header_says_what_the_zygote_reads(tmp_path):
    """Does request_header give the zygote every field of the request, and survive the wire unchanged?"""
    request = ex03_request(fixture_source("correct"))
    header = request_header(request, tmp_path)
    assert header.module == "submission_ex03" and header.scratch == str(tmp_path)
    assert (header.timeout, header.memory_mb, header.readable) == (10.0, 1024, ())
    message = wire.pack_request(header, wire.dump_inputs(request.inputs))
    assert wire.unpack_request(message)[0] == header


def _judged(result: bytes, exit_code: int = 0, timed_out: bool = False) -> pool_module.RunResult:
    """What the pool makes of a child that exited so and left ``result`` on its pipe (one case sent)."""
    collected = pool_module._Collected(result=bytearray(result),
                                       exit=wire.ChildExit(exit_code, timed_out, max_rss_kb=1, wall=0.1))
    return pool_module._interpret(collected, 1)


CASE = {"error": None, "stage": "call", "returned": {"kind": "none"}, "grad": {"kind": "none"}}


@pytest.mark.parametrize("tree, status", [
    ({"status": "ok", "cases": [CASE]}, "ok"),
    ({"status": "ok", "cases": []}, "invalid_result"),
    ({"status": "ok", "cases": [{**CASE, "stage": "sideways"}]}, "invalid_result"),
    ({"status": "load_error", "error": {"type": "SyntaxError", "message": "bad", "frames": []}}, "load_error"),
    ({"status": "load_error", "error": {"type": 1}}, "invalid_result"),
    ({"status": "missing_function", "defined": ["helper"]}, "missing_function"),
    ({"status": "missing_function", "defined": "helper"}, "invalid_result"),
    (["ok"], "invalid_result"),
], ids=["ok", "no-case", "bad-case", "load-error", "bad-error", "missing-function", "bad-defined", "not-a-mapping"])
def test_result_frames_are_judged_by_their_envelope(tree, status):
    """Does each envelope become its status, and every malformed one 'invalid_result' (never an exception)?"""
    assert _judged(wire.frame(wire.dump(tree))).status == status


@pytest.mark.parametrize("exit_code, timed_out, status", [
    (0, True, "timeout"),
    (wire.EXIT_SANDBOX_FAILED, False, "sandbox_failed"),
    (wire.EXIT_HARNESS_FAILED, False, "invalid_result"),
    (-11, False, "crashed"),
    (-24, False, "timeout"),
    (0, False, "no_result"),
    (1, False, "no_result"),
], ids=["timed-out", "sandbox", "harness", "segv", "sigxcpu", "exit-0-nothing", "exit-1"])
def test_exits_without_a_result_are_judged_by_their_exit(exit_code, timed_out, status):
    """Is a child that sent no frame judged by how it exited, as the zygote reported it (SIGXCPU is a timeout)?"""
    assert _judged(b"", exit_code, timed_out).status == status
