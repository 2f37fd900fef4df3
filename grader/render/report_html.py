"""OUT/report.html: the class report for the instructor, one self-contained page (inline CSS and SVG, no script).

Built after a run from every submission's record and results.json (a resumed run's included), and from
summary.json's figures, so the page and summary.json never disagree. Every string that can come from
a student (a submission's name above all) goes through ``_e``: the page holds no markup of theirs.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import grader
from grader.core.config import CourseConfig
from grader.core.records import RESULTS_NAME, GradeRecord
from grader.core.results import test_name
from grader.i18n import text
from grader.render import report_plots
from grader.render.summary import misconception_id, misconception_title

MAX_NAMES = 40
"""Names listed per row of a table; the rest are counted (grades.csv has everyone)."""
FOLD_NAMES = 12
"""A row with more names than this shows three and folds the rest."""
UNLISTED_PROBLEMS = frozenset({"not_submitted"})
"""Counted in each exercise's status line only: a list of who handed nothing in is grades.csv's job."""
_RESULTS_CAP = 4 << 20
"""A results.json larger than this is not ours (the grader caps its outputs far below): skipped."""


@dataclass(frozen=True)
class CheckTally:
    """How many submissions passed one check over one case group (a Gradescope test), out of how many."""

    passed: int
    total: int


def check_tallies(out: Path, folders: Iterable[str]) -> dict[str, CheckTally]:
    """Per test name, passes out of submissions, read from each ``OUT/<folder>/results.json``."""
    passed: dict[str, int] = {}
    total: dict[str, int] = {}
    for folder in folders:
        path = out / folder / RESULTS_NAME
        try:
            if path.stat().st_size > _RESULTS_CAP:
                continue
            tests = json.loads(path.read_text("utf-8")).get("tests", [])
        except (OSError, ValueError, AttributeError):
            continue
        for test in tests if isinstance(tests, list) else ():
            name = test.get("name") if isinstance(test, dict) else None
            if isinstance(name, str):
                total[name] = total.get(name, 0) + 1
                passed[name] = passed.get(name, 0) + (test.get("status") == "passed")
    return {name: CheckTally(passed[name], count) for name, count in total.items()}


def report_html(records: tuple[GradeRecord, ...], summary: dict, config: CourseConfig, lang: str,
                checks: dict[str, CheckTally]) -> str:
    """The whole page, in ``lang``."""
    title = text("report.title", lang, course=text("report.course", lang))
    parts = [_overview(summary, lang), _isolation(summary.get("sandbox") or {}, lang),
             _ungraded(records, summary, lang), _distribution(records, summary, config, lang),
             *(_exercise(spec, summary["exercises"][spec.id], checks, lang) for spec in config.exercises)]
    footer = text("report.footer", lang, version=grader.__version__)
    return (f'<!DOCTYPE html>\n<html lang="{"zh-Hans" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            # No script, no outside request: a page opened from disk (or printed) needs nothing else.
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
            f'style-src \'unsafe-inline\'">\n<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n'
            f'<h1>{_e(title)}</h1>\n' + "\n".join(p for p in parts if p) + f'\n<footer>{_e(footer)}</footer>\n'
            '</body>\n</html>\n')


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _overview(summary: dict, lang: str) -> str:
    line = text("report.overview", lang, submissions=summary["submissions"], mean=summary["mean_total"],
                max=summary["max_points"], median=summary["median_total"], full=summary["full_marks"])
    graded = text("report.hidden" if summary["hidden_cases_graded"] else "report.public_only", lang)
    warn = "" if summary["hidden_cases_graded"] else ' class="warn"'
    return f'<p class="lead">{_e(line)}</p>\n<p{warn}>{_e(graded)}</p>'


def _isolation(layers: dict, lang: str) -> str:
    missing = [str(reason) for reason in layers.get("missing") or ()]
    if not missing:
        return f'<p class="ok">{_e(text("report.sandbox_ok", lang))}</p>'
    items = "".join(f"<li>{_e(reason)}</li>" for reason in missing)
    return f'<div class="box warn"><p>{_e(text("report.sandbox_missing", lang))}</p><ul>{items}</ul></div>'


def _ungraded(records: tuple[GradeRecord, ...], summary: dict, lang: str) -> str:
    failures = summary.get("grader_failures") or []
    unreadable = [r for r in records if r.problem]
    if not failures and not unreadable:
        return f'<p class="ok">{_e(text("report.all_graded", lang))}</p>'
    body = [f'<h2>{_e(text("report.ungraded", lang))}</h2>']
    if failures:
        body.append(f'<p>{_e(text("report.grader_failures", lang))}</p>{_names(failures, lang)}')
    if unreadable:
        rows = "".join(f"<tr><td>{_e(r.name)}</td><td>{_e(misconception_title(misconception_id(r.problem), lang))}"
                       "</td></tr>" for r in unreadable)
        body.append(f'<p>{_e(text("report.unreadable", lang))}</p><table class="list">{rows}</table>')
    return '<section class="box warn">' + "".join(body) + "</section>"


def _distribution(records: tuple[GradeRecord, ...], summary: dict, config: CourseConfig, lang: str) -> str:
    totals = [r.total for r in records]
    rows = [(spec.id, summary["exercises"][spec.id]["statuses"]) for spec in config.exercises]
    histogram = report_plots.histogram_svg(totals, config.max_points, lang)
    statuses = report_plots.statuses_svg(rows, lang)
    return (f'<section><h2>{_e(text("report.distribution", lang))}</h2>'
            f'<div class="figures"><img src="{histogram}" alt="{_e(text("report.distribution", lang))}">'
            f'<img src="{statuses}" alt="{_e(text("report.statuses_title", lang))}"></div></section>')


def _exercise(spec, entry: dict, checks: dict[str, CheckTally], lang: str) -> str:
    head = text("report.exercise_head", lang, id=spec.id, title=spec.title.text(lang))
    stats = text("report.exercise_stats", lang, points=spec.points, mean=entry["mean"],
                 rate=_percent(entry["pass_rate"]))
    counts = entry["statuses"]
    statuses = " · ".join(f'<span class="s-{_e(status)}">{_e(text(f"report.status.{status}", lang))} {counts[status]}'
                          '</span>' for status in report_plots.STATUS_ORDER if counts.get(status))
    problems = [p for p in entry["problems"] if p["id"] not in UNLISTED_PROBLEMS]
    return (f'<section class="exercise" id="{_e(spec.id)}"><h2>{_e(head)}</h2>'
            f'<p class="stats">{_e(stats)}<br>{statuses}</p>'
            + _checks_table(spec, checks, lang)
            + _mistakes_table(entry["misconceptions"], "report.misconceptions", "report.mistake", lang)
            + (_mistakes_table(problems, "report.problems", "report.problem", lang) if problems else "")
            + "</section>")


def _checks_table(spec, checks: dict[str, CheckTally], lang: str) -> str:
    """One row per check: its public cases' pass rate, then its hidden cases' (when they were graded)."""
    rows = []
    for check in spec.checks:
        groups = [checks.get(test_name(spec.id, check.label.en, public)) for public in (True, False)]
        if not any(groups):
            continue
        cells = "".join(_rate_cell(tally, lang) for tally in groups)
        rows.append(f'<tr><td>{_e(check.label.text(lang))}</td>{cells}</tr>')
    if not rows:
        return ""
    return (f'<table class="checks"><thead><tr><th>{_e(text("report.check", lang))}</th>'
            f'<th>{_e(text("report.public", lang))}</th><th>{_e(text("report.hidden_cases", lang))}</th></tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table>')


def _rate_cell(tally: CheckTally | None, lang: str) -> str:
    if tally is None or tally.total == 0:
        return '<td class="bar muted">–</td>'
    rate = tally.passed / tally.total
    words = text("report.passed_of", lang, passed=tally.passed, total=tally.total) + f" · {_percent(rate)}"
    return f'<td class="bar"><i><span style="width:{rate * 100:.1f}%"></span></i><em>{_e(words)}</em></td>'


def _mistakes_table(entries: list[dict], heading: str, column: str, lang: str) -> str:
    caption = f'<h3>{_e(text(heading, lang))}</h3>'
    if not entries:
        return caption + f'<p class="muted">{_e(text("report.none_found", lang))}</p>'
    rows = "".join(
        f'<tr><td class="what"><span>{_e(entry[lang] if lang in entry else entry["en"])}</span>'
        f' <code>{_e(entry["id"])}</code></td><td class="num">{_e(entry["count"])}</td>'
        f'<td>{_names(entry["students"], lang)}</td></tr>'
        for entry in entries
    )
    return (caption + f'<table class="mistakes"><thead><tr><th>{_e(text(column, lang))}</th>'
            f'<th class="num">{_e(text("report.count", lang))}</th><th>{_e(text("report.students", lang))}</th>'
            f'</tr></thead><tbody>{rows}</tbody></table>')


def _names(names: list[str], lang: str) -> str:
    shown = "".join(f"<li>{_e(name)}</li>" for name in names[:MAX_NAMES])
    more = (f'<li class="more">{_e(text("report.more_students", lang, count=len(names) - MAX_NAMES))}</li>'
            if len(names) > MAX_NAMES else "")
    listed = f'<ul class="names">{shown}{more}</ul>'
    if len(names) <= FOLD_NAMES:
        return listed
    # A long list stays one line until the reader opens it (no script: <details> does it).
    preview = ", ".join(names[:3])
    return f'<details><summary>{_e(preview)} …</summary>{listed}</details>'


def _percent(rate: float) -> str:
    return f"{rate * 100:.0f}%"


_CSS = """
:root{--ink:#222;--muted:#666;--line:#ddd;--warn:#fff4e5;--warnline:#e08a00;--ok:#2e7d32;--bar:#3b6ea8}
*{box-sizing:border-box}
html{font-size:14px}
body{font:1rem/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
color:var(--ink);max-width:62rem;margin:1.5rem auto;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .4rem}
h2{font-size:1.15rem;margin:0 0 .3rem}
h3{font-size:.95rem;margin:.8rem 0 .3rem;color:var(--muted)}
p{margin:.3rem 0}
.lead{font-size:1.05rem;font-weight:600}
.ok{color:var(--ok)}
.muted{color:var(--muted)}
.warn{background:var(--warn);border-left:4px solid var(--warnline);padding:.4rem .7rem}
.box{margin:.8rem 0}
section{margin:1.1rem 0;padding-top:.6rem;border-top:1px solid var(--line)}
.figures{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}
.figures img{width:calc(50% - .5rem);min-width:20rem;height:auto;flex:1 1 20rem}
table{border-collapse:collapse;width:100%;margin:.2rem 0 .4rem}
th,td{text-align:left;vertical-align:top;padding:.25rem .5rem;border-bottom:1px solid var(--line)}
th{font-weight:600;font-size:.85rem;color:var(--muted)}
td.num,th.num{text-align:right;white-space:nowrap;width:4rem}
td.bar{width:13rem;position:relative}
td.bar i{display:block;height:1.1rem;background:#eef1f5;border-radius:2px}\ntd.bar span{display:block;height:100%;background:#b9cde6;border-radius:2px;min-width:2px}
td.bar em{position:absolute;left:.6rem;top:.22rem;font-style:normal;font-size:.78rem;color:var(--ink);text-shadow:0 0 2px #fff,0 0 2px #fff}
td.what{width:45%}
code{font-size:.78rem;color:var(--muted)}
ul.names{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.15rem .8rem;font-size:.85rem}
ul.names li{overflow-wrap:anywhere}
li.more{color:var(--muted)}
details summary{cursor:pointer;font-size:.85rem}
.stats{color:var(--muted)}
.s-passed{color:var(--ok)}.s-error{color:#c62828}
footer{margin-top:1.5rem;color:var(--muted);font-size:.8rem}
@media print{html{font-size:10.5px}body{margin:0;max-width:none}section{break-inside:avoid}details>ul.names{display:flex}
.figures img{flex-basis:45%}td.bar i,td.bar span{print-color-adjust:exact;-webkit-print-color-adjust:exact}}
"""
