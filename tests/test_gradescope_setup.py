"""grader.lms.gradescope_setup on otter-grader's own setup.sh template, and the plugin's layer report."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from grader.lms import gradescope_setup
from grader.runner import sandbox

otter = pytest.importorskip("otter", reason="the otter extra is not installed")
TEMPLATE = Path(otter.__file__).parent / "generate" / "templates" / "python" / "setup.sh"


def test_the_browser_and_r_libraries_go_and_the_root_fix_comes_last():
    """Does the rewrite drop the playwright line and R's -dev libraries, keep the environment build, and
    end with the /root permission fix, once however often it is applied?"""
    original = TEMPLATE.read_text()
    assert "playwright" in original  # the input really holds what is to go
    rewritten = gradescope_setup.rewrite(original)
    assert "playwright" not in rewritten and "chromium" not in rewritten
    assert not any(library in rewritten for library in gradescope_setup.UNNEEDED_APT)
    assert "apt-get install -y wget jq build-essential\n" in rewritten
    assert "mamba env create -f" in rewritten
    assert gradescope_setup.permission_lines(rewritten).strip().splitlines()[-1] == "chmod o+x /root"
    assert rewritten.rstrip().endswith(gradescope_setup.PERMISSIONS_END)
    assert gradescope_setup.rewrite(rewritten) == rewritten


def test_the_zip_keeps_every_other_member(tmp_path):
    """Is only setup.sh replaced in the zip, every other member byte for byte and in order?"""
    path = tmp_path / "autograder.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("run_autograder", "#!/bin/bash\n")
        archive.writestr("setup.sh", TEMPLATE.read_text())
        archive.writestr("files/course/config.yaml", "seed: 1\n")
    gradescope_setup.rewrite_zip(path)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["run_autograder", "setup.sh", "files/course/config.yaml"]
        assert archive.read("run_autograder") == b"#!/bin/bash\n"
        assert archive.read("files/course/config.yaml") == b"seed: 1\n"
        assert "chmod o+x /root" in archive.read("setup.sh").decode()


def test_the_report_names_every_layer_in_force_and_every_missing_one():
    """Does the instructor's report list this machine's layers and each missing one's reason, one a line?"""
    from grader.lms.otter_plugin import LAYERS_PREFIX, layers_report

    layers = sandbox.describe(sandbox.prepare())
    lines = layers_report(layers, 1).splitlines()
    assert lines[0].startswith(f"{LAYERS_PREFIX}: in force: ") and lines[0].endswith("; 1 grading worker")
    on = [name for name in ("landlock", "seccomp", "setuid", "memory_limit") if layers[name]]
    assert all(name in lines[0] for name in on)
    assert lines[1:] == [f"{LAYERS_PREFIX}: missing: {reason}" for reason in layers["missing"]]
