"""Render results for a terminal: one block per exercise, ✓/✗ per check, colour when it is a TTY."""

from __future__ import annotations

from grader.core.config import CourseConfig
from grader.i18n import text
from grader.render import feedback
from grader.core.results import STATUS_PASSED, ExerciseResult, Message, SubmissionResult
from grader.render.feedback import Where, hidden_share, points_text

_STYLES = {"ok": "32", "bad": "31", "warn": "33", "bold": "1", "dim": "2"}


class Style:
    """ANSI styling that switches off for pipes, files and NO_COLOR."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, words: str, style: str) -> str:
        if not self.enabled:
            return words
        return f"\x1b[{_STYLES[style]}m{words}\x1b[0m"


def render_submission(result: SubmissionResult, config: CourseConfig, lang: str, *,
                      verbose: bool = False, color: bool = False, where: Where = "terminal") -> str:
    """The whole report ``grader check`` prints (``where="notebook"``: what ``grader.check()`` shows)."""
    style = Style(color)
    blocks = [render_exercise(e, config, lang, verbose=verbose, style=style, where=where) for e in result.exercises]
    pending = round(sum(hidden_share(e) for e in result.exercises) * 100) / 100
    score = round(result.score * 100) / 100
    total = points_text(score, result.max_score, pending, lang, total=True)
    if len(result.exercises) > 1 or not result.exercises:
        blocks.append(style(total, "bold"))
    return "\n\n".join(blocks) + "\n"


def render_exercise(result: ExerciseResult, config: CourseConfig, lang: str, *, verbose: bool,
                    style: Style, where: Where = "terminal") -> str:
    title = config.exercise(result.exercise_id).title.text(lang)
    passed = result.status == STATUS_PASSED
    status = text(f"ui.status.{result.status}", lang)
    points = points_text(result.score, result.max_score, hidden_share(result), lang)
    mark = style("✓", "ok") if passed else style("✗", "bad")
    head = f"{mark} {style(result.exercise_id, 'bold')} · {title} — {points} [{style(status, 'ok' if passed else 'bad')}]"
    lines = [head]
    problem_lines = feedback.exercise_problem_lines(result, lang)
    if problem_lines:
        lines += _indent(problem_lines, 4)
    else:
        said: set[Message] = set()
        for check in result.checks:
            check_mark = style("✓", "ok") if check.passed else style("✗", "bad")
            label = check.label.text(lang)
            if not check.public:
                label = text("ui.hidden_checks", lang, label=label)
            lines.append(f"  {check_mark} {label}")
            lines += _indent(feedback.check_lines(check, lang, verbose, said, where), 6)
    if not passed:
        lines += _indent(feedback.output_lines(result, lang), 4)
        if config.exercise(result.exercise_id).plot and result.status != "not_attempted":
            hint = text("ui.plot_hint.notebook" if where == "notebook" else "ui.plot_hint", lang, id=result.exercise_id)
            lines.append("    " + style(hint, "dim"))
    return "\n".join(lines)


def _indent(lines: list[str], width: int) -> list[str]:
    pad = " " * width
    return [pad + line for line in lines]
