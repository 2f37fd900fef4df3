"""grades.csv: one row per submission, ``submission,ex01,...,ex06,total``, points as plain numbers.

A name cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) is written with a leading ``'``, as OWASP advises against CSV injection.
"""

from __future__ import annotations

import csv
import io

from grader.core.records import GradeRecord


def points(value: float) -> str:
    """Points as both CSV outputs write them: in hundredths (the grading grid), no trailing zeros (``1.5``, ``2``)."""
    return f"{round(value, 2):g}"


# OWASP's list of the characters a spreadsheet starts a formula (or DDE call) with.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """A text cell as both CSV outputs write it: prefixed with ``'`` if a spreadsheet would take it for a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def grades_csv(records: tuple[GradeRecord, ...], exercise_ids: tuple[str, ...]) -> str:
    """``submission,ex01,...,ex06,total``: every submission gets a row, points as numbers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", *exercise_ids, "total"])
    for record in records:
        scores = (points(record.score(e)) for e in exercise_ids)
        writer.writerow([text_cell(record.name), *scores, points(record.total)])
    return buffer.getvalue()
