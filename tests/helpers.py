"""Plain helpers the test modules share: where this repository's course and fixtures live, and feedback as a student reads it.

Test modules import these (``from helpers import REPO``); pytest fixtures live in conftest.py. pytest's default
``prepend`` import mode puts tests/ on sys.path before it imports conftest.py, which is what makes
``import helpers`` work from any test module.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from grader.core.results import ExerciseResult
from grader.i18n import say

REPO = Path(__file__).resolve().parent.parent
"""The repository root: the course (config.yaml, exercises/, solutions/) and the grader's source checkout."""
FIXTURES = REPO / "tests" / "fixtures"
SUBMISSIONS = FIXTURES / "submissions"
"""One folder per scenario, each holding exercise files as a student would hand them in."""


def feedback_text(result: ExerciseResult, lang: str) -> str:
    """Every problem in a result, worded in ``lang`` (what a student would read)."""
    messages = [result.problem] if result.problem else []
    messages += [f.problem for check in result.checks for f in check.findings if f.problem is not None]
    return "\n".join(say(m, lang) for m in messages)

from grader.core.config import load_config  # noqa: E402

COURSE = load_config(REPO / "config.yaml")
"""The repository's course config, loaded once: its exercises are course data, not package constants."""
EXERCISES = COURSE.exercises
EXERCISE_IDS = COURSE.exercise_ids


def copy_course(root: Path, config: bool = True) -> Path:
    """A copy of this repository's course at ``root``: exercises/, solutions/ and (unless ``config`` is
    False) config.yaml, for tests that change a file of it without touching the repository."""
    for folder in ("exercises", "solutions"):
        shutil.copytree(REPO / folder, root / folder)
    if config:
        shutil.copy(REPO / "config.yaml", root / "config.yaml")
    return root


def spec(exercise_id: str):
    """The repository course's ExerciseSpec for ``exercise_id``."""
    return COURSE.exercise(exercise_id)


# --------------------------------------------------------------------------- sandbox tests: fork a child, probe it
# Shared by test_sandbox.py and the per-layer modules (test_landlock.py, test_seccomp.py, ...). Nothing here touches
# torch or starts a thread at import: conftest.py sets torch to one thread before any test forks.

import json  # noqa: E402
import os  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

from grader.runner import sandbox  # noqa: E402

SUBMISSION_SOURCE = "def gradient_4x(x):\n    raise NotImplementedError\n"
SECRET = "reference = 42\n"


def make_course(base):
    """scratch/, submissions/alice/ (readable), solutions/ (must stay hidden), open/ (world-writable)."""
    paths = {name: os.path.join(base, rel) for name, rel in (
        ("scratch", "scratch"), ("submission", "submissions/alice"), ("solutions", "solutions"), ("open", "open"))}
    for path in paths.values():
        os.makedirs(path)
        os.chmod(path, 0o755)
    os.chmod(paths["open"], 0o777)
    for directory, text in ((paths["submission"], SUBMISSION_SOURCE), (paths["solutions"], SECRET)):
        with open(os.path.join(directory, "ex01_gradient_4x.py"), "w") as handle:
            handle.write(text)
        os.chmod(os.path.join(directory, "ex01_gradient_4x.py"), 0o644)
    return paths


def run_sandboxed(prepared, policy, probes, timeout=60.0):
    """Fork; in the child setsid, enter the sandbox, run each probe; return {name: [outcome, detail]}."""
    return run_forked(lambda: sandbox.enter(prepared, policy), probes, timeout)


def run_forked(setup, probes, timeout=60.0):
    """Fork; in the child setsid, run ``setup`` (reported as "enter"), each probe; return {name: [outcome, detail]}.

    The per-layer tests pass one module's install step as ``setup`` to read back what that layer did.
    The child must end normally (exit 0).
    """
    status, report = run_forked_until_death(setup, probes, timeout)
    assert os.waitstatus_to_exitcode(status) == 0, f"child ended with {status}"
    return report


def read(path):
    with open(path) as handle:
        return handle.read()


def write(path):
    with open(path, "w") as handle:
        handle.write("x")
    return os.path.getsize(path)


def try_fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return "forked"


def in_thread():
    import threading

    box = []
    thread = threading.Thread(target=lambda: box.append(sum(range(10))))
    thread.start()
    thread.join()
    return box[0]


def run_forked_until_death(setup, probes, timeout=60.0):
    """Like run_forked, but the child may die: returns (wait status, {name: [outcome, detail]} so far).

    The child sends one JSON line per step as it goes, so a child the kernel kills mid-probe still reports
    which steps it finished ("enter" is ``setup``).
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(read_end)
            os.setsid()

            def send(name, entry):
                os.write(write_end, json.dumps({name: entry}, default=repr).encode() + b"\n")

            started = time.perf_counter()
            try:
                setup()
            except BaseException as error:  # noqa: BLE001
                send("enter", ["error", type(error).__name__, str(error)])
            else:
                send("enter", ["ok", (time.perf_counter() - started) * 1e3])
                for name, probe in probes:
                    try:
                        send(name, ["ok", probe()])
                    except BaseException as error:  # noqa: BLE001
                        send(name, ["error", type(error).__name__, str(error)])
        except BaseException:  # noqa: BLE001
            code = 70
        finally:
            os._exit(code)
    os.close(write_end)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while True:
            ready, _, _ = select.select([read_end], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                pytest.fail("forked child timed out")
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
    report = {}
    for line in b"".join(chunks).splitlines():
        report.update(json.loads(line))
    return status, report


def touch_anonymous(megabytes):
    """Fault in ``megabytes`` MiB of fresh anonymous memory, one write per page."""
    block = bytearray(megabytes << 20)
    block[::4096] = b"\x01" * len(range(0, len(block), 4096))
    return len(block) >> 20


def fill_files(directory, megabytes, per_file=32):
    """Write ``megabytes`` MiB into files of ``per_file`` MiB under ``directory`` (RLIMIT_FSIZE caps each file)."""
    chunk, written = b"x" * (1 << 20), 0
    while written < megabytes:
        with open(os.path.join(directory, f"fill-{written}.bin"), "wb") as handle:
            for _ in range(min(per_file, megabytes - written)):
                handle.write(chunk)
                handle.flush()
                written += 1
    return written


# --------------------------------------------------------------------------- pool tests: the processes a pool leaves


def process_state(pid):
    """The state letter of process ``pid`` (R, S, Z, ...), or None once it is gone (no /proc entry)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2]


def process_gone(pid):
    """Has ``pid`` stopped running: no such process, or a zombie (dead, not yet reaped by whoever inherited it)?"""
    return process_state(pid) in (None, "Z", "X")


def children_of(pid):
    """The pids whose parent is ``pid`` (read from every /proc/<n>/stat, so it sees children of any thread)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                text = handle.read()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def wait_for(predicate, seconds, interval=0.05):
    """Poll ``predicate`` until it returns something truthy or ``seconds`` pass; its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def memory_contains(pid, needles, chunk=16 << 20):
    """Which of the byte strings ``needles`` occur in the writable memory of process ``pid`` (root reads any).

    Reads every rw region of /proc/<pid>/maps through /proc/<pid>/mem; a region the kernel refuses to read
    is skipped. Returns (the needles found, bytes read)."""
    with open(f"/proc/{pid}/maps") as handle:
        regions = [line.split() for line in handle]
    found, total = set(), 0
    overlap = max(len(n) for n in needles) - 1
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as memory:
        for fields in regions:
            if not fields[1].startswith("rw"):
                continue
            low, high = (int(bound, 16) for bound in fields[0].split("-"))
            tail = b""
            for start in range(low, high, chunk):
                try:
                    memory.seek(start)
                    block = memory.read(min(chunk, high - start))
                except OSError:
                    tail = b""
                    continue
                total += len(block)
                window = tail + block
                found.update(n for n in needles if n in window)
                tail = window[-overlap:] if overlap else b""
    return found, total


# --------------------------------------------------------------------------- otter / Gradescope notebooks
def exercise_sources(overrides: dict[str, Path] | None = None, base: str = "solutions") -> list[str]:
    """Every exercise's code in the course's order: from ``base`` (solutions/ or exercises/, the stubs) in
    this repository, except the exercises ``overrides`` maps to another file."""
    return [(overrides or {}).get(d.id, REPO / base / d.filename).read_text("utf-8") for d in EXERCISES]


def overrides_in(folder: Path) -> dict[str, Path]:
    """{exercise id: file} for the exercise files a fixture folder holds (named as in the course)."""
    return {d.id: folder / d.filename for d in EXERCISES if (folder / d.filename).is_file()}


def write_code_notebook(path: Path, cells: list[str]) -> Path:
    """A notebook with one code cell per source, as a student would upload it; returns ``path``."""
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def misconception_ids(keys) -> set[str]:
    """The misconception ids of catalogue keys: without a leading ``hint.``, cut at the next ``.``
    (``hint.accumulated_twice`` -> ``accumulated_twice``, ``no_grad_fn.call_backward`` -> ``no_grad_fn``)."""
    ids = set()
    for key in keys:
        key = str(key)
        if key.startswith("hint."):
            key = key[len("hint."):]
        ids.add(key.split(".", 1)[0])
    return ids


CORPUS_NOTEBOOK = "autograd.ipynb"


def stage_corpus(corpora: dict[str, Path], dest: Path) -> dict[tuple[str, str], str]:
    """A class folder for ``grader grade`` holding every fixture folder of each corpus ({prefix: folder}).

    A folder holding ``autograd.ipynb`` becomes the notebook submission ``<prefix>--<folder>.ipynb`` (the grader
    reads a notebook as a submission of its own, not inside a folder); any other becomes the folder
    ``<prefix>--<folder>``. Returns {(prefix, fixture folder): submission name}."""
    dest.mkdir(parents=True, exist_ok=True)
    names = {}
    for prefix, root in corpora.items():
        for fixture in sorted(p for p in root.iterdir() if p.is_dir()):
            name = f"{prefix}--{fixture.name}"
            if (fixture / CORPUS_NOTEBOOK).is_file():
                shutil.copyfile(fixture / CORPUS_NOTEBOOK, dest / f"{name}.ipynb")
            else:
                shutil.copytree(fixture, dest / name)
            names[(prefix, fixture.name)] = name
    return names
