"""Shared fixtures: the real course in this repository, one warm worker pool, fixture submissions, and the sandbox tests' prepare() and scratch course.

Plain constants and functions the tests share live in helpers.py; this module holds only pytest fixtures.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

# One OpenMP thread before torch is imported anywhere in the test process: test_sandbox forks
# this process, and a child forked after OpenMP started its threads deadlocks in its first torch op.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

from grader.commands import check as checking  # noqa: E402
from grader.core.course import Course, find_course  # noqa: E402
from grader.runner import sandbox  # noqa: E402
from grader.runner.pool import Pool  # noqa: E402
from grader.core.results import ExerciseResult  # noqa: E402
from helpers import REPO, SUBMISSIONS, make_course  # noqa: E402


@pytest.fixture(scope="session")
def course() -> Course:
    """The course shipped in this repository (config.yaml, exercises/, solutions/)."""
    return find_course(REPO)


@pytest.fixture(scope="session")
def pool():
    """One zygote worker for the whole session: starting one costs a torch import."""
    with Pool(jobs=1) as shared:
        yield shared


@pytest.fixture(scope="session")
def check_submission(course, pool):
    """check_submission(scenario, exercise_id) -> ExerciseResult for tests/fixtures/submissions/<scenario>."""

    def run(scenario: str, exercise_id: str) -> ExerciseResult:
        path = SUBMISSIONS / scenario / course.config.exercise(exercise_id).filename
        return checking.check(course, (exercise_id,), {exercise_id: path}, pool).result.exercises[0]

    return run


@pytest.fixture(scope="module")
def prepared():
    """sandbox.prepare() for the sandbox tests: what this kernel offers, and the seccomp program."""
    return sandbox.prepare()


@pytest.fixture
def sandbox_course():
    """A scratch course for the sandbox tests (helpers.make_course), laid out with ordinary modes
    (0755 dirs, 0644 files), as the grader's own checkout is. Not the repository's ``course``.

    uid 65534 could read solutions/ by file mode alone: only Landlock keeps the child out.
    """
    base = tempfile.mkdtemp(prefix="sandbox-course-")
    os.chmod(base, 0o755)
    yield make_course(base)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def memory_cgroups():
    """Two memory cgroups of 128 MiB each under this process's own (sandbox.memory); skipped where there are none."""
    from grader.runner.sandbox import memory

    ok, why = memory.available()
    if not ok:
        pytest.skip(f"no memory cgroup here: {why}")
    made = memory.MemoryCgroups.create(2, f"test{os.getpid()}", 128 << 20)
    yield made
    made.remove()


@pytest.fixture
def uid_lease(tmp_path):
    """Two leased uids (sandbox.uids.reserve) with a private lock directory; skipped where uids cannot be leased."""
    from grader.runner.sandbox import uids

    ok, why = uids.available()
    if not ok:
        pytest.skip(f"no uid per child here: {why}")
    lock_dir = tmp_path / "uid-locks"
    with uids.reserve(2, lock_dir=str(lock_dir)) as lease:
        yield lease


@pytest.fixture(scope="module")
def batch_pool():
    """Two zygote workers for a module's class-grading runs (attacker and victims run at once)."""
    with Pool(jobs=2) as pool:
        yield pool


@pytest.fixture
def arena():
    """A world-writable folder outside pytest's private (0700) tmp tree: sandboxed children run as other
    users and must reach what a test puts there."""
    base = Path(tempfile.mkdtemp(prefix="grader-arena-"))
    os.chmod(base, 0o777)
    yield base
    shutil.rmtree(base, ignore_errors=True)
