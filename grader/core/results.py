"""What grading found, as frozen data. Renderers (terminal, JSON, CSV) turn it into text; it never renders itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # importing compare would import torch; the CLI imports this module before that
    from grader.core.compare import Mismatch
    from grader.core.exercises import Label


@dataclass(frozen=True)
class Message:
    """A catalogue key and its parameters: words come from ``grader.i18n`` at render time."""

    key: str
    params: tuple[tuple[str, object], ...] = ()

    @property
    def values(self) -> dict[str, object]:
        return dict(self.params)


def message(key: str, **params: object) -> Message:
    return Message(key, tuple(sorted(params.items())))


@dataclass(frozen=True)
class CaseFinding:
    """One check on one case."""

    case: str
    describe: str
    """The input as shown to a student ('torch.arange(4.0)')."""
    public: bool
    passed: bool
    problem: Message | None = None
    """What went wrong, in autograd terms when a known mistake was recognised."""
    mismatch: "Mismatch | None" = None
    """torch-style detail of a value mismatch."""


@dataclass(frozen=True)
class CheckResult:
    """One check over one group of cases (public or hidden): a Gradescope 'test'."""

    exercise_id: str
    check_id: str
    label: "Label"
    public: bool
    passed: bool
    score: float
    max_score: float
    findings: tuple[CaseFinding, ...]

    @property
    def name(self) -> str:
        return test_name(self.exercise_id, self.label.en, self.public)


def test_name(exercise_id: str, label_en: str, public: bool) -> str:
    """The stable name of a Gradescope/otter test: '<exercise> · <English label>[ · hidden cases]'."""
    suffix = "" if public else " · hidden cases"
    return f"{exercise_id} · {label_en}{suffix}"


Status = Literal["passed", "failed", "not_attempted", "not_submitted", "error"]
"""error: the code could not be run to the end (syntax error, timeout, crash, ...)."""
STATUS_PASSED: Status = "passed"
STATUS_FAILED: Status = "failed"
STATUS_NOT_ATTEMPTED: Status = "not_attempted"
STATUS_NOT_SUBMITTED: Status = "not_submitted"
STATUS_ERROR: Status = "error"


@dataclass(frozen=True)
class ExerciseResult:
    """One exercise of one submission."""

    exercise_id: str
    status: Status
    score: float
    max_score: float
    checks: tuple[CheckResult, ...] = ()
    problem: Message | None = None
    """A problem with the whole run (syntax error, timeout, not attempted, ...)."""
    misconceptions: tuple[str, ...] = ()
    """Catalogue keys of every recognised mistake, for class analytics."""
    output: str = ""
    output_dropped: int = 0
    wall: float = 0.0
    max_rss_kb: int = 0
    source_file: str = ""
    grader_failed: bool = False
    """The grader (not the student's code) failed on this exercise: the score is provisional and the
    next run grades it again. Only the trusted side sets it."""


@dataclass(frozen=True)
class SubmissionResult:
    """Every graded exercise of one submission."""

    name: str
    exercises: tuple[ExerciseResult, ...]
    problem: Message | None = None
    """A problem with the submission as a whole (a corrupt zip, an empty folder)."""
    notes: tuple[Message, ...] = ()
    """Worth telling the student, costing no points: files handed in that could not be placed."""

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises)

    @property
    def passed(self) -> bool:
        """Every exercise passed (``grader check``'s exit code 0)."""
        return all(e.status == STATUS_PASSED for e in self.exercises)
