"""grader.runner.sandbox.environment: the child's environment is the allow-list, whatever its parent held."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys

import pytest

from grader.runner import sandbox
from grader.runner.sandbox import environment
from helpers import REPO, run_sandboxed

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked children: Linux here")

ALLOWED = {"PATH", "LANG", "LC_ALL", "TZ", "HOME", "TMPDIR", "TMP", "TEMP", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
           "OPENBLAS_NUM_THREADS", "MPLBACKEND", "PYTHONDONTWRITEBYTECODE", "PYTHONSAFEPATH", "PYTHONHASHSEED"}


def c_getenv(name):
    value = ctypes.CDLL(None).getenv
    value.restype = ctypes.c_char_p
    result = value(name.encode())
    return None if result is None else result.decode()


def exec_block():
    """The bytes of the environment block received at exec, read from this process's own memory."""
    with open("/proc/self/stat", "rb") as handle:
        fields = handle.read().rsplit(b")", 1)[1].split()
    start, end = int(fields[47]), int(fields[48])  # env_start, env_end (proc(5) fields 50 and 51)
    return ctypes.string_at(start, end - start).replace(b"\0", b"").decode("latin-1")


def test_clean_is_the_allow_list():
    env = environment.clean("/scratch")
    assert set(env) == ALLOWED
    assert env["PATH"] == "/usr/bin:/bin" and env["TZ"] == "UTC" and env["LC_ALL"] == env["LANG"] == "C.UTF-8"
    assert {env[k] for k in ("HOME", "TMPDIR", "TMP", "TEMP")} == {"/scratch"}
    assert {env[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")} == {"1"}
    assert env["MPLBACKEND"] == "Agg" and env["PYTHONHASHSEED"] == "0"


def test_child_sees_exactly_clean(prepared, sandbox_course, monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    policy = sandbox.Policy(readable=(), scratch=sandbox_course["scratch"], memory_bytes=512 << 20, cpu_seconds=20)
    report = run_sandboxed(prepared, policy, [("environ", lambda: dict(os.environ)),
                                              ("c_secret", lambda: c_getenv("SECRET_TOKEN")),
                                              ("c_path", lambda: c_getenv("PATH")),
                                              ("exec_block", exec_block)])
    assert report["enter"][0] == "ok", report["enter"]
    assert report["environ"][1] == environment.clean(os.path.realpath(sandbox_course["scratch"]))
    assert report["c_secret"] == ["ok", None]  # the C library's environment too, not just os.environ
    assert report["c_path"] == ["ok", "/usr/bin:/bin"]
    # The block this process got at exec (pytest's own environment) is zeroed in the child.
    assert exec_block() != "" and report["exec_block"] == ["ok", ""]


def test_zygote_environment_copies_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    env = environment.zygote_environment(str(REPO), home=str(tmp_path))
    assert env == {**environment.clean(str(tmp_path)), "PYTHONPATH": str(REPO)}
    # A real interpreter started with it sees exactly that, and finds the package.
    code = "import json, os, grader; print(json.dumps(dict(os.environ)))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd="/")
    seen = json.loads(out.stdout)
    seen.pop("LC_CTYPE", None)  # PEP 538 may add it on a C locale; C.UTF-8 is not one, but stay tolerant
    assert seen == env
    assert not any(name.startswith("TORCH_") for name in seen)
