"""Does the exported autograder grade right in an emulation of Gradescope's default container? (slow)

What Gradescope's default container is, and how each part is emulated here:

- the zip unpacked into ``/autograder/source``, the upload in ``/autograder/submission``: a private mount
  namespace (``unshare -m``) with a tmpfs on ``/autograder``, so nothing of it is seen outside the test;
- the image ``setup.sh`` built: no miniforge download; the environment is this test venv, whose interpreter
  lies under ``/root`` as miniforge's does. ``/root`` is mode 0700 in the image: a 0700 tmpfs covers
  ``/root`` inside the namespace, ``/root/.pyenv`` is bind-mounted back, and then setup.sh's own
  permission lines (read from the zip) run on it; the real ``/root`` is never changed;
- 768 MB and 0.5 vCPU: a memory cgroup (no swap) below this process's own and, where the cpu controller
  lets a cgroup be made, a CFS quota of 50 ms per 100 ms;
- Docker's default capabilities (no CAP_SYS_ADMIN) through ``setpriv``, and cgroupfs mounted read-only as
  Docker mounts it for an unprivileged container. Docker's default seccomp profile is not emulated.

Then ``run_otter.py`` (what ``run_autograder`` runs) grades one upload; its results.json is compared
with ``grader grade`` of the same notebook on the host.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from helpers import (EXERCISES, FIXTURES, REPO, SUBMISSIONS, exercise_sources, overrides_in,
                     write_code_notebook)
from grader.cli import main
from grader.i18n import text
from grader.lms import gradescope_setup
from grader.lms.otter_plugin import LAYERS_PREFIX

pytest.importorskip("otter", reason="the otter extra is not installed")
pytestmark = pytest.mark.slow

MEMORY_BYTES = 768 * 1024 * 1024
PEAK_LIMIT_MIB = 600
CPU_QUOTA_US, CPU_PERIOD_US = 50_000, 100_000
DOCKER_CAPS = ("chown", "dac_override", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
               "net_bind_service", "net_raw", "sys_chroot", "mknod", "audit_write", "setfcap")
GRADESCOPE = FIXTURES / "gradescope"
VENV = Path(sys.prefix)
POINTS = {e.id: e.points for e in EXERCISES}


def _missing_tools() -> str:
    """Why this machine cannot emulate the container, or "" when it can."""
    if not sys.platform.startswith("linux"):
        return "needs Linux (mount namespaces, cgroups)"
    if os.geteuid() != 0:
        return "needs root: unshare -m, tmpfs mounts and cgroups are root's"
    for tool in ("unshare", "setpriv", "unzip", "mountpoint"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return ""


@pytest.fixture(scope="module")
def machine():
    """Skips (with the reason) only where this is not a root Linux with the tools; as root it must work."""
    reason = _missing_tools()
    if reason:
        pytest.skip(reason)
    from grader.runner.sandbox import memory

    version, directory, _ = memory.own_cgroup()  # as root on this machine: must exist, no skip
    assert version == 1 or os.path.isfile(os.path.join(directory, "memory.peak")), "cgroup v2 without memory.peak"
    if not Path("/autograder").exists():
        Path("/autograder").mkdir(mode=0o755)  # an empty mount point; each run mounts its own tmpfs on it
    return version, directory


def _cpu_parent() -> Path | None:
    """The cgroup v1 cpu controller's directory to make a quota cgroup in, or None (the run then has no quota,
    and the plugin's worker count is not checked against one)."""
    own = "/"
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        number, controllers, path = line.split(":", 2)
        if "cpu" in controllers.split(","):
            own = path
    for mount in ("/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"):
        folder = Path(mount + own)
        if (folder / "cpu.cfs_quota_us").is_file() and os.access(folder, os.W_OK):
            return folder
    return None


class Container:
    """The cgroups of one emulated container run; removed on exit."""

    def __init__(self, memory_parent: str, version: int):
        name = f"gradescope-emulation-{secrets.token_hex(4)}"
        self.version = version
        self.memory = Path(memory_parent) / name
        self.memory.mkdir()
        if version == 1:
            (self.memory / "memory.limit_in_bytes").write_text(str(MEMORY_BYTES))
            if (self.memory / "memory.memsw.limit_in_bytes").exists():
                (self.memory / "memory.memsw.limit_in_bytes").write_text(str(MEMORY_BYTES))  # no swap
        else:
            (self.memory / "memory.max").write_text(str(MEMORY_BYTES))
            (self.memory / "memory.swap.max").write_text("0")
        parent = _cpu_parent() if version == 1 else None
        self.cpu = parent / name if parent else None
        if self.cpu is not None:
            self.cpu.mkdir()
            (self.cpu / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
            (self.cpu / "cpu.cfs_quota_us").write_text(str(CPU_QUOTA_US))

    def peak_mib(self) -> float:
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        return int((self.memory / name).read_text()) / 2**20

    def close(self) -> None:
        for folder in (self.memory, self.cpu):
            for _ in range(50):
                if folder is None or not folder.exists():
                    break
                try:
                    folder.rmdir()
                except OSError:
                    time.sleep(0.1)  # its last processes are still exiting


SCRIPT = r"""
set -e
echo $$ > "$MEMORY_CGROUP/cgroup.procs"
if [ -n "$CPU_CGROUP" ]; then echo $$ > "$CPU_CGROUP/cgroup.procs"; fi
mount -t tmpfs -o mode=0755 autograder /autograder
mkdir -p /autograder/source /autograder/submission /autograder/results
unzip -q "$ZIP" -d /autograder/source
cp -r "$UPLOAD"/. /autograder/submission/
echo '{}' > /autograder/submission_metadata.json
# The image as setup.sh leaves it: /root 0700 holding the environment's interpreter, then setup.sh's fix.
mkdir /autograder/.host-root
mount --bind /root /autograder/.host-root
mount -t tmpfs -o mode=0700 root /root
mkdir /root/.pyenv
mount --bind /autograder/.host-root/.pyenv /root/.pyenv
umount /autograder/.host-root
rmdir /autograder/.host-root
sh -e "$PERMISSIONS"
# Docker mounts cgroupfs read-only in an unprivileged container.
for point in $(awk '$3 ~ /^cgroup/ {print $2}' /proc/self/mounts) /sys/fs/cgroup; do
    if mountpoint -q "$point"; then mount -o remount,bind,ro "$point"; fi
done
status=0
setpriv --bounding-set=-all,$CAPS --inh-caps=-all --ambient-caps=-all -- \
    env -i PATH="$VENV/bin:/usr/local/bin:/usr/bin:/bin" HOME=/root LANG=C.UTF-8 \
    "$VENV/bin/python" /autograder/source/run_otter.py || status=$?
cp /autograder/results/results.json "$OUT/results.json" 2>/dev/null || true
exit $status
"""


def run_in_container(zip_path: Path, upload: Path, work: Path, version: int, memory_parent: str,
                     setup_fix: bool = True) -> dict:
    """Grade ``upload`` (a folder: what Gradescope unpacks into /autograder/submission) in the emulation;
    ``setup_fix`` False leaves out setup.sh's /root permission lines.

    Returns results.json, the run's stdout, its peak memory in MiB, its wall time and whether a CPU quota applied.
    """
    work.mkdir(parents=True)
    permissions = work / "permissions.sh"
    with zipfile.ZipFile(zip_path) as archive:
        lines = gradescope_setup.permission_lines(archive.read("setup.sh").decode("utf-8"))
    assert lines.strip(), "setup.sh has no permission lines"
    permissions.write_text(lines if setup_fix else "")
    container = Container(memory_parent, version)
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MEMORY_CGROUP": str(container.memory),
                   "CPU_CGROUP": str(container.cpu or ""), "ZIP": str(zip_path), "UPLOAD": str(upload),
                   "PERMISSIONS": str(permissions), "OUT": str(work), "VENV": str(VENV),
                   "CAPS": ",".join(f"+{cap}" for cap in DOCKER_CAPS)}
    started = time.monotonic()
    try:
        completed = subprocess.run(["unshare", "-m", "--propagation", "private", "bash", "-c", SCRIPT],
                                   env=environment, capture_output=True, text=True, timeout=300)
        seconds = time.monotonic() - started
        peak = container.peak_mib()
    finally:
        container.close()
    results = work / "results.json"
    assert results.is_file(), f"no results.json (exit {completed.returncode}):\n{completed.stdout[-3000:]}\n" \
                              f"{completed.stderr[-3000:]}"
    return {"results": json.loads(results.read_text()), "stdout": completed.stdout, "peak_mib": peak,
            "seconds": seconds, "cpu_quota": container.cpu is not None}


def _hijack_course(folder: Path, wrong: Path, marker: Path) -> None:
    """A course/ folder as an upload could ship it: the config, the stubs, and "solutions" that are the
    student's own wrong functions, one of which leaves ``marker`` if it ever runs."""
    shutil.copy(REPO / "config.yaml", folder / "config.yaml")
    shutil.copytree(REPO / "exercises", folder / "exercises")
    shutil.copytree(REPO / "solutions", folder / "solutions")
    (folder / "solutions" / wrong.name).write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n" + wrong.read_text("utf-8"), "utf-8")


SCENARIOS = {
    "solved": ({}, "solutions"),
    "mistake": ({"ex03": SUBMISSIONS / "ex03_weighted" / "ex03_sum_backward.py"}, "solutions"),
    "monkeypatch": (overrides_in(GRADESCOPE / "monkeypatch"), "solutions"),
    "endless": ({"ex05": SUBMISSIONS / "ex05_infinite" / "ex05_control_flow.py"}, "solutions"),
    "unsolved": ({}, "exercises"),
    "reads_solutions": (overrides_in(GRADESCOPE / "reads_solutions"), "solutions"),
    "proofs": (overrides_in(GRADESCOPE / "proofs"), "solutions"),
}


def per_exercise(results: dict) -> dict[str, float]:
    """{exercise id: points} from a results.json (otter's: one test per exercise; grader's: one per check)."""
    totals: dict[str, float] = {}
    for test in results["tests"]:
        exercise = test["name"].split(" ")[0]
        if exercise in POINTS:
            totals[exercise] = totals.get(exercise, 0.0) + test["score"]
    return totals


@pytest.fixture(scope="module")
def emulated(machine, tmp_path_factory):
    """Every scenario graded in the emulated container, the hijack upload too, and on the host with grade."""
    version, memory_parent = machine
    base = tmp_path_factory.mktemp("gradescope")
    assert main(["--course", str(REPO), "export", "otter", str(base / "export")]) == 0
    zip_path = base / "export" / "autograder.zip"

    uploads = {}
    for name, (overrides, source) in SCENARIOS.items():
        uploads[name] = base / "uploads" / name
        write_code_notebook(uploads[name] / "autograd.ipynb", exercise_sources(overrides, source))
    marker = Path("/tmp") / f"hijack-ran-{secrets.token_hex(6)}"
    uploads["hijack"] = base / "uploads" / "hijack"
    shutil.copytree(uploads["mistake"], uploads["hijack"])
    (uploads["hijack"] / "course").mkdir()
    _hijack_course(uploads["hijack"] / "course", SCENARIOS["mistake"][0]["ex03"], marker)

    host = base / "host"
    host.mkdir()
    for name in SCENARIOS:
        shutil.copy(uploads[name] / "autograd.ipynb", host / f"{name}.ipynb")
    assert main(["--course", str(REPO), "grade", "-o", str(base / "graded"), str(host)]) == 0
    expected = {name: per_exercise(json.loads((base / "graded" / name / "results.json").read_text()))
                for name in SCENARIOS}

    runs = {name: run_in_container(zip_path, upload, base / "runs" / name, version, memory_parent)
            for name, upload in uploads.items()}
    runs["without_setup_fix"] = run_in_container(zip_path, uploads["solved"], base / "runs" / "without_setup_fix",
                                                 version, memory_parent, setup_fix=False)
    yield {"runs": runs, "expected": expected, "marker": marker}
    marker.unlink(missing_ok=True)


@pytest.mark.parametrize("name", [*SCENARIOS, "hijack"])
def test_every_upload_scores_as_on_the_host(emulated, name):
    """Does each upload score, exercise by exercise, what grader grade gives its notebook on the host?"""
    run = emulated["runs"][name]
    expected = emulated["expected"]["mistake" if name == "hijack" else name]
    assert per_exercise(run["results"]) == pytest.approx(expected, abs=1e-6), run["stdout"][-3000:]


def test_the_anchor_scores(emulated):
    """Full marks for the solution and for the proofs (ex01 right only when not root, ex02 only when the
    course is gone from disk), 0 for the stubs, and each cheat loses its exercise."""
    got = {name: per_exercise(run["results"]) for name, run in emulated["runs"].items()}
    assert got["solved"] == pytest.approx(POINTS) and got["proofs"] == pytest.approx(POINTS)
    assert sum(got["unsolved"].values()) == 0
    assert got["monkeypatch"]["ex03"] == 0
    assert got["reads_solutions"]["ex01"] < POINTS["ex01"]
    assert got["endless"]["ex05"] == 0 and got["mistake"]["ex03"] < POINTS["ex03"]


def test_the_hijacking_course_never_runs(emulated):
    """Do the upload's own "solutions" never run (no marker), while it earns what its notebook alone earns?"""
    assert not emulated["marker"].exists()
    assert per_exercise(emulated["runs"]["hijack"]["results"]) == per_exercise(emulated["runs"]["mistake"]["results"])


def test_peak_memory_fits_the_default_container(emulated):
    """Does every run stay under 600 MiB, counted by the container's memory cgroup?"""
    peaks = {name: round(run["peak_mib"]) for name, run in emulated["runs"].items()}
    print("peak MiB per run:", peaks, "seconds:", {n: round(r["seconds"], 1) for n, r in emulated["runs"].items()})
    assert max(peaks.values()) < PEAK_LIMIT_MIB, peaks


def test_the_instructor_sees_the_layers(emulated):
    """Does stdout name the layers in force (the uid drop among them) and one worker on half a CPU?"""
    stdout = emulated["runs"]["solved"]["stdout"]
    lines = [line for line in stdout.splitlines() if line.startswith(f"{LAYERS_PREFIX}: in force:")]
    assert lines, stdout[-3000:]
    assert "setuid" in lines[0]
    if emulated["runs"]["solved"]["cpu_quota"]:
        assert lines[0].endswith("; 1 grading worker")
    assert any(line.startswith(f"{LAYERS_PREFIX}: missing:") for line in stdout.splitlines())  # no CAP_SYS_ADMIN
    # The read-only cgroupfs is named as such, not as a permission problem of root's.
    assert "mounted read-only (as in a container)" in stdout



def test_without_the_setup_fix_nothing_runs_as_root(emulated):
    """Without setup.sh's /root permission lines, does the plugin refuse to run student code as root (every
    score 0, the reason in stdout) rather than grade with the uid drop missing?"""
    run = emulated["runs"]["without_setup_fix"]
    assert sum(per_exercise(run["results"]).values()) == 0
    dumped = json.dumps(run["results"], ensure_ascii=False)
    assert any(text("otter.would_run_as_root", lang) in dumped for lang in ("en", "zh"))
    assert any(line.startswith(f"{LAYERS_PREFIX}: missing: the interpreter lies under /root")
               for line in run["stdout"].splitlines()), run["stdout"][-3000:]
