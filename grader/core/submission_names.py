"""How a submission is named: readably on screen, and safely as its results folder under OUT.

A name on disk is any byte string. It is shown as strict UTF-8, else strict
GBK (Chinese Windows' encoding, common in LMS exports), else with ``\\xNN``
escapes, control characters as backslash escapes, so it always prints and
encodes. Its results folder is the name itself unless that would collide with
the run's own files or cannot be a folder (see ``result_folders``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.core.submissions import Submission


def display_name(name: str | bytes) -> str:
    """A file name as printable text that always encodes as UTF-8 (see the module docstring).

    ``name`` is bytes, or a str as ``os`` returns it (undecodable bytes as surrogates).
    """
    data = os.fsencode(name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("gbk")
        except UnicodeDecodeError:
            text = data.decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


MAX_FOLDER_BYTES = 255
"""NAME_MAX of common file systems: a longer folder name cannot be created."""


def result_folders(found: Iterable["Submission"], reserved: Iterable[str]) -> dict[str, str]:
    """The folder under OUT for each submission's results, by submission name; never two alike.

    A name is its own folder unless it is one of ``reserved`` (compared ignoring case: macOS and
    Windows file systems do), starts with ``.`` or is longer than MAX_FOLDER_BYTES; such a name gets
    ``_<name>`` (a long one cut, with a hash of the whole name), and ``~2``, ``~3``, ... while that is
    taken. Ordinary names are settled first, so adding a student never moves an ordinary one's folder.
    """
    found = tuple(found)
    blocked = {name.casefold() for name in reserved}
    folders = {s.name: s.name for s in found if _is_own_folder(s.name, blocked)}
    taken = blocked | {folder.casefold() for folder in folders.values()}
    for submission in sorted((s for s in found if s.name not in folders), key=lambda s: s.name):
        base = "_" + submission.name.replace("/", "_").replace("\0", "_")
        if len(base.encode("utf-8")) > MAX_FOLDER_BYTES:
            digest = hashlib.sha256(submission.name.encode("utf-8")).hexdigest()[:12]
            base = _cut(base, MAX_FOLDER_BYTES - 32) + "~" + digest
        folder, suffix = base, 2
        while folder.casefold() in taken:
            folder, suffix = f"{base}~{suffix}", suffix + 1
        taken.add(folder.casefold())
        folders[submission.name] = folder
    return folders


def _is_own_folder(name: str, blocked: set[str]) -> bool:
    return (bool(name) and not name.startswith(".") and name.casefold() not in blocked and "/" not in name
            and "\0" not in name and len(name.encode("utf-8")) <= MAX_FOLDER_BYTES)


def _cut(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 encoding fits in ``limit`` bytes."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")
