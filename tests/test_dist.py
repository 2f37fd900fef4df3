"""Does the student copy work on its own: no solutions, no hidden cases, same feedback as the instructor's?"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import REPO, SUBMISSIONS
from grader.cli import main
from grader.errors import ConfigError
from grader.i18n import say
from grader.core.reference import load_shipped


@pytest.fixture(scope="module")
def student_copy(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist") / "copy"
    assert main(["--course", str(REPO), "dist", str(out)]) == 0
    return out


def run_grader(copy: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m grader` inside the copy, importing the copy's own package (never the repo's solutions)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GRADER_COURSE", "PYTHONPATH")}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=300)


def test_copy_has_no_solutions_and_no_hidden_cases(student_copy):
    """solutions/ is absent; config.yaml lists no hidden cases and no seed to rebuild them from."""
    assert not (student_copy / "solutions").exists()
    assert (student_copy / "expected" / "public.bin").is_file()
    config = yaml.safe_load((student_copy / "config.yaml").read_text())
    assert "seed" not in config
    assert all("hidden" not in entry for entry in config["exercises"].values())
    assert not any("solutions" in p.parts for p in student_copy.rglob("*"))


@pytest.mark.slow
def test_check_in_the_copy_matches_the_instructors(student_copy):
    """A typical mistake gets the same targeted hint in the copy, from the shipped expected values."""
    weighted = SUBMISSIONS / "ex03_weighted" / "ex03_sum_backward.py"
    in_copy = run_grader(student_copy, "check", "ex03", "--file", str(weighted), "--lang", "en")
    in_repo = subprocess.run([sys.executable, "-m", "grader", "--course", str(REPO), "check", "ex03", "--file",
                              str(weighted), "--lang", "en"], capture_output=True, text=True, timeout=300)
    assert in_copy.returncode == 1, in_copy.stderr
    assert "weights each element" in in_copy.stdout
    assert in_copy.stdout == in_repo.stdout


@pytest.mark.slow
def test_copy_passes_a_correct_solution_and_reports_stubs(student_copy, tmp_path):
    """In a fresh copy the stubs are 'not started'; a correct file passes (exit 0)."""
    stubs = run_grader(student_copy, "check", "--lang", "en")
    assert stubs.returncode == 1 and stubs.stdout.count("[not started]") == 6
    correct = run_grader(student_copy, "check", "ex05", "--file", str(SUBMISSIONS / "correct" / "ex05_control_flow.py"))
    assert correct.returncode == 0, correct.stdout + correct.stderr


@pytest.mark.slow
def test_notebook_cells_check_in_a_sandbox(student_copy, tmp_path):
    """Executing the copy's autograd.ipynb in a real kernel writes each file and prints its check."""
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    copy = tmp_path / "copy"
    shutil.copytree(student_copy, copy)
    notebook = nbformat.read(copy / "autograd.ipynb", as_version=4)
    # The student solves ex03 in its cell; the other cells keep their stubs.
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source.startswith("%%writefile exercises/ex03_sum_backward.py"):
            cell.source = "%%writefile exercises/ex03_sum_backward.py\n" + (REPO / "solutions" / "ex03_sum_backward.py").read_text()
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(copy)}}).execute()
    outputs = "\n".join(
        str(output.get("data", {}).get("text/plain", "")) + str(output.get("text", ""))
        for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
    )
    assert "✓ ex03" in outputs
    assert "✗ ex01" in outputs


@pytest.mark.parametrize("content, key", [(None, "error.no_expected"), (b"\x00garbage", "error.expected_damaged")],
                         ids=["missing", "damaged"])
def test_a_copy_without_usable_expected_values_asks_for_a_fresh_one(tmp_path, content, key):
    """With no solutions/ and a missing or damaged expected/public.bin, is the error one sentence, in both languages?"""
    if content is not None:
        (tmp_path / "expected").mkdir()
        (tmp_path / "expected" / "public.bin").write_bytes(content)
    with pytest.raises(ConfigError) as raised:
        load_shipped(tmp_path)
    assert raised.value.message is not None and raised.value.message.key == key
    assert "fresh copy" in str(raised.value)
    assert "新的副本" in say(raised.value.message, "zh")


def test_copy_keeps_the_share_hidden_cases_decide(student_copy):
    """The copy has no hidden case lists, so `check` learns from hidden_weight what grading leaves to hidden
    cases: an exercise with hidden cases keeps its weight, one without gets 0."""
    from grader.core.config import load_config

    copied = load_config(student_copy / "config.yaml")
    for spec in load_config(REPO / "config.yaml").exercises:
        assert copied.exercise(spec.id).hidden == ()
        expected = spec.hidden_weight if spec.hidden else 0
        assert copied.exercise(spec.id).hidden_weight == expected


def test_an_exercise_without_hidden_cases_gets_weight_0_in_the_copy(tmp_path):
    """A course whose ex03 lists no hidden cases: the copy says so with hidden_weight 0 (and ex01 keeps its)."""
    from helpers import copy_course

    from grader.core.config import load_config

    root = copy_course(tmp_path / "course")
    raw = yaml.safe_load((root / "config.yaml").read_text("utf-8"))
    raw["exercises"]["ex03"].pop("hidden")
    (root / "config.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), "utf-8")
    assert main(["--course", str(root), "dist", str(tmp_path / "copy")]) == 0
    copied = load_config(tmp_path / "copy" / "config.yaml")
    assert copied.exercise("ex03").hidden_weight == 0
    assert copied.exercise("ex01").hidden_weight == load_config(root / "config.yaml").exercise("ex01").hidden_weight > 0
