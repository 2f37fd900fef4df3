"""``grader dist OUT``: the copy of the course students receive.

It holds the exercise stubs, the ``grader`` package, a config.yaml without
hidden cases or their seed, and ``expected/public.bin`` — the public cases'
inputs and reference runs, computed once here from ``solutions/`` and
stored as inert data. No solutions, no hidden cases, nothing to rebuild them
from. ``grader check`` in the copy works exactly as in the instructor's.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import yaml

from grader.lms import notebooks
from grader.core import reference
from grader.atomic import write_atomic
from grader.commands.exit_codes import EXIT_OK
from grader.core.cases import build_cases
from grader.core.course import Course
from grader.errors import UsageError

PACKAGE_FILES = ("setup.cfg", "pyproject.toml")
NOTEBOOK_REQUIREMENTS = ("ipykernel==7.4.0",)
"""What running autograd.ipynb needs on top of the grading environment: the kernel Jupyter (or VS Code)
starts in the copy's own virtual environment."""
STUDENT_README = """# 自动微分练习 · Autograd exercises

1. 安装 / Set up (once; it includes ipykernel, which runs `autograd.ipynb`):

       python3 -m venv .venv && .venv/bin/pip install -r requirements.txt

   在 Jupyter 中使用这个环境 / To use this environment from a Jupyter installed elsewhere:

       .venv/bin/python -m ipykernel install --user --name autograd --display-name "autograd (.venv)"

   （VS Code 可以直接选择 `.venv` 作为内核 / VS Code can pick `.venv` as the kernel directly.)

2. 在 `exercises/` 中完成练习 / Fill in the functions in `exercises/`.
3. 检查 / Check (或在 Jupyter 中打开 `autograd.ipynb`，运行 `grader.check("ex03")` /
   or open `autograd.ipynb` in Jupyter and run its `grader.check("ex03")` cells;
   `grader.check("ex03", verbose=True)` 显示所有未通过的用例 / shows every failing case,
   `grader.check("ex06", plot=True)` 画出曲线 / draws the curves):

       .venv/bin/grader check ex03          # 中文反馈 (default)
       .venv/bin/grader check ex03 --lang en
       .venv/bin/grader check ex06 --plot   # 画出 sin 与导数 / plot sin and its derivative
       .venv/bin/grader list                # 进度 / progress

`grader check` 只运行公开用例；老师评分时还会运行隐藏用例，所以不要把书上的示例答案写死。
`grader check` runs the public cases only; grading also runs hidden cases, so do not hard-code the book's example.
"""


def make_dist(course: Course, out: Path) -> list[Path]:
    """Write the student copy into ``out`` (which must be new or empty); returns the files written."""
    if not reference.has_solutions(course.root):
        raise UsageError(f"{course.root}: has no solutions/; `grader dist` runs from the instructor's copy.")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out}: exists and is not empty; choose a new folder for the student copy.")
    root = course.root.resolve()
    if root == out.resolve() or root in out.resolve().parents:
        raise UsageError(f"{out}: is inside the course folder; choose a folder outside it.")
    out.mkdir(parents=True, exist_ok=True)

    shutil.copytree(root / "exercises", out / "exercises", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    package = Path(__file__).resolve().parents[1]  # grader/, this module being grader/commands/dist.py
    shutil.copytree(package, out / "grader", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in PACKAGE_FILES:
        source = root / name
        if source.is_file():
            shutil.copy2(source, out / name)
    write_atomic(out / "requirements.txt", student_requirements(root / "requirements.txt"))
    random_public = any(
        spec.case(name).random for spec in course.exercises for name in spec.public
    )
    write_atomic(out / "config.yaml", student_config(course.config.path, keep_seed=random_public))
    write_atomic(out / "README.md", STUDENT_README)
    import nbformat

    write_atomic(out / "autograd.ipynb", nbformat.writes(notebooks.check_notebook(notebooks.read_stubs(root / "exercises", course.exercises))))

    public_cases = tuple((spec, build_cases(spec, course.config.seed, include_hidden=False))
                         for spec in course.exercises)
    data = reference.ship_public(root, public_cases)
    write_atomic(out / reference.EXPECTED_FILE, data)
    return sorted(p for p in out.rglob("*") if p.is_file())


def student_requirements(path: Path) -> str:
    """The course's pinned grading environment, plus what running the notebook needs."""
    pinned = path.read_text("utf-8") if path.is_file() else ""
    if pinned and not pinned.endswith("\n"):
        pinned += "\n"
    return pinned + "# Running autograd.ipynb (its Jupyter kernel):\n" + "".join(f"{r}\n" for r in NOTEBOOK_REQUIREMENTS)


def student_config(path: Path, keep_seed: bool = False) -> str:
    """config.yaml without hidden cases: their lists, their recipes, and the seed unless a public case needs it."""
    raw = copy.deepcopy(yaml.safe_load(path.read_text("utf-8")))  # anchors share objects: unshare first
    if not keep_seed:
        raw.pop("seed", None)
    for key in [k for k in raw if str(k).startswith("x-")]:
        del raw[key]
    for entry in (raw.get("exercises") or {}).values():
        if isinstance(entry, dict):
            hidden = set(entry.pop("hidden", None) or ())
            if not hidden:
                # `check` tells a student which share of the points hidden cases decide; the copy has no
                # hidden lists, so an exercise without hidden cases says so with a weight of 0.
                entry["hidden_weight"] = 0
            cases = entry.get("cases")
            if isinstance(cases, dict):
                entry["cases"] = {name: recipe for name, recipe in cases.items() if name not in hidden}
    header = "# Student copy made by `grader dist`: hidden cases are not part of it.\n"
    return header + yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)


def run(args) -> int:
    """``grader dist OUT``."""
    from grader.core.course import find_course

    course = find_course(args.course)
    written = make_dist(course, args.out)
    print(f"student copy written to {args.out}/ ({len(written)} files; no solutions/, no hidden cases)")
    return EXIT_OK
