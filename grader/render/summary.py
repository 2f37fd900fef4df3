"""summary.json: the class at a glance, per exercise (mean, pass rate, statuses, most common mistakes) and overall."""

from __future__ import annotations

import statistics
from collections import Counter

from grader.core.config import CourseConfig
from grader.core.records import GradeRecord
from grader.i18n import text

TOP_MISCONCEPTIONS = 5
# Problems that say nothing about autograd understanding: counted apart from misconceptions.
PROBLEM_KEYS = frozenset({
    "not_submitted", "not_attempted", "timeout", "crashed", "memory_exceeded", "no_result", "invalid_result",
    "sandbox_failed", "grader_error", "syntax_error", "import_error", "raised_at_import", "missing_function",
    "not_utf8", "unreadable", "file_too_large", "zip_corrupt", "notebook_corrupt", "submission_empty",
    "submission_too_deep", "submission_unreadable",
    "source_check_gated", "raised", "mismatch", "called_exit", "recursion", "out_of_memory",
})


def summary_json(records: tuple[GradeRecord, ...], config: CourseConfig, layers: dict, *, hidden: bool,
                 grader_failures: tuple[str, ...] = ()) -> dict:
    """Per-exercise max points, mean, pass rate and most common mistakes; the class's totals."""
    exercises = {}
    overall: Counter[str] = Counter()
    for exercise in config.exercises:
        rows = [e for r in records for e in r.exercises if e.exercise_id == exercise.id]
        statuses = Counter(e.status for e in rows)
        mistakes: Counter[str] = Counter(m for e in rows for m in e.misconceptions if m not in PROBLEM_KEYS)
        problems: Counter[str] = Counter(m for e in rows for m in e.misconceptions if m in PROBLEM_KEYS)
        overall.update(mistakes)
        exercises[exercise.id] = {
            "title": {"en": exercise.title.en, "zh": exercise.title.zh},
            "max_points": exercise.points,
            "mean": round(statistics.fmean(e.score for e in rows), 4) if rows else 0.0,
            "pass_rate": round(statuses["passed"] / len(rows), 4) if rows else 0.0,
            "statuses": dict(sorted(statuses.items())),
            "misconceptions": _top(mistakes),
            "problems": dict(problems.most_common()),
            "mean_wall_s": round(statistics.fmean(e.wall for e in rows), 4) if rows else 0.0,
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
        "misconceptions": _top(overall),
        "sandbox": layers,
    }


def _top(counter: Counter[str]) -> list[dict]:
    return [
        {"key": key, "count": count, "en": _gist(key, "en"), "zh": _gist(key, "zh")}
        for key, count in counter.most_common(TOP_MISCONCEPTIONS)
    ]


def _gist(key: str, lang: str) -> str:
    """The first sentence of a catalogue message, with placeholders dropped: a label for analytics."""
    words = text(key, lang).split("\n")[0].replace("?", "…")
    for stop in (". ", "。", "：", ": "):
        if stop in words:
            return words.split(stop)[0] + stop.strip()
    return words
