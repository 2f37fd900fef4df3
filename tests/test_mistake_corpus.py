"""The mistake corpus (tests/fixtures/mistakes) and the unusual correct answers (tests/fixtures/unusual_correct).

Both corpora are graded once per module by the real ``grader grade`` CLI, in English and in Chinese; every
test then reads what the grader wrote: ``<submission>/grade.json`` (scores and the misconception keys) and
``<submission>/results.json`` (the feedback a student reads). Each manifest says what its fixtures must
produce.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import FIXTURES, REPO, misconception_ids, stage_corpus

MISTAKES = FIXTURES / "mistakes"
UNUSUAL = FIXTURES / "unusual_correct"
LANGS = ("en", "zh")
PREFIX = {"mistakes": MISTAKES, "unusual_correct": UNUSUAL}

# The ids the shared vocabulary marks new, and the ex06 cheats the corpus must hold (by fixture folder).
NEW_IDS = {"new_leaf", "grad_disabled", "backward_in_f", "returned_grad", "swapped_outputs", "returned_input",
           "hard_coded_size", "mean_backward", "finite_difference", "own_grid", "not_from_autograd",
           "cos_outside_backward", "retain_graph_twice", "detached_wrong", "grad_assigned"}
EX06_CHEATS = {"ex06_getattr_cos", "ex06_shifted_sin", "ex06_complex_exp", "ex06_numpy_as_tensor", "ex06_math_loop",
               "ex06_finite_difference", "ex06_custom_function", "ex06_helper_cell_cos"}
# A catalogue placeholder left unfilled ("{k:g}", "{file}").
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(![rsa])?(:[^{}]*)?\}")
# A file of the grader's own package: never the place a student's mistake is.
GRADER_FILE = re.compile(r"\bgrader/(runner|core|render|commands|lms)/\w+\.py")
# A location the student never wrote: no file ("? line 3") or no line ("line 0").
NOWHERE = re.compile(r"(^|\s)\?(,|:)?\s*(line|第)|\bline 0\b|第 0 行")


def _manifest(root: Path) -> dict:
    return yaml.safe_load((root / "manifest.yaml").read_text("utf-8"))


MISTAKE_MANIFEST = _manifest(MISTAKES)
UNUSUAL_MANIFEST = _manifest(UNUSUAL)


def _params(entries, with_lang: bool = False):
    """One pytest param per entry (and language)."""
    params = []
    for entry in entries:
        for lang in (LANGS if with_lang else (None,)):
            values = (entry, lang) if with_lang else (entry,)
            name = entry["folder"] + (f"-{lang}" if with_lang else "")
            params.append(pytest.param(*values, id=name))
    return params


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{lang: output folder} of one ``grader grade`` run per language over both corpora."""
    base = tmp_path_factory.mktemp("corpus")
    stage_corpus(PREFIX, base / "class")
    outs = {}
    for lang in LANGS:
        out = base / f"out_{lang}"
        done = subprocess.run([sys.executable, "-m", "grader", "grade", str(base / "class"), "-o", str(out),
                               "--jobs", "2", "--lang", lang], cwd=REPO, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        outs[lang] = out
    return outs


def _exercise_record(out: Path, prefix: str, entry: dict) -> dict:
    record = json.loads((out / f"{prefix}--{entry['folder']}" / "grade.json").read_text("utf-8"))
    return next(e for e in record["exercises"] if e["id"] == entry["exercise"])


def _exercise_tests(out: Path, prefix: str, entry: dict) -> list[dict]:
    results = json.loads((out / f"{prefix}--{entry['folder']}" / "results.json").read_text("utf-8"))
    return [t for t in results["tests"] if t["name"].startswith(f"{entry['exercise']} · ")]


# --- the manifests themselves (no grading run) ---------------------------------------------------------------

def test_every_fixture_folder_is_in_its_manifest():
    for root, manifest in ((MISTAKES, MISTAKE_MANIFEST), (UNUSUAL, UNUSUAL_MANIFEST)):
        listed = [e["folder"] for e in manifest["fixtures"]]
        assert len(listed) == len(set(listed)), root
        assert sorted(listed) == sorted(p.name for p in root.iterdir() if p.is_dir()), root


def test_every_fixture_holds_its_exercise_file():
    from helpers import EXERCISES

    files = {d.id: d.filename for d in EXERCISES}
    for root, manifest in ((MISTAKES, MISTAKE_MANIFEST), (UNUSUAL, UNUSUAL_MANIFEST)):
        for entry in manifest["fixtures"]:
            folder = root / entry["folder"]
            assert (folder / files[entry["exercise"]]).is_file() or (folder / "autograd.ipynb").is_file(), folder
            assert entry["note"].strip(), folder


def test_the_corpus_is_wide_enough():
    mistakes = MISTAKE_MANIFEST["fixtures"]
    per_exercise = {ex: sum(1 for e in mistakes if e["exercise"] == ex) for ex in MISTAKE_MANIFEST["forbidden_phrases"]}
    assert len(mistakes) >= 48 and len(UNUSUAL_MANIFEST["fixtures"]) >= 10
    assert min(per_exercise.values()) >= 6, per_exercise
    assert per_exercise["ex05"] > 6 and per_exercise["ex06"] > 6, per_exercise
    assert NEW_IDS <= {e["misconception"] for e in mistakes}, NEW_IDS - {e["misconception"] for e in mistakes}
    assert EX06_CHEATS <= {e["folder"] for e in mistakes}
    for root, manifest in ((MISTAKES, MISTAKE_MANIFEST), (UNUSUAL, UNUSUAL_MANIFEST)):
        assert any((root / e["folder"] / "autograd.ipynb").is_file() for e in manifest["fixtures"]), root


# --- mistakes ------------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("entry", _params(MISTAKE_MANIFEST["fixtures"]))
def test_mistake_names_its_misconception(graded, entry):
    for lang in LANGS:
        produced = misconception_ids(_exercise_record(graded[lang], "mistakes", entry)["misconceptions"])
        assert entry["misconception"] in produced, (lang, sorted(produced))


@pytest.mark.slow
@pytest.mark.parametrize("entry", _params(MISTAKE_MANIFEST["fixtures"]))
def test_mistake_does_not_get_full_marks(graded, entry):
    record = _exercise_record(graded["en"], "mistakes", entry)
    assert record["score"] < record["max_score"], record


@pytest.mark.slow
@pytest.mark.parametrize("entry,lang", _params(MISTAKE_MANIFEST["fixtures"], with_lang=True))
def test_mistake_feedback_reads_well(graded, entry, lang):
    failed = [t for t in _exercise_tests(graded[lang], "mistakes", entry) if t["status"] == "failed"]
    assert failed, "no failing test carries feedback"
    text = "\n".join(t["output"] for t in failed)
    # Neither the feedback nor what the code printed (its warnings included) may point into the grader.
    assert not GRADER_FILE.search(text), text
    # The grader's own words: without the rows of captured output ("| ..."), which are the student's.
    text = "\n".join(line for line in text.splitlines() if not line.startswith("| "))
    assert not PLACEHOLDER.search(text), text
    assert not NOWHERE.search(text), text
    banned = (MISTAKE_MANIFEST["forbidden_phrases"][entry["exercise"]][lang]
              + (entry.get("must_not_say") or {}).get(lang, []))
    said = [phrase for phrase in banned if phrase in text]
    assert not said, (said, text)


# --- unusual correct answers --------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("entry,lang", _params(UNUSUAL_MANIFEST["fixtures"], with_lang=True))
def test_unusual_correct_answer_gets_full_marks(graded, entry, lang):
    record = _exercise_record(graded[lang], "unusual_correct", entry)
    tests = _exercise_tests(graded[lang], "unusual_correct", entry)
    failing = {t["name"]: t["output"] for t in tests if t["status"] != "passed"}
    assert record["score"] == record["max_score"] and not failing, (record, failing)
    assert any(t["name"].endswith(" · hidden cases") for t in tests), "hidden cases were not graded"
