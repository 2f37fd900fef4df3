"""The per-submission grade record kept in OUT/<submission>/grade.json: what CSV and analytics need, plus the resume key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from grader.core.results import SubmissionResult

RECORD_NAME = "grade.json"
RESULTS_NAME = "results.json"
_VERSION = 1


@dataclass(frozen=True)
class ExerciseRecord:
    """One exercise's outcome for one submission."""

    exercise_id: str
    score: float
    max_score: float
    status: str
    misconceptions: tuple[str, ...]
    wall: float
    max_rss_kb: int


@dataclass(frozen=True)
class GradeRecord:
    """One submission's outcome and the key it was graded under."""

    name: str
    key: str
    """sha256 of the course config, references, grader version, options and the submission's content."""
    exercises: tuple[ExerciseRecord, ...]
    problem: str = ""
    """Catalogue key of a whole-submission problem (a corrupt zip), '' if none."""
    canvas_id: str = ""
    """The Canvas user id, for submissions that came from a Canvas bulk download."""

    @property
    def total(self) -> float:
        return round(sum(e.score for e in self.exercises), 4)

    def score(self, exercise_id: str) -> float:
        return next((e.score for e in self.exercises if e.exercise_id == exercise_id), 0.0)


def from_result(result: SubmissionResult, key: str, canvas_id: str = "") -> GradeRecord:
    return GradeRecord(
        canvas_id=canvas_id,
        name=result.name,
        key=key,
        exercises=tuple(
            ExerciseRecord(e.exercise_id, e.score, e.max_score, e.status, e.misconceptions, e.wall, e.max_rss_kb)
            for e in result.exercises
        ),
        problem=result.problem.key if result.problem else "",
    )


def dumps(record: GradeRecord) -> str:
    return json.dumps({
        "version": _VERSION,
        "name": record.name,
        "key": record.key,
        "problem": record.problem,
        "canvas_id": record.canvas_id,
        "exercises": [
            {"id": e.exercise_id, "score": e.score, "max_score": e.max_score, "status": e.status,
             "misconceptions": list(e.misconceptions), "wall": e.wall, "max_rss_kb": e.max_rss_kb}
            for e in record.exercises
        ],
    }, ensure_ascii=False, indent=1)


def load(path: Path) -> GradeRecord | None:
    """The record at ``path``; None when it is missing or not one this version wrote (then: grade again)."""
    try:
        raw = json.loads(path.read_text("utf-8"))
        if raw.get("version") != _VERSION:
            return None
        return GradeRecord(
            name=str(raw["name"]),
            key=str(raw["key"]),
            problem=str(raw.get("problem", "")),
            canvas_id=str(raw.get("canvas_id", "")),
            exercises=tuple(
                ExerciseRecord(str(e["id"]), float(e["score"]), float(e["max_score"]), str(e["status"]),
                               tuple(str(m) for m in e["misconceptions"]), float(e["wall"]), int(e["max_rss_kb"]))
                for e in raw["exercises"]
            ),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
