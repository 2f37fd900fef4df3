"""summary.json: the class at a glance, per exercise (mean, pass rate, statuses, most common mistakes) and overall.

Each mistake is named by its misconception id (see ``misconception_id``) and an instructor-facing title
from the catalogue (``misconception.<id>``), never by a student-facing sentence with its parameters
missing.
"""

from __future__ import annotations

import statistics
from collections import Counter
from types import MappingProxyType

from grader.core.config import CourseConfig
from grader.core.records import GradeRecord
from grader.i18n import has_message, text

TOP_MISCONCEPTIONS = 5
# Problems that say nothing about autograd understanding: counted apart from misconceptions.
PROBLEM_KEYS = frozenset({
    "not_submitted", "not_attempted", "timeout", "crashed", "memory_exceeded", "no_result", "invalid_result",
    "sandbox_failed", "grader_error", "syntax_error", "import_error", "raised_at_import", "missing_function",
    "not_utf8", "unreadable", "file_too_large", "zip_corrupt", "notebook_corrupt", "submission_empty",
    "submission_too_deep", "submission_unreadable",
    "source_check_gated", "raised", "mismatch", "called_exit", "recursion", "out_of_memory",
})
# The source check's key family is ``banned.<op>``; the shared vocabulary calls that mistake banned_use.
_ID_ALIASES = MappingProxyType({"banned": "banned_use"})


def misconception_id(key: str) -> str:
    """The misconception id of a catalogue key: ``hint.`` removed, then everything from the first ``.``.

    ``hint.accumulated_twice`` -> ``accumulated_twice``, ``no_grad_fn.call_backward`` -> ``no_grad_fn``;
    an id is its own id.
    """
    bare = key.removeprefix("hint.").split(".", 1)[0]
    return _ID_ALIASES.get(bare, bare)


def misconception_title(mid: str, lang: str) -> str:
    """An instructor-facing title for a misconception id; a generic sentence naming the id when it has none."""
    key = f"misconception.{mid}"
    return text(key, lang) if has_message(key) else text("misconception.untitled", lang, id=mid)


def is_problem(key: str) -> bool:
    """Whether a recorded key is a problem (missing work, a run that did not finish) rather than a misconception."""
    return key in PROBLEM_KEYS or misconception_id(key) in PROBLEM_KEYS


def summary_json(records: tuple[GradeRecord, ...], config: CourseConfig, layers: dict, *, hidden: bool,
                 grader_failures: tuple[str, ...] = ()) -> dict:
    """Per-exercise max points, mean, pass rate and most common mistakes; the class's totals."""
    exercises = {}
    overall: dict[str, _Tally] = {}
    for exercise in config.exercises:
        rows = [(r.name, e) for r in records for e in r.exercises if e.exercise_id == exercise.id]
        statuses = Counter(e.status for _, e in rows)
        mistakes: dict[str, _Tally] = {}
        problems: dict[str, _Tally] = {}
        for name, row in rows:
            for key in row.misconceptions:
                _count(problems if is_problem(key) else mistakes, key, name, exercise.id)
        for mid, tally in mistakes.items():
            _merge(overall, mid, tally)
        exercises[exercise.id] = {
            "title": {"en": exercise.title.en, "zh": exercise.title.zh},
            "max_points": exercise.points,
            "mean": round(statistics.fmean(e.score for _, e in rows), 4) if rows else 0.0,
            "pass_rate": round(statuses["passed"] / len(rows), 4) if rows else 0.0,
            "statuses": dict(sorted(statuses.items())),
            "misconceptions": _entries(mistakes, TOP_MISCONCEPTIONS),
            "problems": _entries(problems, None),
            "mean_wall_s": round(statistics.fmean(e.wall for _, e in rows), 4) if rows else 0.0,
        }
    totals = [r.total for r in records]
    return {
        "submissions": len(records),
        "max_points": config.max_points,
        "mean_total": round(statistics.fmean(totals), 4) if totals else 0.0,
        "median_total": round(statistics.median(totals), 4) if totals else 0.0,
        "full_marks": sum(1 for t in totals if t >= config.max_points),
        "unreadable_submissions": sorted(r.name for r in records if r.problem),
        # Submissions the grader could not grade through its own fault: provisional, regraded by the next run.
        "grader_failures": sorted(grader_failures),
        "hidden_cases_graded": hidden,
        "exercises": exercises,
        "misconceptions": _entries(overall, TOP_MISCONCEPTIONS),
        "sandbox": layers,
    }


class _Tally:
    """The catalogue keys seen for one misconception id, and the students (and exercises) concerned."""

    def __init__(self) -> None:
        self.keys: Counter[str] = Counter()
        self.students: dict[str, None] = {}
        self.exercises: dict[str, None] = {}
        self.count = 0


def _count(tallies: dict[str, _Tally], key: str, name: str, exercise_id: str) -> None:
    tally = tallies.setdefault(misconception_id(key), _Tally())
    tally.keys[key] += 1
    tally.exercises[exercise_id] = None
    if name not in tally.students:  # two keys of one id in one exercise are one student's one mistake
        tally.students[name] = None
        tally.count += 1


def _merge(overall: dict[str, _Tally], mid: str, tally: _Tally) -> None:
    total = overall.setdefault(mid, _Tally())
    total.keys.update(tally.keys)
    total.students.update(tally.students)
    total.exercises.update(tally.exercises)
    total.count += tally.count


def _entries(tallies: dict[str, _Tally], limit: int | None) -> list[dict]:
    """Most common first (ties by id, so the order is the same on every run)."""
    ranked = sorted(tallies.items(), key=lambda item: (-item[1].count, item[0]))
    return [
        {"id": mid, "key": tally.keys.most_common(1)[0][0], "count": tally.count,
         "en": misconception_title(mid, "en"), "zh": misconception_title(mid, "zh"),
         "students": sorted(tally.students), "exercises": list(tally.exercises)}
        for mid, tally in ranked[:limit]
    ]
