"""The scratch quota on real children: a private tmpfs caps bytes and files, and nothing reaches the host's folder."""

from __future__ import annotations

import errno
import os
import sys

import pytest

from grader.runner import sandbox
from grader.runner.sandbox import mounts
from helpers import run_forked, run_sandboxed

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mount namespaces are Linux-only")


@pytest.fixture(autouse=True)
def needs_quota(prepared):
    if not prepared.layers.scratch_quota:
        pytest.skip(f"no scratch quota here: {prepared.layers.missing}")


def policy_for(course, **overrides):
    fields = dict(readable=(course["submission"],), scratch=course["scratch"], memory_bytes=512 << 20,
                  cpu_seconds=20)
    fields.update(overrides)
    return sandbox.Policy(**fields)


def write_megabytes(count):
    chunk = b"x" * (1 << 20)
    with open("big.bin", "wb") as handle:
        for index in range(count):
            try:
                handle.write(chunk)
                handle.flush()
            except OSError as error:
                return [index, error.errno]
    return [count, 0]


def create_files(limit):
    for index in range(limit):
        try:
            open(f"f{index}", "w").close()
        except OSError as error:
            return [index, error.errno]
    return [limit, 0]


def scratch_mount():
    """(fstype, mount options, super options) of the mount at the cwd, from the child's own table."""
    cwd = os.getcwd()
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            if fields[4] == cwd:
                dash = fields.index("-")
                return [fields[dash + 1], fields[5], fields[dash + 3]]
    return None


def owner_and_mode():
    st = os.stat(".")
    return [st.st_uid, st.st_gid, oct(st.st_mode & 0o777)]


def test_bytes_beyond_the_quota_fail_with_enospc(prepared, sandbox_course):
    policy = policy_for(sandbox_course, scratch_bytes=8 << 20)
    report = run_sandboxed(prepared, policy, [("write", lambda: write_megabytes(12)), ("mount", scratch_mount),
                                              ("owner", owner_and_mode)])
    assert report["enter"][0] == "ok", report["enter"]
    written, error = report["write"][1]
    assert error == errno.ENOSPC and written <= 8, report["write"]
    fstype, options, super_options = report["mount"][1]
    assert fstype == "tmpfs" and {"nosuid", "nodev", "noexec"} <= set(options.split(",")), report["mount"]
    assert "size=8192k" in super_options.split(","), super_options
    uid = policy.uid if prepared.layers.setuid else os.geteuid()
    assert report["owner"][1] == [uid, uid, "0o700"]
    assert os.listdir(sandbox_course["scratch"]) == []  # the host's folder never saw a byte


def test_files_beyond_the_quota_fail(prepared, sandbox_course):
    policy = policy_for(sandbox_course, scratch_files=20)
    report = run_sandboxed(prepared, policy, [("files", lambda: create_files(50))])
    assert report["enter"][0] == "ok", report["enter"]
    assert report["files"][1] == [20, errno.ENOSPC]  # exactly scratch_files, then no inode left
    assert os.listdir(sandbox_course["scratch"]) == []


def test_defaults(prepared, sandbox_course):
    policy = policy_for(sandbox_course)
    assert (policy.scratch_bytes, policy.scratch_files) == (64 << 20, 1000)
    report = run_sandboxed(prepared, policy, [("files", lambda: create_files(1001)), ("mount", scratch_mount)])
    assert report["files"][1] == [1000, errno.ENOSPC]
    assert "size=65536k" in report["mount"][1][2].split(",")


def test_mount_scratch_alone(prepared, tmp_path):
    """mounts.mount_scratch in a private namespace: the options read back, the host directory stays empty."""
    target = str(tmp_path)

    def setup():
        mounts.private_namespace(prepared.libc)
        mounts.mount_scratch(prepared.libc, target, 1 << 20, 3, 4321, 4321)
        os.chdir(target)

    probes = [("mount", scratch_mount), ("owner", owner_and_mode), ("files", lambda: create_files(5))]
    report = run_forked(setup, probes)
    assert report["enter"][0] == "ok", report["enter"]
    assert report["owner"][1] == [4321, 4321, "0o700"]
    assert report["files"][1] == [3, errno.ENOSPC]
    assert "size=1024k" in report["mount"][1][2].split(",")
    assert os.listdir(target) == []
