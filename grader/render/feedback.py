"""Word the feedback of one check or exercise as plain lines, in one language (shared by all renderers)."""

from __future__ import annotations

from typing import Literal

from grader.core.compare import Mismatch
from grader.i18n import say, text
from grader.core.results import CaseFinding, CheckResult, ExerciseResult, Message

MAX_FINDINGS = 1
"""Failing cases shown per check unless verbose: the first one says what to fix."""

Where = Literal["terminal", "notebook"]
"""Where the report is read: advice names command-line flags on a terminal, ``grader.check(...)`` arguments
in a notebook."""


def hidden_share(result: ExerciseResult) -> float:
    """Points of ``result`` that no reported test carries: what hidden cases decide when ``check`` ran
    the public ones only (0 for a graded result, whose tests carry all its points)."""
    if not result.checks:
        return 0.0
    rest = round((result.max_score - sum(c.max_score for c in result.checks)) * 100) / 100
    return max(rest, 0.0)


def points_text(score: float, max_score: float, pending: float, lang: str, total: bool = False) -> str:
    """``1/2 points``, or with hidden cases still to decide ``1/1 points from public cases; hidden cases decide
    the other 1 … (2 in all)``."""
    if pending > 0:
        key = "ui.total_public" if total else "ui.points_public"
        return text(key, lang, score=score, public=round(max_score - pending, 2), max_score=max_score,
                    pending=pending)
    return text("ui.total" if total else "ui.points", lang, score=score, max_score=max_score)


def mismatch_lines(mismatch: Mismatch, lang: str) -> list[str]:
    """torch.testing-style detail: what differs, how much, where, and a few expected-vs-got pairs."""
    if mismatch.kind == "shape":
        return [text("ui.shape", lang, expected=_shape(mismatch.expected_shape), actual=_shape(mismatch.actual_shape))]
    if mismatch.kind == "dtype":
        return [text("ui.dtype", lang, expected=mismatch.expected_dtype, actual=mismatch.actual_dtype)]
    percent = 100.0 * mismatch.mismatched / mismatch.total if mismatch.total else 0.0
    lines = [
        text("ui.values", lang, mismatched=mismatch.mismatched, total=mismatch.total, percent=percent),
        text("ui.max_abs", lang, diff=mismatch.max_abs_diff, index=_index(mismatch.max_abs_index), atol=mismatch.atol),
        text("ui.max_rel", lang, diff=mismatch.max_rel_diff, index=_index(mismatch.max_rel_index), rtol=mismatch.rtol),
    ]
    lines += [
        text("ui.sample", lang, index=_index(s.index), expected=s.expected, actual=s.actual) for s in mismatch.samples
    ]
    return lines


def finding_lines(finding: CaseFinding, lang: str) -> list[str]:
    """Which case, what went wrong, and the numbers."""
    key = "ui.case" if finding.public else "ui.hidden_case"
    # "source" and "rule" findings are about the whole file, not one case: no case header.
    lines = [text(key, lang, describe=finding.describe) + ":"] if finding.case not in ("source", "rule") else []
    if finding.problem is not None:
        lines += say(finding.problem, lang).splitlines()
    if finding.mismatch is not None:
        lines += mismatch_lines(finding.mismatch, lang)
    return lines


def check_lines(check: CheckResult, lang: str, verbose: bool = False,
                already_said: set[Message] | None = None, where: Where = "terminal") -> list[str]:
    """The feedback under one failed check; empty for a passed one."""
    if check.passed:
        return []
    failing = [f for f in check.findings if not f.passed]
    shown = failing if verbose else failing[:MAX_FINDINGS]
    lines: list[str] = []
    for finding in shown:
        if already_said is not None and finding.problem in already_said and finding.mismatch is None:
            lines.append(text("ui.same_cause", lang))
            continue
        lines += finding_lines(finding, lang)
        if already_said is not None and finding.problem is not None:
            already_said.add(finding.problem)
    if len(failing) > len(shown):
        key = "ui.more_cases.notebook" if where == "notebook" else "ui.more_cases"
        lines.append(text(key, lang, count=len(failing) - len(shown), id=check.exercise_id))
    return lines


def exercise_problem_lines(result: ExerciseResult, lang: str) -> list[str]:
    """The one problem that stopped a whole exercise (syntax error, timeout, not attempted, ...)."""
    return say(result.problem, lang).splitlines() if result.problem is not None else []


def output_lines(result: ExerciseResult, lang: str, limit: int = 20) -> list[str]:
    """The start of what the student's code printed, to help them debug; empty when nothing."""
    printed = result.output.strip("\n")
    if not printed:
        return []
    rows = printed.splitlines()
    dropped = result.output_dropped + sum(len(r) + 1 for r in rows[limit:])
    header = text("ui.output", lang, dropped=dropped) if dropped else text("ui.output_short", lang)
    return [header, *("| " + row[:200] for row in rows[:limit])]


def _shape(shape: tuple[int, ...]) -> str:
    return "torch.Size([" + ", ".join(str(n) for n in shape) + "])"


def _index(index: tuple[int, ...]) -> str:
    if len(index) == 1:
        return f"({index[0]},)"
    return "(" + ", ".join(str(i) for i in index) + ")"
