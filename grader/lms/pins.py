"""The pinned grading environment, read from requirements.txt in the grader's source checkout.

requirements.txt is the one place the pins are written; exports that must reproduce the grading
environment (the otter autograder's own requirements.txt) take their pins from here.
"""

from __future__ import annotations

import re
from pathlib import Path

from grader.errors import UsageError

REQUIREMENTS = "requirements.txt"
CHECKOUT = Path(__file__).resolve().parents[2]
"""The directory that holds the grader package: the source checkout when installed with ``pip install -e``."""
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def requirements_file(course_root: Path | None = None) -> Path:
    """The checkout's requirements.txt, else (grader installed as a copy, not from a checkout) the course root's."""
    candidates = [CHECKOUT / REQUIREMENTS]
    if course_root is not None:
        candidates.append(Path(course_root) / REQUIREMENTS)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise UsageError(
        f"{' or '.join(str(c) for c in candidates)}: not found; the pinned versions are read from the "
        "requirements.txt of autograd-grader's source checkout: install it from there (pip install -e .)."
    )


def pinned_requirements(course_root: Path | None = None) -> tuple[str, ...]:
    """Every requirement line of requirements.txt, in its order; comments, blank lines and pip options (``-e .``) left out."""
    lines = []
    for line in requirements_file(course_root).read_text("utf-8").splitlines():
        # pip's own rule: a comment starts at a '#' at the line's start or after whitespace.
        requirement = re.sub(r"(^|\s)#.*", "", line).strip()
        if requirement and not requirement.startswith("-"):
            lines.append(requirement)
    return tuple(lines)


def project_name(requirement: str) -> str:
    """The normalised project name a requirement line is about: ``Torch==2.1`` -> ``torch``."""
    match = _NAME.match(requirement)
    return re.sub(r"[-_.]+", "-", match.group(0)).lower() if match else ""


def torch_pin(course_root: Path | None = None) -> str:
    """The requirement line that pins torch (``torch==X.Y.Z``)."""
    file = requirements_file(course_root)
    for requirement in pinned_requirements(course_root):
        if project_name(requirement) == "torch":
            return requirement
    raise UsageError(f"{file}: pins no torch version; add a line such as torch==X.Y.Z.")
