"""``grader export otter OUT``: an otter-grader 7 autograder whose verdicts come from this package's sandbox.

Writes into OUT: the student notebook (``autograd.ipynb``) and script
(``autograd.py``); one exception-format otter test file per exercise with
one test case per grader check and case group (public ones visible, hidden
ones hidden, points from config.yaml); ``otter_config.json`` enabling
``grader.lms.otter_plugin.AutogradGraderPlugin``; ``requirements.txt`` pinning
torch and this package, whose source ships inside the zip; and the
``autograder.zip`` that ``otter generate`` builds from them, for the exporting interpreter's Python
version, its setup.sh trimmed and fixed by :mod:`grader.lms.gradescope_setup`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import grader
from grader.lms import notebooks
from grader.core import reference
from grader.core.course import Course
from grader.errors import UsageError
from grader.core.scoring import layout

from grader.lms.gradescope_setup import rewrite_zip
from grader.lms.pins import pinned_requirements, torch_pin

PACKAGE_DIR = "autograd-grader"
CPU_WHEELS = "https://download.pytorch.org/whl/cpu"
"""PyTorch's index of CPU-only wheels."""
GRADESCOPE_SOURCE = "/autograder/source/files"
"""Where Gradescope unpacks the zip's files/: requirements.txt installs this package from there."""


def test_file(exercise_id: str, title: str, tests: tuple[tuple[str, bool, float], ...]) -> str:
    """One otter exception-format test file: every case fails unless the plugin sets its verdict."""
    lines = [
        f'"""{exercise_id} · {title}: graded by autograd-grader outside the notebook kernel."""',
        "",
        "from otter.test_files import test_case",
        "",
        "OK_FORMAT = False",
        f"name = {exercise_id!r}",
        f"points = {round(sum(points for _, _, points in tests), 6)!r}",
        "",
    ]
    for index, (name, public, points) in enumerate(tests):
        lines += [
            "",
            f"@test_case(name={name!r}, points={points!r}, hidden={not public!r})",
            f"def test_{index}(env):",
            "    # The verdict comes from grader.lms.otter_plugin, computed in sandboxed processes before the",
            "    # notebook kernel starts; this body only runs if that plugin is missing.",
            '    raise AssertionError("autograd-grader\'s otter plugin did not run: install autograd-grader")',
            "",
        ]
    return "\n".join(lines)


def grading_requirements(course_root: Path) -> str:
    """The autograder's requirements.txt: the grading environment's own pins, torch as its CPU build.

    A bare ``torch==X`` from the default index is the CUDA build (≈2.9 GB of downloads, measured on an
    emulated Gradescope setup); ``X+cpu`` exists only on PyTorch's CPU wheel index, so it cannot be
    resolved to anything else.
    """
    torch = torch_pin(course_root)
    lines = [f"--extra-index-url {CPU_WHEELS}"]
    for requirement in pinned_requirements(course_root):
        if requirement == torch:
            lines.append(requirement.split(";")[0].strip() + ("" if "+" in requirement else "+cpu"))
        else:
            lines.append(requirement)
    lines.append(f"{GRADESCOPE_SOURCE}/{PACKAGE_DIR}[otter]")
    return "\n".join(lines) + "\n"


def export_otter(course: Course, out: Path) -> Path:
    """Write the autograder into ``out``; returns the path of autograder.zip."""
    try:
        from otter.generate import main as otter_generate
    except ImportError:
        raise UsageError(
            "otter-grader is not installed; install the extra: pip install 'autograd-grader[otter]'."
        ) from None
    if not reference.has_solutions(course.root):
        raise UsageError(f"{course.root}: has no solutions/; export from the instructor's copy.")
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out}: exists and is not empty; choose a new folder.")
    out.mkdir(parents=True, exist_ok=True)

    stubs = notebooks.read_stubs(course.root / "exercises", course.exercises)
    import nbformat

    nbformat.write(notebooks.submission_notebook(stubs), out / "autograd.ipynb")
    (out / "autograd.py").write_text(notebooks.script(stubs), "utf-8")

    tests_dir = out / "tests"
    tests_dir.mkdir()
    for spec in course.exercises:
        tests = layout(spec, with_hidden=True)
        (tests_dir / f"{spec.id}.py").write_text(test_file(spec.id, spec.title.en, tests), "utf-8")

    # Staged at the top of OUT: otter generate stores each as files/<name> in the zip.
    _copy_course(course.root, out / "course")
    _copy_package(course.root, out / PACKAGE_DIR)
    otter_config = {
        "lang": "python",
        "show_stdout": False,
        "show_hidden": False,
        # jobs "auto": one grading worker where the container's CPU quota is one CPU or less (Gradescope's
        # default is 0.5), read from the cgroup when grading starts (grader.lms.cpu_quota).
        "plugins": [{"grader.lms.otter_plugin.AutogradGraderPlugin": {"course": "course", "jobs": "auto"}}],
    }
    (out / "otter_config.json").write_text(json.dumps(otter_config, indent=2) + "\n", "utf-8")
    (out / "requirements.txt").write_text(grading_requirements(course.root), "utf-8")

    zip_path = out / "autograder.zip"
    previous = Path.cwd()
    os.chdir(out)  # otter generate only takes files below its working directory
    try:
        otter_generate(
            tests_dir="tests",
            output_path="autograder.zip",
            config="otter_config.json",
            requirements="requirements.txt",
            files=["course", PACKAGE_DIR],
            no_environment=True,
            # The Python the pins were made for, not otter's default (3.13): the exporting interpreter's.
            python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
        )
    finally:
        os.chdir(previous)
    rewrite_zip(zip_path)
    return zip_path


def _copy_course(root: Path, target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    target.mkdir(parents=True)
    shutil.copy2(root / "config.yaml", target / "config.yaml")
    shutil.copytree(root / "exercises", target / "exercises", ignore=ignore)
    shutil.copytree(root / "solutions", target / "solutions", ignore=ignore)


def _copy_package(root: Path, target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    target.mkdir(parents=True)
    shutil.copytree(Path(grader.__file__).resolve().parent, target / "grader", ignore=ignore)
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        if (root / name).is_file():
            shutil.copy2(root / name, target / name)
