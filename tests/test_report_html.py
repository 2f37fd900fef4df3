"""OUT/report.html: written by a real ``grade`` (and again, the same, on a resumed run), escaped, free of
placeholders, and rendered by a real headless Chromium with no console error and no request."""

from __future__ import annotations

import html
import io
import json
import os
import random
import re
import shutil
from pathlib import Path

import pytest

from helpers import SUBMISSIONS
from grader.commands.grade import REPORT_HTML, GradeOptions, grade_class
from grader.core import records as grade_records
from grader.core.records import ExerciseRecord, GradeRecord
from grader.i18n import text
from grader.render import report_html
from grader.render.summary import misconception_title, summary_json

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCRIPT_NAME = "<script>alert(1)</script>"
# A folder name cannot hold "/": an unclosed script tag would swallow the rest of the page if unescaped.
HOSTILE_FOLDERS = ("<script>alert(1)", '<img src=x onerror=alert(2)> & "quoted"')
CLASS = ("correct", "stubs", "ex01_double_backward", "ex02_no_zero", "ex03_weighted", "ex04_no_detach",
         "ex05_item", "ex06_uses_cos", "syntax_error")
PLACEHOLDER = re.compile(r"\{[^{}\s]*\}")
HALF_FILLED = re.compile(r"line (…|\?)|第 (…|\?) 行|(^|\s)(…|\?)[,:，：]")


def visible_text(page: str) -> str:
    """What a reader sees of the page: the style sheet and the tags removed, entities decoded."""
    body = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def strings(document) -> list[str]:
    """Every string value in a JSON document, however deep."""
    if isinstance(document, str):
        return [document]
    if isinstance(document, dict):
        return [s for value in document.values() for s in strings(value)]
    if isinstance(document, list):
        return [s for value in document for s in strings(value)]
    return []


@pytest.fixture(scope="module")
def graded(course, batch_pool, tmp_path_factory):
    """A real class graded twice into one OUT: the second run resumes (grades nothing) and rewrites the report."""
    root = tmp_path_factory.mktemp("report")
    submissions = root / "submissions"
    for scenario in CLASS:
        shutil.copytree(SUBMISSIONS / scenario, submissions / scenario)
    for name, scenario in zip(HOSTILE_FOLDERS, ("ex02_no_zero", "ex01_double_backward")):
        shutil.copytree(SUBMISSIONS / scenario, submissions / name)
    (submissions / "broken.zip").write_bytes(random.Random(3).randbytes(2048))
    out = root / "out"
    options = GradeOptions(out=out, jobs=2, lang="en")
    first = grade_class(course, [submissions], options, batch_pool)
    page = (out / REPORT_HTML).read_bytes()
    second = grade_class(course, [submissions], options, batch_pool)
    return {"out": out, "first": first, "second": second, "first_page": page}


@pytest.mark.slow
def test_report_is_written_and_rewritten_the_same_on_a_resumed_run(graded):
    """Does grade write report.html, and does a resumed run (nothing regraded) write the very same page?"""
    assert graded["first"].graded == len(CLASS) + len(HOSTILE_FOLDERS) + 1
    assert graded["second"].graded == 0 and graded["second"].resumed == graded["first"].graded
    page = (graded["out"] / REPORT_HTML).read_bytes()
    assert page == graded["first_page"]
    assert page.startswith(b"<!DOCTYPE html>") and b"http://" not in page and b"https://" not in page
    assert not list(graded["out"].glob(f".{REPORT_HTML}.*.tmp"))


@pytest.mark.slow
def test_report_shows_every_exercise_and_the_misconceptions_of_the_class(graded, course):
    """Does the page name every exercise, every misconception summary.json lists (by its title), and the
    students concerned?"""
    page = (graded["out"] / REPORT_HTML).read_text("utf-8")
    seen = visible_text(page)
    summary = json.loads((graded["out"] / "summary.json").read_text("utf-8"))
    for spec in course.config.exercises:
        assert f"{spec.id} · {spec.title.en}" in seen
        for check in spec.checks:
            assert check.label.en in seen
    listed = [m for e in summary["exercises"].values() for m in e["misconceptions"]]
    assert {m["id"] for m in listed} >= {"retain_graph_twice", "not_zeroed", "weighted_backward",
                                         "cos_outside_backward"}
    for entry in listed:
        assert entry["en"] == misconception_title(entry["id"], "en") and entry["en"] in seen
        assert all(name in seen for name in entry["students"])
    assert "broken" in seen and misconception_title("zip_corrupt", "en") in seen


@pytest.mark.slow
def test_no_placeholder_or_half_filled_message_survives(graded):
    """Is every string of summary.json, and the page's text, free of '{k:g}'-style placeholders and of
    '…, line …:' left by a message whose parameters were missing?"""
    summary = json.loads((graded["out"] / "summary.json").read_text("utf-8"))
    words = strings(summary)
    assert words
    assert [w for w in words if PLACEHOLDER.search(w) or HALF_FILLED.search(w)] == []
    seen = visible_text((graded["out"] / REPORT_HTML).read_text("utf-8"))
    assert PLACEHOLDER.findall(seen) == [] and HALF_FILLED.findall(seen) == []


@pytest.mark.slow
def test_hostile_names_are_text_in_the_page(graded):
    """Are submission names with markup escaped: shown as the very characters, never a tag of the page?"""
    page = (graded["out"] / REPORT_HTML).read_text("utf-8")
    assert "<script" not in page and "<img src=x" not in page
    seen = visible_text(page)
    for name in HOSTILE_FOLDERS:
        assert name in seen


def test_a_script_name_is_escaped_in_a_built_report(course):
    """With records made by hand (any name a record can hold, '/' included), is the name escaped everywhere?"""
    first = course.config.exercises[0]
    mistaken = ExerciseRecord(first.id, 0.0, first.points, "failed", ("hint.accumulated_twice",), 0.1, 1)
    records = (GradeRecord(name=SCRIPT_NAME, key="k", exercises=(mistaken,)),
               GradeRecord(name=SCRIPT_NAME + ".zip", key="z", exercises=(), problem="zip_corrupt"))
    summary = summary_json(records, course.config, {"missing": ["<b>no seccomp</b>"]}, hidden=True,
                           grader_failures=(SCRIPT_NAME,))
    for lang in ("en", "zh"):
        page = report_html.report_html(records, summary, course.config, lang, {})
        assert "<script" not in page and "<b>" not in page
        assert page.count(html.escape(SCRIPT_NAME)) >= 3  # a student, an unreadable one, a grader failure
        assert text("report.sandbox_missing", lang) in html.unescape(page)
        assert misconception_title("accumulated_twice", lang) in html.unescape(page)


def test_the_page_is_in_the_requested_language(course):
    """Are the headings, statuses and misconception titles Chinese with lang zh and English with lang en?"""
    first = course.config.exercises[0]
    records = (GradeRecord(name="张三", key="k", exercises=(
        ExerciseRecord(first.id, 0.0, first.points, "failed", ("hint.not_zeroed",), 0.1, 1),)),)
    summary = summary_json(records, course.config, {}, hidden=False)
    for lang, other in (("zh", "en"), ("en", "zh")):
        seen = visible_text(report_html.report_html(records, summary, course.config, lang, {}))
        for key in ("report.distribution", "report.misconceptions", "report.public_only", "misconception.not_zeroed"):
            assert text(key, lang) in seen and text(key, other) not in seen
        assert f"{first.id} · {first.title.text(lang)}" in seen


def test_an_empty_class_still_gets_a_whole_page(course):
    """With no record at all, is the page written, each exercise in it, with no warning from the figures?"""
    import warnings

    summary = summary_json((), course.config, {}, hidden=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        page = report_html.report_html((), summary, course.config, "en", {})
    seen = visible_text(page)
    assert all(f"{spec.id} · {spec.title.en}" in seen for spec in course.config.exercises)
    assert page.count("data:image/svg+xml;base64,") == 2


def test_check_tallies_count_passes_per_test_and_skip_what_is_not_a_results_file(tmp_path):
    """Are per-check pass rates counted from each folder's results.json, a missing or damaged one skipped?"""
    for folder, status in (("a", "passed"), ("b", "failed"), ("c", "passed")):
        document = {"tests": [{"name": "ex01 · y", "status": status}, {"name": "ex01 · z", "status": "failed"}]}
        (tmp_path / folder).mkdir()
        (tmp_path / folder / grade_records.RESULTS_NAME).write_text(json.dumps(document))
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / grade_records.RESULTS_NAME).write_text("{not json")
    tallies = report_html.check_tallies(tmp_path, ["a", "b", "c", "d", "missing"])
    assert tallies == {"ex01 · y": report_html.CheckTally(2, 3), "ex01 · z": report_html.CheckTally(0, 3)}


def chromium_or_skip():
    """The Debian Chromium and the playwright driver; without them skip, except in CI, where they must be there."""
    reasons = []
    if not CHROMIUM.exists():
        reasons.append(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reasons.append("the playwright package is missing (pip install -r requirements-test.txt)")
    if reasons:
        if os.environ.get("CI") == "true":
            pytest.fail("the browser test needs a real Chromium: " + "; ".join(reasons))
        pytest.skip("no headless browser here: " + "; ".join(reasons))


@pytest.mark.slow
def test_report_renders_in_headless_chromium(graded, course, tmp_path):
    """Loaded from disk in a real Chromium: no console error, no page error, no request besides the file
    itself, every exercise visible, every misconception title visible, both figures drawn, the hostile
    names shown as text with no dialog, and a screenshot that is not blank."""
    chromium_or_skip()
    from PIL import Image
    from playwright.sync_api import sync_playwright

    path = graded["out"] / REPORT_HTML
    summary = json.loads((graded["out"] / "summary.json").read_text("utf-8"))
    console, errors, requests, failed, dialogs = [], [], [], [], []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("console", lambda message: console.append((message.type, message.text)))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(path.as_uri(), wait_until="load")
            for spec in course.config.exercises:
                heading = page.locator(f"section#{spec.id} h2")
                assert heading.is_visible() and heading.inner_text() == f"{spec.id} · {spec.title.en}"
            body = page.locator("body").inner_text()
            for entry in (m for e in summary["exercises"].values() for m in e["misconceptions"]):
                assert entry["en"] in body
                assert page.get_by_text(entry["en"], exact=True).first.is_visible()
            for name in HOSTILE_FOLDERS:
                assert name in body
            assert page.locator("script").count() == 0
            widths = page.eval_on_selector_all("img", "images => images.map(i => i.complete && i.naturalWidth)")
            assert len(widths) == 2 and all(width and width > 100 for width in widths), widths
            shot = page.screenshot(full_page=True)
        finally:
            browser.close()
    (tmp_path / "report.png").write_bytes(shot)
    assert [m for m in console if m[0] in ("error", "warning")] == [] and errors == [] and failed == []
    assert dialogs == []
    assert [url for url in requests if not url.startswith(("file:", "data:"))] == []
    image = Image.open(io.BytesIO(shot)).convert("L")
    width, height = image.size
    dark = sum(image.histogram()[:200])
    assert height > 900 and dark > 0.01 * width * height, (image.size, dark)
