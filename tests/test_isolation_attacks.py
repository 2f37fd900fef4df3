"""The known isolation gaps (docs/isolation.md, "Known gaps"), each attacked by a realistic submission graded in a class.

Written before the fixes: a test here fails for as long as its gap is open. Every attack lives in
``tests/fixtures/attacks/<name>/`` as a whole submission (its non-attacking exercises are plain
copies of the correct files) and is graded with ``grade_class`` through a real ``Pool(jobs=2)``
beside correct victims (copies of ``tests/fixtures/submissions/correct``, each file tagged
``# VICTIM-MARKER-<name>``), so attacker and victims run concurrently. Each test checks: every
victim's full marks, the attacker's honest score (the attacking exercise 0, the rest full, from
``course.config``), a complete grades.csv, and what the feedback says.

Everything lives in a world-writable folder under /tmp: file modes alone would let uid 65534 in,
so only the sandbox keeps a child out.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from helpers import FIXTURES, REPO, SUBMISSIONS
from grader.commands.grade import GradeOptions, grade_class
from grader.runner.pool import Pool

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox under attack is Linux's")

ATTACKS = FIXTURES / "attacks"
EX03 = "ex03"
MARKER = "VICTIM-MARKER-"
GRADER_FAULT = ("not your fault", "could not isolate")


# --------------------------------------------------------------------------- plumbing


def add_victims(submissions: Path, count: int, prefix: str = "victim") -> list[str]:
    """``count`` copies of the correct submission, every file opening with its owner's marker comment."""
    names = [f"{prefix}{index}" for index in range(1, count + 1)]
    for name in names:
        folder = submissions / name
        folder.mkdir(parents=True)
        for source in sorted((SUBMISSIONS / "correct").glob("*.py")):
            (folder / source.name).write_text(f"# {MARKER}{name}\n" + source.read_text("utf-8"), "utf-8")
    return names


def add_attack(submissions: Path, attack: str, name: str | None = None, **placeholders: str) -> str:
    """Copy ``tests/fixtures/attacks/<attack>`` into the class as ``name``, filling in ``__KEY__`` placeholders."""
    name = name or attack
    folder = submissions / name
    folder.mkdir(parents=True)
    for source in sorted((ATTACKS / attack).glob("*.py")):
        text = source.read_text("utf-8")
        for key, value in placeholders.items():
            text = text.replace(f"__{key}__", value)
        (folder / source.name).write_text(text, "utf-8")
    return name


def open_up(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o777 if path.is_dir() else 0o666)


def grade(course, pool, submissions: Path, out: Path, **options):
    open_up(submissions)
    return grade_class(course, [submissions], GradeOptions(out=out, jobs=2, lang="en", **options), pool)


def csv_rows(out: Path) -> dict[str, dict[str, float]]:
    with (out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        return {row["submission"]: {k: float(v) for k, v in row.items() if k != "submission"}
                for row in csv.DictReader(handle)}


def results(out: Path, name: str) -> dict:
    return json.loads((out / name / "results.json").read_text("utf-8"))


def feedback(out: Path, name: str, exercise_id: str = EX03) -> str:
    return "\n".join(t["output"] for t in results(out, name)["tests"] if t["name"].startswith(exercise_id))


def points(course) -> dict[str, float]:
    return {e.id: e.points for e in course.config.exercises}


def assert_complete_csv(out: Path, course, names: list[str]) -> dict[str, dict[str, float]]:
    rows = csv_rows(out)
    assert sorted(rows) == sorted(names), rows
    for name, row in rows.items():
        assert set(row) == {*points(course), "total"}, row
        assert row["total"] == pytest.approx(sum(row[e] for e in points(course)), abs=1e-3), (name, row)
    return rows


def assert_full_marks(out: Path, course, victims: list[str]) -> None:
    rows = csv_rows(out)
    for name in victims:
        document = results(out, name)
        failing = [f"{t['name']}: {t['output']}" for t in document["tests"] if t["status"] != "passed"]
        assert rows[name] == {**points(course), "total": course.config.max_points}, (name, failing)
        assert document["score"] == document["max_score"] == course.config.max_points, (name, failing)
        assert (out / name / "grade.json").is_file(), name


def assert_honest_score(out: Path, course, name: str, attacking: tuple[str, ...] = (EX03,)) -> None:
    """The attacking exercises earn 0, every other one full marks: the attack gained (and cost) nothing else."""
    row = csv_rows(out)[name]
    expected = {e: (0.0 if e in attacking else p) for e, p in points(course).items()}
    assert {e: row[e] for e in expected} == expected, (row, feedback(out, name))
    assert row["total"] == pytest.approx(course.config.max_points - sum(points(course)[e] for e in attacking))


def everything_under(root: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def disk_usage(root: Path) -> int:
    """Bytes of blocks allocated under ``root`` (like du)."""
    total = 0
    for folder, dirs, files in os.walk(root):
        for entry in (*dirs, *files):
            try:
                total += os.lstat(os.path.join(folder, entry)).st_blocks * 512
            except OSError:
                pass
    return total


def mem_available() -> int:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) << 10
    raise RuntimeError("no MemAvailable")


class MemoryWatch:
    """Samples MemAvailable every 20 ms in a thread; ``drop`` is the largest fall below the baseline."""

    def __init__(self):
        self.baseline = max(mem_available() for _ in range(5))
        self.lowest = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.02):
            self.lowest = min(self.lowest, mem_available())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)

    @property
    def drop(self) -> int:
        return self.baseline - self.lowest


class Listeners:
    """A path-named Unix socket (0777, in a 0777 folder), an abstract one and TCP 127.0.0.1: who connects, and what they send."""

    def __init__(self, folder: Path):
        folder.mkdir()
        os.chmod(folder, 0o777)
        self.path = str(folder / "host.sock")
        self.abstract = f"grader-attack-{secrets.token_hex(6)}"
        self.sockets = {}
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.bind(self.path)
        os.chmod(self.path, 0o777)
        self.sockets["path"] = unix
        abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        abstract.bind("\0" + self.abstract)
        self.sockets["abstract"] = abstract
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.bind(("127.0.0.1", 0))
        self.port = tcp.getsockname()[1]
        self.sockets["tcp"] = tcp
        self.received: list[tuple[str, bytes]] = []
        self._stop = threading.Event()
        self._threads = []
        for kind, sock in self.sockets.items():
            sock.listen(16)
            sock.settimeout(0.2)
            thread = threading.Thread(target=self._accept, args=(kind, sock), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _accept(self, kind, sock):
        while not self._stop.is_set():
            try:
                conn, _ = sock.accept()
            except (TimeoutError, socket.timeout, OSError):
                continue
            with conn:
                conn.settimeout(1.0)
                try:
                    data = conn.recv(256)
                except OSError:
                    data = b""
            self.received.append((kind, data))

    def control(self) -> None:
        """Connect from the test itself: proves each listener was really listening."""
        for kind, family, address in (("path", socket.AF_UNIX, self.path),
                                      ("abstract", socket.AF_UNIX, "\0" + self.abstract),
                                      ("tcp", socket.AF_INET, ("127.0.0.1", self.port))):
            with socket.socket(family, socket.SOCK_STREAM) as conn:
                conn.settimeout(5)
                conn.connect(address)
                conn.sendall(f"CONTROL {kind}".encode())
        deadline = time.monotonic() + 5
        while sum(1 for _, data in self.received if data.startswith(b"CONTROL")) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(2)
        for sock in self.sockets.values():
            sock.close()


# --------------------------------------------------------------------------- processes (the outliving attack)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, ppid) of a live process, None when gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else (fields[0], int(fields[1]))


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(root: int) -> set[int]:
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _stat(int(entry))) is not None:
            table[int(entry)] = info[1]
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in table.items() if parent in frontier} - found
        found |= frontier
    return found


def alive_zygotes(pids: set[int]) -> set[int]:
    """Those of ``pids`` still alive and still a zygote or a child forked from one (not a recycled pid)."""
    return {pid for pid in pids if _stat(pid) is not None and "grader.runner.zygote" in _cmdline(pid)}


def wait_until(predicate, seconds: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def grader_command(submissions: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "grader", "grade", str(submissions), "-o", str(out), "--jobs", "2", *extra]


# --------------------------------------------------------------------------- 1. cross-student sabotage (gap 1)


@pytest.mark.slow
def test_sabotage_of_concurrent_classmates_changes_no_grade(course, batch_pool, arena):
    submissions, out = arena / "class", arena / "out"
    victims = add_victims(submissions, 5)
    attacker = add_attack(submissions, "sabotage_neighbours", "attacker_sabotage")  # sorts first: runs beside them
    names = [attacker, *victims]

    report = grade(course, batch_pool, submissions, out)
    assert report.graded == len(names)
    assert_complete_csv(out, course, names)
    assert_full_marks(out, course, victims)
    assert_honest_score(out, course, attacker)
    assert "x.grad" in feedback(out, attacker)  # graded on its (wrong) answer, not on a crash or a timeout

    # Nothing recorded as final is wrong: grading again into the same folder keeps every victim's marks.
    again = grade(course, batch_pool, submissions, out)
    assert again.graded + again.resumed == len(names)
    assert_complete_csv(out, course, names)
    assert_full_marks(out, course, victims)
    assert_honest_score(out, course, attacker)


# --------------------------------------------------------------------------- 2. reading classmates' code (gap 2)


@pytest.mark.slow
def test_no_classmate_source_can_be_found_in_memory(course, batch_pool, arena):
    submissions, out = arena / "class", arena / "out"
    victims = add_victims(submissions, 4)
    attacker = add_attack(submissions, "read_classmates", "zz_reader")  # sorts last: the victims' runs came first
    names = [*victims, attacker]

    report = grade(course, batch_pool, submissions, out)
    assert report.graded == len(names)
    rows = assert_complete_csv(out, course, names)
    assert_full_marks(out, course, victims)
    # It solves nothing itself: any point would have come from a stolen solution.
    assert rows[attacker] == {**{e: 0.0 for e in points(course)}, "total": 0.0}, feedback(out, attacker)
    assert "Not attempted yet" in feedback(out, attacker)
    leaked = (out / attacker / "results.json").read_text("utf-8")
    assert MARKER not in leaked, [line for line in leaked.splitlines() if MARKER in line][:5]
    assert MARKER.encode() not in (out / attacker / "grade.json").read_bytes()


# --------------------------------------------------------------------------- 3. outliving the grader (gap 3)


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["ctrl_c", "sigkill_zygotes", "sigkill_grader"])
def test_no_child_outlives_the_grader(stop, course, arena):
    submissions, out, tmp = arena / "class", arena / "out", arena / "tmp"
    tmp.mkdir()
    os.chmod(tmp, 0o777)
    tag = secrets.token_hex(4)
    victims = add_victims(submissions, 1)
    attacker = add_attack(submissions, "outlive_grader", "attacker_outlive", TAG=tag)
    open_up(submissions)
    env = {k: v for k, v in os.environ.items() if k != "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"}
    env["TMPDIR"] = str(tmp)  # scratch folders (and the attack's heartbeat in its cwd) land here
    command = grader_command(submissions, out, "--lang", "en", "--timeout", "30")
    grader = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)  # its own process group, as a shell job has
    watched: set[int] = set()
    attacker_pid = None

    def sandboxed_children() -> set[int]:
        """Children of this grader's zygotes: the sandboxed processes running student code right now."""
        tree = descendants(grader.pid)
        zygotes = {pid for pid in tree if (info := _stat(pid)) and info[1] == grader.pid}
        return {pid for pid in tree if (info := _stat(pid)) and info[1] in zygotes}

    def lingering() -> int | None:
        """A sandboxed child alive across 1.5 s: the attack (every honest exercise takes milliseconds)."""
        before = sandboxed_children()
        time.sleep(1.5)
        return next(iter(before & sandboxed_children()), None)

    try:
        found: list[int] = []
        started = wait_until(lambda: grader.poll() is not None or bool(found.append(lingering() or 0) or found[-1]),
                             120, 0.1)
        attacker_pid = found[-1] if found else None
        assert started and attacker_pid, f"no lingering sandboxed child (grader exit {grader.poll()})"
        watched = descendants(grader.pid) | {attacker_pid}
        zygotes = {pid for pid in watched if (info := _stat(pid)) and info[1] == grader.pid
                   and "grader.runner.zygote" in _cmdline(pid)}
        assert zygotes and attacker_pid in watched, (zygotes, attacker_pid, watched)

        if stop == "ctrl_c":
            os.killpg(grader.pid, signal.SIGINT)  # what a terminal does on Ctrl-C: the whole foreground group
        elif stop == "sigkill_zygotes":
            for pid in zygotes:
                os.kill(pid, signal.SIGKILL)
        else:
            grader.send_signal(signal.SIGKILL)

        # Within a few seconds nothing of the attack is left.
        gone = wait_until(lambda: attacker_pid not in alive_zygotes({attacker_pid}), 5)
        assert gone, f"the attack (pid {attacker_pid}) outlived the grader ({stop})"
        if stop != "sigkill_zygotes":  # the grader itself is gone: so must every process it started be
            if stop == "ctrl_c":
                grader.wait(timeout=30)
            assert wait_until(lambda: not alive_zygotes(watched), 10), f"left behind: {alive_zygotes(watched)}"
        else:  # the grader goes on with fresh workers; the attacked exercise is not the student's full marks
            code = grader.wait(timeout=120)
            summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
            failures = {name: json.loads((out / name / "results.json").read_text())["tests"]
                        for name in summary.get("grader_failures", [])}
            assert code == 0, f"exit {code}; grader failures: {failures}"
            rows = csv_rows(out)
            assert rows[attacker][EX03] == 0
            assert_full_marks(out, course, victims)
            assert wait_until(lambda: not alive_zygotes(watched), 10), f"left behind: {alive_zygotes(watched)}"
    finally:
        # Whatever the outcome, end what this test started (by pid, after checking it is still ours).
        if grader.poll() is None:
            grader.kill()
        grader.wait(timeout=30)
        for pid in alive_zygotes(watched):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# --------------------------------------------------------------------------- 4. memory outside RLIMIT_AS (gap 4)


@pytest.mark.slow
def test_memfd_hog_cannot_hold_more_than_its_memory_allowance(course, batch_pool, arena):
    assert course.config.exercise(EX03).memory_mb <= 1024, "the attack assumes ex03 may allocate at most 1 GiB"
    submissions, out = arena / "class", arena / "out"
    attacker = add_attack(submissions, "memfd_hog", "attacker_memfd")
    victims = add_victims(submissions, 4)
    names = [attacker, *victims]

    with MemoryWatch() as memory:
        report = grade(course, batch_pool, submissions, out)
    assert report.graded == len(names)
    assert_complete_csv(out, course, names)
    assert_full_marks(out, course, victims)
    # It answers correctly only when it held 1.5 GiB: full marks on ex03 would mean the cap did not hold.
    assert_honest_score(out, course, attacker)
    text = feedback(out, attacker)
    assert any(phrase in text for phrase in ("MemoryError", "out of memory", "crashed", "could hold only")), text
    assert memory.drop < 1 << 30, f"the host lost {memory.drop >> 20} MiB of available memory during the run"


# --------------------------------------------------------------------------- 5. disk (gap 5)


@pytest.mark.slow
def test_disk_filler_is_stopped_and_leaves_nothing_behind(course, arena, monkeypatch):
    submissions, out, tmp = arena / "class", arena / "out", arena / "tmp"
    tmp.mkdir()
    os.chmod(tmp, 0o777)
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR: the pool's scratch goes under ``tmp``
    attacker = add_attack(submissions, "disk_filler", "attacker_disk")
    victims = add_victims(submissions, 4)
    names = [attacker, *victims]

    with Pool(jobs=2) as pool:
        pool.layers()
        before = disk_usage(tmp)
        report = grade(course, pool, submissions, out, timeout=40.0)
        after = disk_usage(tmp)
    assert report.graded == len(names)
    assert_complete_csv(out, course, names)
    assert_full_marks(out, course, victims)
    # It answers correctly only when all 2 GiB and 100,000 files were written: that must be refused.
    assert_honest_score(out, course, attacker)
    text = feedback(out, attacker)
    assert any(phrase in text for phrase in ("OSError", "Errno", "No space", "quota", "File too large")), text
    assert abs(after - before) <= 50 << 20, f"TMPDIR holds {(after - before) >> 20} MiB more than before the run"


# --------------------------------------------------------------------------- 6. host sockets (gap 6)


def test_no_host_socket_is_reachable(course, batch_pool, arena):
    submissions, out = arena / "class", arena / "out"
    listeners = Listeners(arena / "sockets")
    try:
        attacker = add_attack(submissions, "host_socket", "attacker_socket", SOCKET_PATH=listeners.path,
                              ABSTRACT_NAME=listeners.abstract, TCP_PORT=str(listeners.port))
        victims = add_victims(submissions, 1)
        report = grade(course, batch_pool, submissions, out, timeout=5.0)
        time.sleep(0.3)
        attacks = [entry for entry in listeners.received if not entry[1].startswith(b"CONTROL")]
        listeners.control()
        controls = [entry for entry in listeners.received if entry[1].startswith(b"CONTROL")]
    finally:
        listeners.close()
    assert len(controls) == 3, f"the listeners did not work: {listeners.received}"
    assert attacks == [], f"connections from the sandbox reached the host: {attacks}"
    assert report.graded == 2
    assert_complete_csv(out, course, [attacker, *victims])
    assert_full_marks(out, course, victims)
    assert_honest_score(out, course, attacker)
    assert "reached: []" in feedback(out, attacker)  # its own view: every attempt was refused


# --------------------------------------------------------------------------- 7. secrets in the environment (gap 7)


def test_grader_environment_secret_never_reaches_the_results(course, arena, monkeypatch):
    token = f"hunter2-{secrets.token_hex(8)}"
    monkeypatch.setenv("SECRET_TOKEN", token)  # before the pool: its zygotes start from this environment
    submissions, out = arena / "class", arena / "out"
    attacker = add_attack(submissions, "secret_environ", "attacker_environ")
    victims = add_victims(submissions, 1)
    with Pool(jobs=2) as pool:
        report = grade(course, pool, submissions, out, timeout=5.0)
    assert report.graded == 2
    assert_complete_csv(out, course, [attacker, *victims])
    assert_full_marks(out, course, victims)
    assert_honest_score(out, course, attacker)
    leaking = [str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
    assert leaking == [], f"the grader's secret is in {leaking}"


# --------------------------------------------------------------------------- 8. faking the grader's fault (gap 8)


def test_reserved_exit_status_is_the_students_own_failure(course, batch_pool, arena):
    submissions, out = arena / "class", arena / "out"
    faked = {add_attack(submissions, "fake_sandbox_failed", "attacker_exit72"): 72,
             add_attack(submissions, "fake_harness_failed", "attacker_exit71"): 71}
    victims = add_victims(submissions, 1)
    names = [*faked, *victims]

    report = grade(course, batch_pool, submissions, out, timeout=5.0)
    assert report.graded == len(names)
    assert_complete_csv(out, course, names)
    assert_full_marks(out, course, victims)
    for name, code in faked.items():
        assert_honest_score(out, course, name)
        text = feedback(out, name)
        assert not any(phrase in text for phrase in GRADER_FAULT), f"exit {code} reads as the grader's fault:\n{text}"
        assert "could not be recorded" not in text, f"exit {code} reads as the grader's trouble:\n{text}"
        assert "ended the process" in text or f"exit code {code}" in text, text
        assert (out / name / "grade.json").is_file(), f"exit {code} was not recorded as final"
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    ex03 = summary["exercises"][EX03]
    assert "sandbox_failed" not in ex03["problems"], ex03
    assert not any("sandbox" in key or "grader" in key for key in ex03["statuses"]), ex03
    assert ex03["statuses"].get("error", 0) + ex03["statuses"].get("failed", 0) == len(faked), ex03

    written = (out / "grades.csv").read_bytes()
    again = grade(course, batch_pool, submissions, out, timeout=5.0)
    assert (again.graded, again.resumed) == (0, len(names)), "a rerun graded them again: not recorded as final"
    assert (out / "grades.csv").read_bytes() == written


# --------------------------------------------------------------------------- 9. both isolation modes


QUICK_ATTACKS = ("fake_sandbox_failed", "fake_harness_failed", "secret_environ", "host_socket")


@pytest.mark.slow
def test_both_isolation_modes_give_identical_grades(course, batch_pool, arena):
    submissions = arena / "class"
    for scenario in sorted(p for p in SUBMISSIONS.iterdir() if p.is_dir()):
        shutil.copytree(scenario, submissions / scenario.name)
    for attack in QUICK_ATTACKS:
        add_attack(submissions, attack, f"attack_{attack}", SOCKET_PATH=str(arena / "nowhere.sock"),
                   ABSTRACT_NAME="grader-attack-nowhere", TCP_PORT="9")
    open_up(submissions)
    graded = {}
    for mode in ("exercise", "submission"):
        out = arena / f"out-{mode}"
        options = GradeOptions(out=out, jobs=2, lang="en", isolate=mode)
        grade_class(course, [submissions], options, batch_pool)
        graded[mode] = (out / "grades.csv").read_text("utf-8")
    assert graded["exercise"] == graded["submission"]
    assert len(graded["exercise"].splitlines()) == 1 + sum(1 for p in submissions.iterdir() if p.is_dir())
