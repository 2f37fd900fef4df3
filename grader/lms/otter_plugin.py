"""An otter-grader plugin that grades with autograd-grader's isolated runner instead of otter's kernel.

otter executes a submission and its tests in one Jupyter kernel, so student
code can patch ``torch.allclose``, hook ``pickle.dump``, start a detached
process, loop forever or call ``os._exit`` (each measured against otter 7.0.0). This plugin
takes the kernel out of the verdict:

- ``before_grading`` (otter's process, before any student code runs):
  removes a planted ``.OTTER_LOG`` (otter unpickles it), grades the
  submission file through ``grader``: computes the references, deletes the
  course files (solutions included) from disk, and only then runs the
  student's exercises in sandboxed children; keeps the results in memory.
- ``before_execution``: hands otter an empty notebook to execute; the
  student's code never runs in the kernel at all.
- The sandbox layers in force, and every missing one with its reason, go to
  otter's stdout (on Gradescope: the autograder output, which instructors
  see); where the process is root and the children cannot drop to another
  uid, nothing is graded, because student code would run as root.
- ``after_grading``: writes this plugin's verdicts and feedback into
  otter's results, one otter test case per grader check, so Gradescope's
  results.json carries our scores and words.

The test files ``grader export otter`` writes fail by default: without this
plugin nothing scores.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

from otter.plugins import AbstractOtterPlugin
from otter.test_files.abstract_test import TestCaseResult

from grader.core.course import find_course
from grader.errors import GraderError
from grader.i18n import resolve_language, say, text
from grader.lms.cpu_quota import default_jobs
from grader.render.feedback import check_lines, exercise_problem_lines
from grader.core.results import SubmissionResult

OTTER_LOG = ".OTTER_LOG"


class AutogradGraderPlugin(AbstractOtterPlugin):
    """Plugin config keys: ``course`` (the name of the course folder among the autograder's own files;
    default ``course``), ``lang`` (zh | en; default: the course's), ``jobs`` (a number, or ``auto``: from the
    container's CPU quota, the default)."""

    def __init__(self, submission_path, submission_metadata, plugin_config):
        super().__init__(submission_path, submission_metadata, plugin_config)
        self._result: SubmissionResult | None = None
        self._lang = "en"
        self._failure = ""

    def before_grading(self, config):
        planted = Path(OTTER_LOG)
        if planted.exists() or planted.is_symlink():
            planted.unlink()  # otter would unpickle it in its own process
        name = str(self.plugin_config.get("course", "course"))
        # The course comes from the autograder's own files (<autograder>/source/files/<name>), never from
        # the submission's folder: otter copies files/ there only where the upload has no folder of that
        # name, so an upload shipping its own course/ would otherwise grade itself with its own "solutions".
        own = Path(config.autograder_dir).resolve() / "source" / "files" / name
        copied = Path(self.submission_path).resolve().parent / name
        try:
            if "/" in name or name in ("", ".", ".."):
                raise GraderError(f"plugin setting course={name!r} must be a folder name among the autograder's files")
            # Known before grading, so that a refusal or failure is worded in the course's language too.
            self._lang = resolve_language(self.plugin_config.get("lang"), find_course(own).config.language)
            self._result, self._lang = grade_submission(Path(self.submission_path), own, self.plugin_config,
                                                        forget=lambda: _remove(own, copied))
        except GraderError as error:
            self._failure = say(error.message, self._lang) if error.message else str(error)
        except Exception as error:  # noqa: BLE001 - every failure must reach the results, not crash otter
            self._failure = f"{type(error).__name__}: {error}"
        finally:
            # Already gone unless grading stopped before the references were made; gone before otter runs
            # anything else in any case.
            _remove(own, copied)

    def before_execution(self, submission):
        import nbformat

        # The verdict is already made; nothing of the student's needs to run in otter's kernel.
        if isinstance(submission, str):
            return ""
        return nbformat.v4.new_notebook()

    def after_grading(self, results):
        for exercise_id, test_file in results.results.items():
            verdicts = self._verdicts(exercise_id)
            test_file.test_case_results = [
                TestCaseResult(test_case=case, message=verdicts.get(case.name, (False, self._missing()))[1],
                               passed=verdicts.get(case.name, (False, ""))[0])
                for case in test_file.test_cases
            ]

    def _verdicts(self, exercise_id: str) -> dict[str, tuple[bool, str]]:
        if self._result is None:
            return {}
        exercise = next((e for e in self._result.exercises if e.exercise_id == exercise_id), None)
        if exercise is None:
            return {}
        verdicts = {}
        for check in exercise.checks:
            if exercise.problem is not None:
                lines = exercise_problem_lines(exercise, self._lang)
            else:
                lines = check_lines(check, self._lang, verbose=True)
            verdicts[check.name] = (check.passed, "\n".join(lines) or ("passed" if check.passed else "failed"))
        return verdicts

    def _missing(self) -> str:
        if self._failure:
            return text("otter.could_not_grade", self._lang, reason=self._failure)
        return text("otter.no_verdict", self._lang)


def grade_submission(path: Path, course_dir: Path, settings: dict,
                     forget: Callable[[], None] = lambda: None) -> tuple[SubmissionResult, str]:
    """Grade one otter submission (.ipynb or .py holding every exercise function) with the isolated runner.

    ``forget`` is called once the references are computed and before any student code runs (the plugin
    deletes the course there, solutions included).
    """
    from grader.core import pipeline, submissions
    from grader.runner.pool import Pool

    course = find_course(course_dir)
    lang = resolve_language(settings.get("lang"), course.config.language)
    kind = submissions.KIND_NOTEBOOK if path.suffix.lower() == ".ipynb" else submissions.KIND_SCRIPT
    files = submissions.read(submissions.Submission(path.stem, path, kind), course.exercises)
    jobs = settings.get("jobs", "auto")
    workers = default_jobs() if jobs == "auto" else int(jobs)
    with Pool(jobs=workers) as pool:
        layers = pool.layers()  # the zygotes are ready: no student code has run yet
        print(layers_report(layers, workers), flush=True)
        if _euid() == 0 and not layers.get("setuid"):
            raise GraderError.worded("otter.would_run_as_root")
        plans = pipeline.plan(course, course.config.exercise_ids, include_hidden=True)
        forget()
        result = pipeline.grade_files(files, plans, pool)
    return result, lang


LAYERS_PREFIX = "autograd-grader sandbox"


def layers_report(layers: dict, workers: int) -> str:
    """Lines for the instructor: the layers in force, each missing one with its reason, the worker count."""
    from grader.runner.sandbox.policy import LAYER_NAMES

    on = [name for name in LAYER_NAMES if layers.get(name)]
    lines = [f"{LAYERS_PREFIX}: in force: {', '.join(on) if on else 'rlimits only'}; "
             f"{workers} grading worker{'s' if workers != 1 else ''}"]
    lines += [f"{LAYERS_PREFIX}: missing: {reason}" for reason in layers.get("missing", ())]
    return "\n".join(lines)


def _remove(*folders: Path) -> None:
    """Delete the course folders: the autograder's own, and the copy otter made next to the submission (or
    the upload's own folder of that name, which no one needs)."""
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _euid() -> int:
    return os.geteuid() if hasattr(os, "geteuid") else -1
