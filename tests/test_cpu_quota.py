"""grader.lms.cpu_quota: the CPUs a container's quota allows, read from real cgroup files laid out in a folder."""

from __future__ import annotations

import os

import pytest

from grader.lms.cpu_quota import cpu_quota, default_jobs


def write(root, relative, text):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize("layout, expected", [
    ({"cpu.max": "50000 100000\n"}, 0.5),                                  # Gradescope's default, cgroup v2
    ({"cpu.max": "max 100000\n"}, None),                                   # v2, no quota
    ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5),   # v1
    ({"cpu,cpuacct/cpu.cfs_quota_us": "200000\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, 2.0),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),     # v1, no quota
    ({}, None),                                                            # no cgroup files at all
])
def test_quota_is_read_from_either_hierarchy(tmp_path, layout, expected):
    """Is the quota read from cgroup v2's cpu.max or v1's cfs files, and None where there is none?"""
    for relative, text in layout.items():
        write(tmp_path, relative, text)
    assert cpu_quota(tmp_path, own="/") == expected


def test_the_own_cgroup_is_looked_up_before_the_root(tmp_path):
    """Is the quota of this process's own cgroup preferred to the hierarchy root's?"""
    write(tmp_path, "cpu.max", "max 100000\n")
    write(tmp_path, "grading/cpu.max", "50000 100000\n")
    assert cpu_quota(tmp_path, own="/grading") == 0.5


def test_half_a_cpu_means_one_worker(tmp_path):
    """Does a quota of 0.5 CPU give one grading worker, and no quota at most two (the cores allow)?"""
    write(tmp_path, "cpu.max", "50000 100000\n")
    assert default_jobs(tmp_path) == 1
    assert 1 <= default_jobs(tmp_path / "none") <= min(2, os.cpu_count() or 1)
