"""grader.runner.sandbox.mounts: which directories hide a path, and, in a forked child, the view expose() mounts."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import pytest

from grader.runner.sandbox import mounts
from helpers import read, run_forked

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mount namespaces are Linux-only")

NOBODY = 65534


@pytest.fixture
def hidden():
    """base/ (0755) / hidden/ (0700, root's) / deep/needed/ (0755, file.txt) and hidden/secret.txt."""
    base = tempfile.mkdtemp(prefix="sandbox-mounts-")
    os.chmod(base, 0o755)
    hidden = os.path.join(base, "hidden")
    needed = os.path.join(hidden, "deep", "needed")
    os.makedirs(needed)
    for directory in (os.path.join(hidden, "deep"), needed):
        os.chmod(directory, 0o755)
    os.chmod(hidden, 0o700)
    for path, text in ((os.path.join(needed, "file.txt"), "needed\n"), (os.path.join(hidden, "secret.txt"), "no\n")):
        with open(path, "w") as handle:
            handle.write(text)
        os.chmod(path, 0o644)
    yield {"base": os.path.realpath(base), "hidden": os.path.realpath(hidden), "needed": os.path.realpath(needed)}
    shutil.rmtree(base, ignore_errors=True)


def test_beneath():
    assert mounts.beneath("/a/b", "/a") and mounts.beneath("/a", "/a") and mounts.beneath("/a", "/")
    assert not mounts.beneath("/ab", "/a") and not mounts.beneath("/a", "/a/b")


def test_permits(tmp_path):
    path = tmp_path / "f"
    path.write_text("")
    path.chmod(0o640)
    st = os.stat(path)
    uid, gid, other_uid, other_gid = st.st_uid, st.st_gid, st.st_uid + 1, st.st_gid + 1
    assert mounts.permits(st, uid, other_gid, 0o6) and not mounts.permits(st, uid, other_gid, 0o1)
    assert mounts.permits(st, other_uid, gid, 0o4) and not mounts.permits(st, other_uid, gid, 0o2)
    assert not mounts.permits(st, other_uid, other_gid, 0o4)  # others: nothing
    assert mounts.permits(st, uid, gid, 0o6)  # the owner's bits win over the group's


def test_plan_views(hidden):
    if os.geteuid() != 0:
        pytest.skip("the layout needs a directory owned by another uid than 65534")
    needed, file = hidden["needed"], os.path.join(hidden["needed"], "file.txt")
    masks, unfixable = mounts.plan_views((needed, file, "/proc/self", "/usr", "/nonexistent"), NOBODY, NOBODY)
    assert masks == {hidden["hidden"]: [needed, file]} and unfixable == []
    secret = os.path.join(hidden["hidden"], "secret.txt")
    os.chmod(secret, 0o600)
    assert mounts.plan_views((secret,), NOBODY, NOBODY) == ({}, [secret])  # no mount makes a 0600 file readable
    os.chmod(hidden["base"], 0o700)  # now the topmost blocked ancestor is the one to cover
    assert mounts.plan_views((needed,), NOBODY, NOBODY)[0] == {hidden["base"]: [needed]}


def mount_points():
    """{mount point: filesystem type} from the kernel's table for this process."""
    table = {}
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            table[fields[4]] = fields[fields.index("-") + 1]
    return table


def test_expose_reads_back(prepared, hidden):
    if not prepared.layers.private_mounts:
        pytest.skip(f"no private mount namespace here: {prepared.layers.missing}")
    before = read("/proc/self/mountinfo")
    cover, needed = hidden["hidden"], hidden["needed"]
    masks = mounts.plan_views((needed,), NOBODY, NOBODY)[0]
    assert masks == {cover: [needed]}
    probes = [
        ("mounts", mount_points),
        ("read_needed", lambda: read(os.path.join(needed, "file.txt"))),
        ("read_secret", lambda: read(os.path.join(cover, "secret.txt"))),
        ("list_cover", lambda: os.listdir(cover)),
        ("modes", lambda: [oct(os.stat(p).st_mode & 0o777) for p in (cover, os.path.dirname(needed))]),
        ("plan_again", lambda: mounts.plan_views((needed,), NOBODY, NOBODY)),
    ]

    def setup():
        os.umask(0o077)  # a strict umask must not leave the rebuilt path unsearchable
        mounts.expose(prepared.libc, masks)

    report = run_forked(setup, probes)
    assert report["enter"][0] == "ok", report["enter"]
    table = report["mounts"][1]
    assert table.get(cover) == "tmpfs", {k: v for k, v in table.items() if k.startswith(hidden["base"])}
    assert needed in table  # the bind mount back
    assert report["read_needed"] == ["ok", "needed\n"]
    assert report["read_secret"][:2] == ["error", "FileNotFoundError"]
    assert report["list_cover"] == ["ok", ["deep"]]
    assert report["modes"] == ["ok", ["0o755", "0o755"]]
    assert report["plan_again"] == ["ok", [{}, []]]  # uid 65534 can now reach the needed path
    assert read("/proc/self/mountinfo") == before  # nothing leaked into the parent's namespace
    assert read(os.path.join(cover, "secret.txt")) == "no\n"
