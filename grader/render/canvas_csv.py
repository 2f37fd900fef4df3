"""canvas.csv: a Canvas gradebook import, one row per student of a Canvas bulk download, total points in one column."""

from __future__ import annotations

import csv
import io

from grader.core.config import CourseConfig
from grader.core.records import GradeRecord
from grader.render.grades_csv import points, text_cell


def canvas_csv(records: tuple[GradeRecord, ...], config: CourseConfig) -> str:
    """Canvas gradebook import: its identifying columns, then one assignment column (total points).

    Canvas matches rows on ``ID`` (the user id from the bulk download's file names) and the column on
    the assignment's name; the ``Points Possible`` row is what Canvas's own export carries. A student
    name a spreadsheet would take for a formula is written with a leading ``'`` (see grades_csv).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", config.canvas_assignment])
    writer.writerow(["    Points Possible", "", "", "", "", points(config.max_points)])
    for record in records:
        if record.canvas_id:
            student = record.name.removesuffix(f"_{record.canvas_id}")
            writer.writerow([text_cell(student), record.canvas_id, "", "", "", points(record.total)])
    return buffer.getvalue()
