"""The benchmark scripts in bench/ still run against the current package (they use its internals)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from helpers import REPO

sys.path.insert(0, str(REPO / "bench"))

import grade_throughput  # noqa: E402


def test_generated_class_mixes_correct_work_with_the_fixture_mistakes(tmp_path):
    """Does generate() write N complete submissions, some of them with a fixture scenario swapped in?"""
    grade_throughput.generate(tmp_path, 40, seed=1)
    folders = sorted(tmp_path.iterdir())
    assert len(folders) == 40
    correct = {p.name: p.read_bytes() for p in (grade_throughput.FIXTURES / "correct").glob("*.py")}
    differing = 0
    for folder in folders:
        files = {p.name: p.read_bytes() for p in folder.glob("*.py")}
        assert set(files) == set(correct)
        differing += files != correct
    assert 0 < differing < 40


@pytest.mark.slow
def test_fork_ceiling_measures_every_variant():
    """Does bench/fork_ceiling.py run real sandboxed children in every variant and print a positive rate?"""
    completed = subprocess.run(
        [sys.executable, str(REPO / "bench" / "fork_ceiling.py"), "--jobs", "1", "--seconds", "0.5"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    rates = dict(re.findall(r"^([\w-]+)\s+1 jobs:\s+([\d.]+) submissions/s", completed.stdout, re.MULTILINE))
    assert set(rates) == {"bare", "sandbox", "harness", "exercises", "one-child"}
    assert all(float(rate) > 0 for rate in rates.values())
