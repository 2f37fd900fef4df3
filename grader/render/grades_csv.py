"""grades.csv: one row per submission, ``submission,ex01,...,ex06,total``, points as plain numbers."""

from __future__ import annotations

import csv
import io

from grader.core.records import GradeRecord


def points(value: float) -> str:
    """Points as both CSV outputs write them: rounded to 4 decimals, no trailing zeros (``1.5``, ``2``)."""
    return f"{round(value, 4):g}"


def grades_csv(records: tuple[GradeRecord, ...], exercise_ids: tuple[str, ...]) -> str:
    """``submission,ex01,...,ex06,total``: every submission gets a row, points as numbers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", *exercise_ids, "total"])
    for record in records:
        writer.writerow([record.name, *(points(record.score(e)) for e in exercise_ids), points(record.total)])
    return buffer.getvalue()
