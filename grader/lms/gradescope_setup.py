"""The autograder zip's ``setup.sh`` (Gradescope's image build), trimmed to what this autograder needs.

``otter generate`` writes one setup.sh for every otter autograder. This one
needs neither the browser that otter's HTML-to-PDF export installs (PDF
export is off) nor the development libraries R packages build against; and
it must let the sandbox's children, which drop to an unprivileged uid, reach
the interpreter that miniforge installs under ``/root`` (mode 0700 in
Gradescope's image). Without that the sandbox refuses the uid drop and
student code would run as root.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from grader.errors import UsageError

SETUP = "setup.sh"
PERMISSIONS_BEGIN = "# >>> autograd-grader: sandboxed children must reach the interpreter under /root"
PERMISSIONS_END = "# <<< autograd-grader"
PERMISSIONS = f"""{PERMISSIONS_BEGIN}
# Student code runs in sandboxed children that drop to an unprivileged uid. The environment lives in
# /root/miniforge3 and /root is 0700 here; the container has no CAP_SYS_ADMIN, so the sandbox cannot expose
# it through a mount namespace either, and would refuse the drop (the child would stay root). o+x is search
# permission only: other uids may pass through /root to the world-readable environment, never list /root.
# This image is built for grading alone and thrown away afterwards.
chmod o+x /root
{PERMISSIONS_END}
"""
UNNEEDED_APT = ("libcurl4-gnutls-dev", "libxml2-dev", "libssl-dev", "libgit2-dev")
"""Development libraries otter's setup.sh installs for R packages (curl, xml2, openssl, git2r)."""


def rewrite(setup: str) -> str:
    """``setup`` without the browser install and R's libraries, with the /root permission fix at its end."""
    lines = []
    for line in setup.splitlines():
        if "playwright" in line:
            continue  # `playwright install-deps && playwright install chromium`: only otter's PDF export uses it
        if line.lstrip().startswith("apt-get install") and "jq" in line.split():
            line = " ".join(word for word in line.split(" ") if word not in UNNEEDED_APT)
        lines.append(line)
    text = "\n".join(lines).rstrip("\n") + "\n"
    if PERMISSIONS_BEGIN not in text:
        text += "\n" + PERMISSIONS
    return text


def permission_lines(setup: str) -> str:
    """The commands between the permission markers of a rewritten setup.sh (empty if there are none)."""
    match = re.search(re.escape(PERMISSIONS_BEGIN) + r"\n(.*?)" + re.escape(PERMISSIONS_END), setup, re.S)
    return match.group(1) if match else ""


def rewrite_zip(zip_path: Path) -> None:
    """Replace the setup.sh inside ``zip_path`` by its :func:`rewrite`, every other member kept as it is."""
    with zipfile.ZipFile(zip_path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    if not any(info.filename == SETUP for info, _ in members):
        raise UsageError(f"{zip_path}: otter generate wrote no {SETUP}; this otter-grader version is not supported.")
    staged = zip_path.with_name(zip_path.name + ".partial")
    with zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            if info.filename == SETUP:
                data = rewrite(data.decode("utf-8")).encode("utf-8")
            archive.writestr(info, data)
    staged.replace(zip_path)
