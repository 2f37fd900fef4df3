"""Does the otter-grader export hold up under the real `otter run`? (slow: each run starts a Jupyter kernel)"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from helpers import EXERCISES, REPO, SUBMISSIONS
from grader.cli import main
from grader.core.course import find_course
from grader.lms import gradescope_setup, pins

otter = pytest.importorskip("otter", reason="the otter extra is not installed")
OTTER = Path(sys.executable).with_name("otter")
pytestmark = pytest.mark.slow


def solution_sources(overrides: dict[str, Path] | None = None) -> list[str]:
    """The six reference solutions' code, with some exercises swapped for a fixture's file."""
    chosen = []
    for definition in EXERCISES:
        path = (overrides or {}).get(definition.id, REPO / "solutions" / definition.filename)
        chosen.append(path.read_text("utf-8"))
    return chosen


def write_notebook(path: Path, cells: list[str]) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("otter") / "export"
    assert main(["--course", str(REPO), "export", "otter", str(out)]) == 0
    return out / "autograder.zip"


def otter_run(autograder: Path, submission: Path, tmp_path: Path) -> dict:
    results = tmp_path / "results"
    results.mkdir(parents=True)
    completed = subprocess.run([str(OTTER), "run", "-a", str(autograder), "-o", str(results), str(submission)],
                               cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    return json.loads((results / "results.json").read_text())


def scores(results: dict) -> dict[str, float]:
    return {t["name"]: t["score"] for t in results["tests"] if t["name"].startswith("ex")}


def test_export_writes_the_promised_files(autograder):
    """Notebook, script, test files, otter_config.json, requirements.txt pinning torch's CPU build, and the zip."""
    out = autograder.parent
    for name in ("autograd.ipynb", "autograd.py", "otter_config.json", "requirements.txt"):
        assert (out / name).is_file(), name
    assert sorted(p.name for p in (out / "tests").glob("*.py")) == [f"{e.id}.py" for e in EXERCISES]
    requirements = (out / "requirements.txt").read_text().split()
    assert f"{pins.torch_pin(REPO)}+cpu" in requirements and any("autograd-grader" in r for r in requirements)
    config = json.loads((out / "otter_config.json").read_text())
    assert "grader.lms.otter_plugin.AutogradGraderPlugin" in json.dumps(config["plugins"])
    ex03 = (out / "tests" / "ex03.py").read_text()
    assert "hidden=True" in ex03 and "hidden=False" in ex03


def test_reference_notebook_scores_full_marks(autograder, tmp_path):
    """The canonical solution, as a notebook, scores every point under the real otter run."""
    results = otter_run(autograder, write_notebook(tmp_path / "sub" / "autograd.ipynb", solution_sources()), tmp_path)
    got = scores(results)
    assert got == {e.id: e.points for e in find_course(REPO).config.exercises}


def test_script_with_a_typical_mistake_loses_exactly_that_exercise(autograder, tmp_path):
    """A .py submission with ex03's weighted gradient loses ex03 points only, and carries our feedback."""
    sources = solution_sources({"ex03": SUBMISSIONS / "ex03_weighted" / "ex03_sum_backward.py"})
    submission = tmp_path / "sub" / "autograd.py"
    submission.parent.mkdir()
    submission.write_text("\n\n".join(sources))
    results = otter_run(autograder, submission, tmp_path)
    got = scores(results)
    points = {e.id: e.points for e in find_course(REPO).config.exercises}
    assert got["ex03"] < points["ex03"]
    assert {e: got[e] for e in got if e != "ex03"} == {e: points[e] for e in points if e != "ex03"}
    ex03 = next(t for t in results["tests"] if t["name"] == "ex03")
    assert "ones_like" in ex03["output"] or "全 1" in ex03["output"]


def test_monkeypatching_gains_nothing(autograder, tmp_path):
    """Patching torch.allclose / assert_close to always agree earns no points for the cheated exercise."""
    cheat = (
        "import torch, torch.testing\n"
        "torch.allclose = lambda *a, **k: True\n"
        "torch.testing.assert_close = lambda *a, **k: None\n"
        "torch.equal = lambda *a, **k: True\n"
        "def sum_backward(x):\n"
        "    return torch.zeros_like(x)\n"
    )
    sources = solution_sources()
    sources[2] = cheat
    results = otter_run(autograder, write_notebook(tmp_path / "sub" / "autograd.ipynb", sources), tmp_path)
    got = scores(results)
    points = {e.id: e.points for e in find_course(REPO).config.exercises}
    assert got["ex03"] == 0
    assert {e: got[e] for e in got if e != "ex03"} == {e: points[e] for e in points if e != "ex03"}


def test_an_upload_that_ships_its_own_course_grades_as_its_notebook_alone(autograder, tmp_path):
    """A zip upload holding autograd.ipynb (ex03 wrong) and its own course/ (config, and "solutions" that are its
    own wrong functions, which also leave a marker if they ever run) earns exactly what the notebook alone
    earns, and its "solutions" never run."""
    import secrets
    import shutil
    import zipfile

    marker = Path(tempfile.gettempdir()) / f"hijack-{secrets.token_hex(6)}"
    wrong = SUBMISSIONS / "ex03_weighted" / "ex03_sum_backward.py"
    notebook = write_notebook(tmp_path / "plain" / "autograd.ipynb", solution_sources({"ex03": wrong}))
    alone = scores(otter_run(autograder, notebook, tmp_path / "alone"))

    fake = tmp_path / "fake" / "course"
    shutil.copytree(REPO / "exercises", fake / "exercises")
    shutil.copytree(REPO / "solutions", fake / "solutions")
    shutil.copy(REPO / "config.yaml", fake / "config.yaml")
    (fake / "solutions" / "ex03_sum_backward.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran in the grader')\n" + wrong.read_text("utf-8"), "utf-8")
    upload = tmp_path / "upload.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        archive.write(notebook, "autograd.ipynb")
        for path in fake.rglob("*"):
            if path.is_file():
                archive.write(path, str(path.relative_to(fake.parent)))
    hijacked = scores(otter_run(autograder, upload, tmp_path / "hijack"))
    assert hijacked == alone
    assert hijacked["ex03"] < find_course(REPO).config.exercise("ex03").points
    assert not marker.exists(), "the upload's own 'solutions' ran"


def test_the_zip_installs_the_pinned_cpu_environment(autograder):
    """Does the autograder's environment ask for the exporting Python, torch's CPU build from PyTorch's CPU
    index and the very pins of requirements.txt, does its setup.sh install no browser and open /root for
    the sandbox's uid drop, and does the plugin take one worker per CPU of the quota?"""
    import zipfile

    import yaml

    with zipfile.ZipFile(autograder) as archive:
        environment = yaml.safe_load(archive.read("environment.yml"))
        config = json.loads(archive.read("otter_config.json"))
        setup = archive.read("setup.sh").decode()
    assert f"python={sys.version_info.major}.{sys.version_info.minor}" in environment["dependencies"]
    assert "playwright" not in setup and "chromium" not in setup
    assert "mamba env create -f /autograder/source/environment.yml" in setup  # the pip section is installed
    assert "chmod o+x /root" in gradescope_setup.permission_lines(setup)
    assert setup.rstrip().endswith(gradescope_setup.PERMISSIONS_END)  # after the environment exists
    pip = next(entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict))
    torch = pins.torch_pin(REPO)
    assert f"{torch}+cpu" in pip and torch not in pip
    assert any(line.startswith("--extra-index-url") and line.rstrip("/").endswith("/whl/cpu") for line in pip)
    for requirement in pins.pinned_requirements(REPO):
        if requirement != torch:
            assert requirement in pip, requirement
    pinned = {pins.project_name(r) for r in pins.pinned_requirements(REPO)}
    assert sum(pins.project_name(line) in pinned for line in pip) == len(pinned)  # each pin once, no second one
    plugin = config["plugins"][0]["grader.lms.otter_plugin.AutogradGraderPlugin"]
    assert plugin["jobs"] == "auto"
