"""grader.runner.pool with real zygote children: every way a run can end is reported as data, a session of
several exercises survives any one of them, the grader's failure is never the student's, and the pool lives on."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
import torch

from grader.core.cases import build_cases
from grader.runner import session, wire
from grader.runner.pool import Pool, RunRequest
from helpers import REPO, SUBMISSIONS, children_of, memory_contains, process_gone, spec as exercise, wait_for

EX03 = exercise("ex03")


def ex03_request(source: str, timeout: float = 10.0, readable: tuple[str, ...] = ()) -> RunRequest:
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
        readable=readable,
    )


def fixture_source(scenario: str) -> str:
    return (SUBMISSIONS / scenario / EX03.filename).read_text(encoding="utf-8")


def correct_printing(word: str = "") -> str:
    """The correct ex03, printing ``pid <its process id> <word>`` when imported and ``call <word>`` when called."""
    return fixture_source("correct").replace(
        "def sum_backward(x):\n",
        f"import os\nprint('pid', os.getpid(), {word!r}, flush=True)\n\n\n"
        f"def sum_backward(x):\n    print('call', {word!r}, flush=True)\n",
    )


RETURN_PID = """import os
import torch


def sum_backward(x):
    return torch.tensor(float(os.getpid()), dtype=torch.float64)
"""
"""Returns its child's process id (what a session's exercises compare to tell one child from a fresh one)."""


def returned_pid(result) -> int:
    """The process id a RETURN_PID (or TAMPER) exercise returned."""
    assert result.cases and result.cases[0].error is None, result
    return int(result.cases[0].returned.data.item())


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
    assert 0 < len(result.output.encode("utf-8")) <= session.OUTPUT_CAP
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


# --------------------------------------------------------------------------- sessions: several exercises, one child

HANG = """import torch


def sum_backward(x):
    while True:
        pass
"""


def test_a_hang_in_a_session_costs_only_itself(pool, still_works):
    """Of three exercises whose second spins forever (1 s budget), are the first and third 'ok', the second
    'timeout', and does the third run in a fresh child?"""
    started = time.monotonic()
    first, second, third = pool.run_session([
        ex03_request(RETURN_PID),
        ex03_request(HANG, timeout=1.0),
        ex03_request(RETURN_PID),
    ])
    elapsed = time.monotonic() - started
    assert (first.status, second.status, third.status) == ("ok", "timeout", "ok"), (first, second, third)
    assert 1.0 <= second.wall and elapsed < 6.0
    assert (first.first, second.first, third.first) == (True, False, True)
    assert returned_pid(first) != returned_pid(third)


def test_exercises_of_a_session_share_one_child(pool):
    """Do exercises that all finish run in one child, one after another (the same process id printed)?"""
    results = pool.run_session([ex03_request(RETURN_PID)] * 3)
    assert [r.status for r in results] == ["ok", "ok", "ok"]
    assert len({returned_pid(r) for r in results}) == 1


def test_output_is_attributed_to_the_exercise_that_printed_it(pool):
    """Does each exercise's output hold only what that exercise printed, not its neighbour's?"""
    alpha, beta = pool.run_session([ex03_request(correct_printing("alpha")),
                                    ex03_request(correct_printing("beta"))])
    assert (alpha.status, beta.status) == ("ok", "ok")
    assert "alpha" in alpha.output and "call alpha" in alpha.output and "beta" not in alpha.output
    assert "beta" in beta.output and "call beta" in beta.output and "alpha" not in beta.output


def test_output_stays_with_its_exercise_across_many_boundaries(pool):
    """Over a dozen sessions of eight exercises each printing its own word, does every exercise's output hold
    exactly its own two lines? (An exercise's last print and its frame arrive on two pipes at once.)"""
    words = [f"word{k}" for k in range(8)]
    misplaced = []
    for _ in range(12):
        results = pool.run_session([ex03_request(correct_printing(word)) for word in words])
        assert [r.status for r in results] == ["ok"] * len(words)
        for word, result in zip(words, results):
            lines = [line.split()[-1] for line in result.output.splitlines()]
            if lines != [word, word]:
                misplaced.append((word, result.output))
    assert not misplaced, f"output given to the wrong exercise: {misplaced[:3]}"


ENDING = """import os
import signal
import torch


def sum_backward(x):
    print("ending now", flush=True)
    {ending}
    return x
"""

ENDINGS = {
    "exit-72": (ENDING.format(ending="os._exit(72)"), "no_result", 72),
    "exit-71-harness-code": (ENDING.format(ending="os._exit(71)"), "no_result", 71),
    "exit-70-setup-code": (ENDING.format(ending="os._exit(70)"), "no_result", 70),
    "exit-70-at-import": ("import os\nos._exit(70)\n", "no_result", 70),
    "sigkill": (ENDING.format(ending="os.kill(os.getpid(), signal.SIGKILL)"), "crashed", -signal.SIGKILL),
}


@pytest.mark.parametrize("source, status, code", ENDINGS.values(), ids=ENDINGS.keys())
def test_a_child_that_ends_itself_is_never_the_graders_failure(pool, still_works, source, status, code):
    """Is an exercise whose code exits (even with a status the harness reserves, which student code can fake) or
    kills itself judged the student's ('no_result', 'crashed'), never 'sandbox_failed', and do the later ones
    still run?"""
    results = pool.run_session([ex03_request(source), ex03_request(correct_printing("after")),
                                ex03_request(correct_printing("last"))])
    assert [r.status for r in results] == [status, "ok", "ok"], results
    assert results[0].exit_code == code
    assert "sandbox_failed" not in {r.status for r in results}


def test_a_child_that_cannot_be_confined_fails_every_exercise_as_the_graders(pool, still_works):
    """Is a session whose child cannot enter its sandbox (a readable path that does not exist) 'sandbox_failed'
    for every exercise, with no student code run?"""
    readable = ("/no/such/path",)
    results = pool.run_session([ex03_request(correct_printing(word), readable=readable) for word in "xyz"])
    assert [r.status for r in results] == ["sandbox_failed"] * 3, results
    assert all(r.cases == () for r in results)
    assert not any("pid " in r.output for r in results), "student code ran in an unconfined child"


TAMPER = """import fcntl
import json
import os
import stat
import struct
import torch

print("pid", os.getpid(), flush=True)


def _events_pipe():
    # The one pipe the child writes that is not its output: found by listing its own descriptors.
    output = os.fstat(1).st_ino
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            info = os.fstat(fd)
            mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
        except OSError:
            continue
        if stat.S_ISFIFO(info.st_mode) and info.st_ino != output and mode == os.O_WRONLY:
            return fd
    raise RuntimeError("no events pipe found")


def _frame(tree):
    header = json.dumps(tree).encode()
    payload = struct.pack("<I", len(header)) + header
    return b"AGRD\\x01" + struct.pack("<Q", len(payload)) + payload


def sum_backward(x):
    os.write(_events_pipe(), {data})
    x.requires_grad_(True)
    y = x * x
    y.sum().backward()
    return y
"""

TAMPERING = {
    "later-index": "_frame({'index': 2, 'result': {'status': 'missing_function', 'defined': []}})",
    "earlier-index": "_frame({'index': 0, 'result': {'status': 'missing_function', 'defined': []}})",
    "garbage": "b'{\"index\": 1, \"score\": 100}' * 4",
    "half-a-frame": "_frame({'index': 1, 'result': {'status': 'missing_function', 'defined': []}})[:-3]",
}


@pytest.mark.parametrize("data", TAMPERING.values(), ids=TAMPERING.keys())
def test_a_forged_frame_is_an_invalid_result_and_the_session_goes_on(pool, still_works, data):
    """Does student code writing a frame for another exercise, or garbage, on the events pipe make that exercise
    'invalid_result', and the next one still run, in a fresh child?"""
    first, forged, last = pool.run_session([ex03_request(RETURN_PID),
                                            ex03_request(TAMPER.format(data=data), timeout=3.0),
                                            ex03_request(RETURN_PID)])
    assert (first.status, forged.status, last.status) == ("ok", "invalid_result", "ok"), (first, forged, last)
    assert returned_pid(first) == int(re.search(r"pid (\d+)", forged.output).group(1)), \
        "the forging exercise did not run in the first one's child"
    assert returned_pid(last) != returned_pid(first)


# --------------------------------------------------------------------------- the zygote: holds nothing, outlives nothing


def _child_of(zygote: int, seconds: float = 30.0) -> int:
    children = wait_for(lambda: children_of(zygote), seconds)
    assert children, f"zygote {zygote} started no child within {seconds} s"
    (child,) = children
    return child


def test_closing_the_pool_ends_its_zygote_and_a_hanging_child():
    """Does closing a pool while a child spins take the zygote and that child down within 2 s?"""
    pool = Pool(jobs=1)
    pool.layers()
    (zygote,) = pool.worker_pids()
    ended: list[object] = []

    def hang() -> None:
        try:
            ended.append(pool.run(ex03_request(HANG, timeout=20.0)))
        except BaseException as error:  # noqa: BLE001 - whatever the run makes of its pool closing under it
            ended.append(error)

    threading.Thread(target=hang, daemon=True).start()
    child = _child_of(zygote)
    time.sleep(0.5)  # let it reach the student's loop
    started = time.monotonic()
    pool.close()
    assert wait_for(lambda: process_gone(zygote) and process_gone(child), 2.0 - (time.monotonic() - started)), \
        f"still running 2 s after close: zygote {zygote} and/or child {child}"
    with pytest.raises(ProcessLookupError):
        os.kill(zygote, 0)  # the pool reaped its zygote: not even a zombie is left


OWNER = """
import json, sys
from helpers import spec
from grader.core.cases import build_cases
from grader.runner.pool import Pool, RunRequest

ex03 = spec("ex03")
inputs = tuple(case.input for case in build_cases(ex03, 2026, include_hidden=False))
pool = Pool(jobs=1)
pool.layers()
print(json.dumps(pool.worker_pids()), flush=True)
pool.run(RunRequest("ex03", ex03.protocol, ex03.function, "while True:\\n    pass\\n", ex03.filename, inputs,
                    timeout=60.0, memory_mb=1024))
print("the run ended", flush=True)
"""


@pytest.mark.slow
def test_killing_the_pools_owner_ends_its_zygote_and_child():
    """When the process that owns a pool is killed with -9 during a hanging run, are its zygote and the child
    gone within a few seconds (nothing the grader started stays)?"""
    owner = subprocess.Popen([sys.executable, "-c", OWNER], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join((str(REPO), str(REPO / "tests")))})
    try:
        line = owner.stdout.readline()
        assert line, owner.stderr.read().decode(errors="replace")
        (zygote,) = json.loads(line)
        child = _child_of(zygote)
        time.sleep(0.5)
        owner.kill()
        owner.wait(timeout=10)
        assert wait_for(lambda: process_gone(zygote) and process_gone(child), 5.0), \
            f"still running 5 s after their owner died: zygote {zygote} and/or child {child}"
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()


def test_the_zygote_never_holds_the_submission(pool):
    """After a run, is a marker unique to the submission's source absent from every writable page of the
    zygote, while the run order it did read (its scratch path) is there?"""
    marker = f"SUBMISSION-MARKER-{uuid.uuid4().hex}"
    source = f"# {marker}\n" + correct_printing(marker)
    result = pool.run(ex03_request(source))
    assert result.status == "ok" and marker in result.output  # the child did get the source
    (zygote,) = pool.worker_pids()
    control = str(pool._workdir).encode() + b"/run-"
    found, read = memory_contains(zygote, [marker.encode(), marker.encode("utf-16-le"), control])
    assert read > 10 << 20, "hardly any memory was read"
    assert control in found, "the scan cannot even find the run order the zygote read"
    assert marker.encode() not in found and marker.encode("utf-16-le") not in found


# --------------------------------------------------------------------------- judging what a child sent (no child)

CASE = {"error": None, "stage": "call", "returned": {"kind": "none"}, "grad": {"kind": "none"}}
ONE_INPUT = RunRequest("ex03", "call", "sum_backward", "", "ex03_sum_backward.py", (torch.ones(2),), 1.0, 64)


def _judged_all(chunks: tuple[bytes, ...] = (), count: int = 1, exit_code: int = 0, timed_out: bool = False,
                confined: bool = True, overran: bool = False, oom: bool = False) -> list[session.RunResult]:
    """What the trusted side makes of a child given ``count`` one-input exercises that sent ``chunks`` on its
    events pipe, then ended so."""
    requests = [ONE_INPUT] * count
    watch = session._Watch(count=count, confined=confined, clock=time.monotonic(), overran=overran)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with ours, theirs:
        for chunk in chunks:
            session._take_frames(watch, chunk, requests, ours)
        watch.exit = wire.ChildExit(exit_code, timed_out, overran, max_rss_kb=1, wall=0.1)
        return session._judge(watch, requests, oom)


def _judged(chunks: tuple[bytes, ...] = (), **how: object) -> session.RunResult:
    """The same for one exercise: its one result."""
    results = _judged_all(chunks, 1, **how)
    assert len(results) == 1, results
    return results[0]


def _exercise_frame(tree: object, index: int = 0) -> bytes:
    return wire.frame(wire.dump({"index": index, "result": tree}))


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
    assert _judged((_exercise_frame(tree),)).status == status


def test_a_frame_split_across_reads_is_put_back_together():
    """Is a frame that arrives a few bytes at a time still read as one result?"""
    data = _exercise_frame({"status": "ok", "cases": [CASE]})
    assert _judged(tuple(data[i : i + 7] for i in range(0, len(data), 7))).status == "ok"


@pytest.mark.parametrize("chunks", [
    (_exercise_frame({"status": "missing_function", "defined": []}, index=1),),
    (b"not a frame at all",),
    (b'{"score": 100}\n' + _exercise_frame({"status": "ok", "cases": [CASE]}),),
], ids=["wrong-index", "garbage", "printed-before"])
def test_events_that_are_not_one_frame_per_exercise_are_an_invalid_result(chunks):
    """Is a frame for another exercise, one too many, or bytes that are no frame, 'invalid_result'?"""
    assert _judged(chunks, exit_code=-9).status == "invalid_result"


@pytest.mark.parametrize("after", [
    _exercise_frame({"status": "ok", "cases": [CASE]}),
    b"x",
], ids=["the-same-frame-again", "a-stray-byte"])
def test_bytes_after_a_frame_break_the_next_exercise_not_the_finished_one(after):
    """Does what follows a whole frame count against the exercise then in progress, the finished one keeping
    its result?"""
    results = _judged_all((_exercise_frame({"status": "ok", "cases": [CASE]}) + after,), count=2, exit_code=-9)
    assert [r.status for r in results] == ["ok", "invalid_result"]


def test_a_result_sent_before_a_crash_still_counts():
    """Does an exercise whose whole frame arrived keep its result, however its child ended afterwards?"""
    assert _judged((_exercise_frame({"status": "ok", "cases": [CASE]}),), exit_code=-11).status == "ok"


@pytest.mark.parametrize("exit_code, timed_out, overran, oom, status, detail", [
    (-9, True, False, False, "timeout", ""),
    (-9, False, True, False, "timeout", ""),
    (-24, False, False, False, "timeout", ""),
    (-9, False, False, True, "out_of_memory", "64 MiB"),
    (-9, False, False, False, "crashed", "SIGKILL"),
    (-11, False, False, False, "crashed", "SIGSEGV"),
    (-40, False, False, False, "crashed", "signal 40"),
    (wire.EXIT_HARNESS_FAILED, False, False, False, "no_result", ""),
    (wire.EXIT_SETUP_FAILED, False, False, False, "no_result", ""),
    (0, False, False, False, "no_result", ""),
    (1, False, False, False, "no_result", ""),
], ids=["backstop", "overran", "sigxcpu", "oom", "sigkill", "segv", "realtime", "harness-code", "setup-code",
        "exit-0-nothing", "exit-1"])
def test_confined_exits_without_a_result_are_the_students(exit_code, timed_out, overran, oom, status, detail):
    """Is a confined child that sent no frame judged by how it ended (SIGXCPU is a timeout), and never
    'sandbox_failed' whatever its exit status?"""
    result = _judged(exit_code=exit_code, timed_out=timed_out, overran=overran, oom=oom)
    assert (result.status, result.detail) == (status, detail)
    assert result.exit_code == exit_code


@pytest.mark.parametrize("exit_code", [wire.EXIT_SETUP_FAILED, 0, 1, -9, -11])
def test_an_unconfined_child_is_the_graders_failure(exit_code):
    """Is a child that never sent its confinement marker 'sandbox_failed', whatever its exit status?"""
    assert _judged(exit_code=exit_code, confined=False).status == "sandbox_failed"
