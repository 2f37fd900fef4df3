"""grader.lms.pins: the pinned grading environment, read from the repository's own requirements.txt."""

from __future__ import annotations

import pytest

from grader.errors import UsageError
from grader.lms import pins
from helpers import REPO

REQUIREMENTS = REPO / "requirements.txt"


def requirement_lines() -> list[str]:
    """The repository's requirements.txt as pip reads its requirements: no blanks, comments or options."""
    lines = [line.split(" #")[0].strip() for line in REQUIREMENTS.read_text("utf-8").splitlines()]
    return [line for line in lines if line and not line.startswith(("#", "-"))]


def test_reads_the_checkout_this_package_runs_from():
    """Is the file read the requirements.txt beside the grader package, i.e. this repository's?"""
    assert pins.requirements_file() == REQUIREMENTS
    assert pins.requirements_file(course_root=REPO / "exercises") == REQUIREMENTS


def test_pinned_requirements_are_the_files_requirement_lines():
    """Are the pins every requirement line of requirements.txt, in order, without ``-e .``, comments or blanks?"""
    pinned = pins.pinned_requirements()
    assert list(pinned) == requirement_lines()
    assert pinned and all("==" in line for line in pinned)
    assert not any(line.startswith(("-", "#")) or not line.strip() for line in pinned)


def test_torch_pin_is_the_files_torch_line():
    """Is torch_pin() exactly the torch line of requirements.txt (and not, say, a torchvision line)?"""
    (torch_line,) = [line for line in requirement_lines() if line.split("==")[0].strip().lower() == "torch"]
    assert pins.torch_pin() == torch_line


def test_otter_export_writes_the_same_torch_pin():
    """Does the otter export's requirements.txt line come from pins, so no second copy of the version remains?"""
    from grader.lms import otter_export

    assert otter_export.torch_pin is pins.torch_pin
    assert not hasattr(otter_export, "TORCH_PIN")


def test_parsing_rules(tmp_path, monkeypatch):
    """Are inline comments, option lines and other projects handled the way pip reads the file?"""
    monkeypatch.setattr(pins, "CHECKOUT", tmp_path / "installed-copy")
    (tmp_path / "requirements.txt").write_text(
        "# header\n\nTorch==9.1.0  # why this one\ntorchvision==0.1\n-r other.txt\n--index-url x\n-e .\nrich==1\n",
        "utf-8",
    )
    assert pins.pinned_requirements(tmp_path) == ("Torch==9.1.0", "torchvision==0.1", "rich==1")
    assert pins.torch_pin(tmp_path) == "Torch==9.1.0"


def test_no_torch_line_or_no_file_is_one_sentence(tmp_path, monkeypatch):
    """Without a torch line, or without any requirements.txt to read, is the error a UsageError naming the file?"""
    monkeypatch.setattr(pins, "CHECKOUT", tmp_path / "installed-copy")
    with pytest.raises(UsageError, match="requirements.txt: not found"):
        pins.pinned_requirements(tmp_path)
    (tmp_path / "requirements.txt").write_text("torchvision==0.1\n", "utf-8")
    with pytest.raises(UsageError, match="pins no torch version"):
        pins.torch_pin(tmp_path)
