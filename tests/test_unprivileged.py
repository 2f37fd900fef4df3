"""Students are not root: `grader check` in a student copy, run by an ordinary user, works with the layers left.

The test runs as root only to become that user: in a private mount namespace it
makes the interpreter and the virtual environment reachable to uid 65534 (here
they live under a 0700 /root, as a student's would not), then drops to that uid
with no groups and no capabilities and execs `python -m grader check` in a
student copy that the user owns. Nothing on the host changes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from helpers import REPO, SUBMISSIONS

STUDENT = 65534

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the user switch below is Linux-only"),
    pytest.mark.skipif(os.geteuid() != 0, reason="becoming another user needs root (CI runs as root)"),
]

BECOME_STUDENT = textwrap.dedent("""
    # As root: a private mount namespace where the interpreter is reachable to the student, then the
    # student's uid, no groups, no capabilities, and their own program.
    import os, sys
    sys.path.insert(0, sys.argv[1])
    from grader.runner.sandbox import libc as native, mounts
    uid = int(sys.argv[2])
    needed = tuple(os.path.realpath(p) for p in sys.argv[3].split(os.pathsep))
    masks, unfixable = mounts.plan_views(needed, uid, uid)
    if unfixable:
        raise SystemExit(f"not readable by uid {uid}: {unfixable}")
    lib = native.libc()
    mounts.expose(lib, masks)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    os.chdir(sys.argv[4])
    os.execve(sys.argv[5], sys.argv[5:], {"PATH": "/usr/bin:/bin", "HOME": sys.argv[4], "LANG": "C.UTF-8"})
""")


@pytest.fixture(scope="module")
def student_copy():
    """A student copy made by `grader dist`, owned by the student, in a folder they can reach."""
    base = Path(tempfile.mkdtemp(prefix="grader-student-", dir="/tmp"))
    os.chmod(base, 0o755)
    copy = base / "copy"
    made = subprocess.run([sys.executable, "-m", "grader", "--course", str(REPO), "dist", str(copy)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    for file in (SUBMISSIONS / "correct" / "ex03_sum_backward.py", SUBMISSIONS / "ex03_weighted" / "ex03_sum_backward.py"):
        shutil.copy(file, copy / f"{file.parent.name}_ex03.py")
    for root, dirs, files in os.walk(base):
        for name in (*dirs, *files):
            os.chown(os.path.join(root, name), STUDENT, STUDENT)
    os.chown(base, STUDENT, STUDENT)
    yield copy
    shutil.rmtree(base, ignore_errors=True)


def as_student(copy: Path, *args: str) -> subprocess.CompletedProcess:
    needed = os.pathsep.join([sys.base_prefix, sys.prefix, os.path.realpath(sys.executable), str(copy)])
    command = [sys.executable, "-c", BECOME_STUDENT, str(REPO), str(STUDENT), needed, str(copy),
               sys.executable, "-m", "grader", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_student_checks_a_correct_file_as_an_ordinary_user(student_copy):
    """Does `grader check` pass a correct file for an ordinary user, saying which layers it could not use?"""
    checked = as_student(student_copy, "check", "ex03", "--file", "correct_ex03.py", "--lang", "en")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "1/1 points from public cases" in checked.stdout and "✓ x.grad ≈ 2x" in checked.stdout
    assert f"not running as root (uid {STUDENT})" in checked.stderr  # it ran as the student, and says what is missing
    assert "Traceback" not in checked.stderr


def test_student_gets_the_hint_as_an_ordinary_user(student_copy):
    """Does a typical mistake get its hint, with exit code 1, for an ordinary user too?"""
    checked = as_student(student_copy, "check", "ex03", "--file", "ex03_weighted_ex03.py", "--lang", "en")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "weights each element" in checked.stdout
    assert "Traceback" not in checked.stderr
