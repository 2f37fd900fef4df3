"""Find a class's submissions and read their exercise files as bytes, in the trusted process.

A submission is a child of a SUBMISSIONS folder: a directory, a ``.zip`` (as
an LMS bulk download gives them; nested folders inside are fine) or a
``.ipynb`` notebook whose code cells define the exercise functions. Nothing
is extracted to disk and nothing is executed here; symbolic links are never
followed (a link to solutions/ must not become a student's "own" code), and
every read is capped, so a zip bomb or a huge file costs nothing.

Names: a submission's name is its folder's name (a zip's or notebook's without
the suffix) as ``display_name`` shows it: any byte string is accepted; bytes
that are not UTF-8 are decoded as GBK when they are valid GBK (what a Chinese
Windows zip tool writes) and shown as ``\\xNN`` escapes otherwise, and
control characters (newlines, tabs, ...) are shown as backslash escapes, so a
name is always printable text that encodes as UTF-8. Two different entries
that would show the same get ``~2``, ``~3``, ... ``result_folders`` maps
names to the folders their results are written under.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.core import canvas_names
from grader.core.exercises import ExerciseSpec, resolve_exercise
from grader.core.notebook_cells import NotANotebook, code_cells, exercise_scope, without_grader_calls
from grader.core.results import Message, message
from grader.core.safe_read import read_regular_file, walk
from grader.core.submission_names import display_name
from grader.core.sources import MAX_SOURCE_BYTES
from grader.errors import UsageError

KIND_DIRECTORY = "directory"
KIND_ZIP = "zip"
KIND_NOTEBOOK = "notebook"
KIND_CANVAS = "canvas"
"""One student's files inside a Canvas bulk-download zip (``lastfirst_12345_67890_ex03.py``)."""
KIND_SCRIPT = "script"
"""One .py file defining all six functions (otter's script submissions)."""
_MAX_NOTEBOOK_BYTES = 16 << 20
_MAX_DEPTH = 16
"""Folder levels a directory submission is searched to (the stubs' files sit at level 0 or 1)."""
_MAX_ENTRIES = 20_000
"""Files and folders a directory submission's search looks at before it stops."""
_MAX_ZIP_MEMBERS = 10_000
_MAX_NESTED_ZIP_BYTES = 64 << 20
# What reading a damaged or hostile zip can raise (zipfile has no single error type).
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, NotImplementedError, OSError, EOFError,
               ValueError)


@dataclass(frozen=True)
class Submission:
    """One student's submission as found on disk."""

    name: str
    """As ``display_name`` shows the name on disk (printable, UTF-8-safe); unique in a class."""
    path: Path
    kind: str
    members: tuple[str, ...] = ()
    """Canvas: this student's members of the bulk zip."""
    canvas_id: str = ""
    """Canvas: the student's Canvas user id, from the file names."""


@dataclass(frozen=True)
class SubmissionFiles:
    """The exercise files of one submission: bytes per exercise (None: not submitted)."""

    submission: Submission
    files: tuple[tuple[str, bytes | None], ...]
    display: tuple[tuple[str, str], ...]
    """The name each exercise's file is shown under."""
    problem: Message | None = None
    """Why the submission as a whole could not be read (a corrupt zip, ...)."""
    scopes: tuple[tuple[str, str], ...] = ()
    """Notebooks: per exercise with banned operations, the source the scan for them reads (the cells
    defining the function, not a plotting cell that draws cos for comparison)."""
    notes: tuple[Message, ...] = ()
    """What the student should know but that costs no points: files handed in that could not be placed."""

    def file(self, exercise_id: str) -> bytes | None:
        return dict(self.files).get(exercise_id)

    def shown_as(self, exercise_id: str) -> str:
        return dict(self.display).get(exercise_id, exercise_id)

    def digest(self) -> str:
        """A hash of everything graded: unchanged content means an unchanged grade."""
        hasher = hashlib.sha256(self.submission.kind.encode())
        for exercise_id, data in self.files:
            hasher.update(f"\0{exercise_id}\0".encode())
            hasher.update(b"-" if data is None else hashlib.sha256(data).digest())
        hasher.update(repr(self.problem).encode())
        return hasher.hexdigest()


def discover(folders: list[Path]) -> tuple[Submission, ...]:
    """Every submission in ``folders``, sorted by name; hidden files are skipped.

    Names are ``display_name``'s; raises UsageError when two entries have the very same name on disk
    (``alice/`` and ``alice.zip``), since which one is the student's cannot be guessed.
    """
    # (name on disk, submission): the name on disk is a str holding undecodable bytes as surrogates.
    candidates: list[tuple[str, Submission]] = []
    for folder in folders:
        if folder.is_file() and folder.suffix.lower() == ".zip":
            for submission in canvas_submissions(folder):
                candidates.append((submission.name, submission))
            continue
        if not folder.is_dir():
            raise UsageError(f"{folder}: not a folder of submissions (nor a Canvas bulk-download .zip).")
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith((".", "__")) or entry.is_symlink():
                continue
            if entry.is_dir():
                raw, kind = entry.name, KIND_DIRECTORY
            elif entry.suffix.lower() == ".zip":
                raw, kind = entry.stem, KIND_ZIP
            elif entry.suffix.lower() == ".ipynb":
                raw, kind = entry.stem, KIND_NOTEBOOK
            else:
                continue
            candidates.append((raw, Submission(display_name(raw), entry, kind)))
    on_disk: dict[str, Submission] = {}
    for raw, submission in candidates:
        if raw in on_disk:
            raise UsageError(
                f"two submissions are both named {submission.name!r} ({display_name(str(on_disk[raw].path))} and "
                f"{display_name(str(submission.path))}); rename one so every result has its own folder."
            )
        on_disk[raw] = submission
    found: dict[str, Submission] = {}
    # Names shown as they are on disk go first: a folder literally called a-backslash-n-b keeps "a\\nb",
    # and one whose name holds a newline (shown the same) gets "a\\nb~2", whatever the order on disk.
    for raw, submission in sorted(candidates, key=lambda c: (c[0] != c[1].name, c[1].name, os.fsencode(c[0]))):
        name, suffix = submission.name, 2
        while name in found:
            name, suffix = f"{submission.name}~{suffix}", suffix + 1
        found[name] = submission if name == submission.name else dataclasses.replace(submission, name=name)
    return tuple(found[name] for name in sorted(found))


# What a Canvas student may hand in besides exercise files: the same containers folder mode grades.
_CONTAINERS = {".ipynb": KIND_NOTEBOOK, ".zip": KIND_ZIP}


def canvas_submissions(bulk_zip: Path) -> tuple[Submission, ...]:
    """One submission per student in a Canvas bulk download; raises UsageError if it is not one.

    A member not named as Canvas names students' files becomes a submission of its own (named after the
    file, with no Canvas id), so that it is graded, reported and never silently dropped.
    """
    try:
        with zipfile.ZipFile(bulk_zip) as archive:
            names = [m.filename for m in archive.infolist()[:_MAX_ZIP_MEMBERS] if not m.is_dir()]
    except _ZIP_ERRORS:
        raise UsageError(f"{bulk_zip}: is not a readable zip; download the submissions from Canvas again.") from None
    # Keyed by the Canvas user id, the student's identity: the name part only labels the folder.
    students: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    strays: list[str] = []
    for name in names:
        if name.startswith("__MACOSX/") or "/__MACOSX/" in name or name.rsplit("/", 1)[-1] in (".DS_Store",):
            continue  # archive tool litter, not anyone's submission
        parsed = canvas_names.parse(name)
        if parsed:
            students.setdefault(parsed.user, []).append(name)
            labels[parsed.user] = min(labels.get(parsed.user, parsed.student), parsed.student, key=lambda n: (len(n), n))
        else:
            strays.append(name)
    if not students:
        raise UsageError(
            f"{bulk_zip}: holds no Canvas-named files (lastfirst_12345_67890_ex03.py); "
            "pass a folder of submissions, or Canvas's 'Download Submissions' zip."
        )
    found = [Submission(display_name(f"{labels[user]}_{user}"), bulk_zip, KIND_CANVAS, tuple(sorted(members)), user)
             for user, members in sorted(students.items(), key=lambda item: (labels[item[0]], item[0]))]
    found += [Submission(display_name(name.replace("/", "_")), bulk_zip, KIND_CANVAS, (name,)) for name in strays]
    return tuple(found)


def read(submission: Submission, exercises: tuple[ExerciseSpec, ...]) -> SubmissionFiles:
    """Read the exercise files of one submission; never raises for bad student input."""
    try:
        if submission.kind == KIND_DIRECTORY:
            return _from_directory(submission, exercises)
        if submission.kind == KIND_ZIP:
            return _from_zip(submission, exercises)
        if submission.kind == KIND_CANVAS:
            return _from_canvas(submission, exercises)
        if submission.kind == KIND_SCRIPT:
            return _whole_program(submission, exercises, read_regular_file(submission.path), {})
        return _from_notebook(submission, exercises)
    except OSError as error:
        return _empty(submission, exercises, message("submission_unreadable", name=display_name(submission.path.name),
                                               error=error.strerror or str(error)))


def _empty(submission: Submission, exercises: tuple[ExerciseSpec, ...], problem: Message | None) -> SubmissionFiles:
    return SubmissionFiles(submission, tuple((e.id, None) for e in exercises),
                           tuple((e.id, e.filename) for e in exercises), problem)


def _from_directory(submission: Submission, exercises: tuple[ExerciseSpec, ...]) -> SubmissionFiles:
    found: dict[str, tuple[int, Path]] = {}
    wanted = {e.filename: e.id for e in exercises}
    capped = False
    notebooks: list[tuple[int, Path]] = []
    for depth, folder, names, capped in walk(submission.path, _MAX_DEPTH, _MAX_ENTRIES):
        for name in names:
            if name in wanted and (wanted[name] not in found or depth < found[wanted[name]][0]):
                found[wanted[name]] = (depth, folder / name)
            elif name.lower().endswith(".ipynb") and not name.startswith("."):
                notebooks.append((depth, folder / name))
    if not found and notebooks:
        # A folder holding the filled-in notebook instead of exercise files: its shallowest notebook, as if
        # handed in alone (the first by name where several sit at the same depth).
        depth, path = min(notebooks, key=lambda n: (n[0], n[1].name))
        inner = _from_notebook(dataclasses.replace(submission, path=path, kind=KIND_NOTEBOOK), exercises)
        return dataclasses.replace(inner, submission=submission)
    if not found:
        if capped:
            return _empty(submission, exercises, message("submission_too_deep", name=display_name(submission.path.name),
                                                         depth=_MAX_DEPTH, entries=_MAX_ENTRIES))
        if not any(submission.path.iterdir()):
            return _empty(submission, exercises, message("submission_empty", name=display_name(submission.path.name)))
    files, display = [], []
    for definition in exercises:
        entry = found.get(definition.id)
        data = read_regular_file(entry[1]) if entry else None
        files.append((definition.id, data))
        shown = display_name(str(entry[1].relative_to(submission.path))) if entry else definition.filename
        display.append((definition.id, shown))
    return SubmissionFiles(submission, tuple(files), tuple(display))


def _from_zip(submission: Submission, exercises: tuple[ExerciseSpec, ...]) -> SubmissionFiles:
    try:
        with zipfile.ZipFile(submission.path) as archive:
            members = archive.infolist()[:_MAX_ZIP_MEMBERS]
    except _ZIP_ERRORS:
        return _empty(submission, exercises, message("zip_corrupt", name=display_name(submission.path.name)))
    if not members:
        return _empty(submission, exercises, message("submission_empty", name=display_name(submission.path.name)))
    wanted = {e.filename: e.id for e in exercises}
    chosen: dict[str, str] = {}
    for member in members:
        base = member.filename.replace("\\", "/").rstrip("/").split("/")[-1]
        if member.is_dir() or base not in wanted or "__MACOSX" in member.filename:
            continue
        current = chosen.get(wanted[base])
        if current is None or member.filename.count("/") < current.count("/"):
            chosen[wanted[base]] = member.filename
    return _zip_members(submission, exercises, chosen, shown=chosen)


def _zip_members(submission: Submission, exercises: tuple[ExerciseSpec, ...], chosen: dict[str, str], shown: dict[str, str]) -> SubmissionFiles:
    """Read the chosen member of each exercise (capped); a damaged archive makes the whole submission one."""
    files = []
    try:
        with zipfile.ZipFile(submission.path) as archive:
            for definition in exercises:
                data = None
                if definition.id in chosen:
                    with archive.open(chosen[definition.id]) as handle:
                        data = handle.read(MAX_SOURCE_BYTES + 1)
                files.append((definition.id, data))
    except _ZIP_ERRORS:
        return _empty(submission, exercises, message("zip_corrupt", name=display_name(submission.path.name)))
    display = tuple((e.id, shown.get(e.id, e.filename)) for e in exercises)
    return SubmissionFiles(submission, tuple(files), display)


def _from_canvas(submission: Submission, exercises: tuple[ExerciseSpec, ...]) -> SubmissionFiles:
    """A student's files in the bulk zip, placed as folder mode places them.

    An exercise file counts by its original name (``ex03.py``, ``ex03_sum_backward.py``,
    ``ex03_sum_backward-1.py``, any case); a notebook or a zip is read as folder mode reads one. When
    several files provide an exercise, the newest (highest attachment id) wins. Every file that provides
    nothing is named in a note, and a student none of whose files could be placed gets a problem naming them.
    """
    if not submission.canvas_id:
        name = submission.members[0].rsplit("/", 1)[-1]
        return _empty(submission, exercises, message("canvas_unnamed", file=display_name(name)))
    chosen: dict[str, tuple[int, bytes | None, str]] = {}
    unplaced: list[str] = []
    scopes: dict[str, str] = {}
    for member in submission.members:
        parsed = canvas_names.parse(member)
        if parsed is None:
            continue
        original, version, stem, extension = parsed.original, parsed.attachment, parsed.stem, parsed.extension
        provided: dict[str, bytes | None] = {}
        if extension == ".py":
            exercise_id = resolve_exercise(exercises, stem) or resolve_exercise(exercises, stem.split("_")[0])
            if exercise_id:
                try:
                    provided[exercise_id] = _member_bytes(submission.path, member, MAX_SOURCE_BYTES + 1)
                except _ZIP_ERRORS:  # one damaged member costs that file, not the student's other files
                    unplaced.append(original)
                    continue
        elif extension in _CONTAINERS:
            inner = _read_container(submission, member, _CONTAINERS[extension], exercises)
            if inner.problem is not None and not any(data for _, data in inner.files):
                unplaced.append(original)
                continue
            provided = {exercise_id: data for exercise_id, data in inner.files if data is not None}
            scopes.update(inner.scopes)
        for exercise_id, data in provided.items():
            if exercise_id not in chosen or version > chosen[exercise_id][0]:
                chosen[exercise_id] = (version, data, original)
        if not provided:
            unplaced.append(original)
    notes = tuple(message("canvas_unplaced", file=display_name(name)) for name in sorted(unplaced))
    if not chosen:
        listed = ", ".join(display_name(name) for name in sorted(unplaced)) or "-"
        return _empty(submission, exercises, message("canvas_nothing_placed", files=listed))
    files = tuple((e.id, chosen[e.id][1] if e.id in chosen else None) for e in exercises)
    display = tuple((e.id, display_name(chosen[e.id][2]) if e.id in chosen else e.filename) for e in exercises)
    return SubmissionFiles(submission, files, display, scopes=tuple(scopes.items()), notes=notes)


def _member_bytes(bulk_zip: Path, member: str, cap: int) -> bytes:
    with zipfile.ZipFile(bulk_zip) as archive, archive.open(member) as handle:
        return handle.read(cap)


def _read_container(submission: Submission, member: str, kind: str,
                    exercises: tuple[ExerciseSpec, ...]) -> SubmissionFiles:
    """A notebook or zip inside the bulk zip, read exactly as the same file in a folder would be."""
    cap = _MAX_NOTEBOOK_BYTES if kind == KIND_NOTEBOOK else _MAX_NESTED_ZIP_BYTES
    try:
        data = _member_bytes(submission.path, member, cap + 1)
    except _ZIP_ERRORS:
        return _empty(submission, exercises, message("zip_corrupt", name=display_name(member)))
    if len(data) > cap:
        return _empty(submission, exercises, message("zip_corrupt", name=display_name(member)))
    suffix = ".ipynb" if kind == KIND_NOTEBOOK else ".zip"
    with tempfile.TemporaryDirectory(prefix="grader-canvas-") as folder:
        path = Path(folder) / f"member{suffix}"
        path.write_bytes(data)
        return read(Submission(submission.name, path, kind), exercises)


def _from_notebook(submission: Submission, exercises: tuple[ExerciseSpec, ...]) -> SubmissionFiles:
    raw = read_regular_file(submission.path, _MAX_NOTEBOOK_BYTES)
    try:
        sources = code_cells(raw)
    except NotANotebook as error:
        return _empty(submission, exercises, message("notebook_corrupt", name=display_name(submission.path.name),
                                                     error=str(error)))
    # Every code cell runs (a helper defined in another cell is part of the exercise), except the
    # student copy's `grader.check(...)` statements, which only the kernel can run.
    cells = [without_grader_calls(_without_magics(source)) for source in sources]
    program = "\n\n".join(cells)
    scopes = {spec.id: exercise_scope(cells, spec.function) for spec in exercises if spec.banned}
    return _whole_program(submission, exercises, program.encode("utf-8"), scopes)


def _whole_program(submission: Submission, exercises: tuple[ExerciseSpec, ...], data: bytes,
                   scopes: dict[str, str]) -> SubmissionFiles:
    """One program defining several exercise functions: it is each exercise's source where it defines its function."""
    text = data.decode("utf-8", errors="replace")
    files = tuple((e.id, data if f"def {e.function}(" in text else None) for e in exercises)
    display = tuple((e.id, display_name(submission.path.name)) for e in exercises)
    return SubmissionFiles(submission, files, display, scopes=tuple(scopes.items()))


def _without_magics(source: str) -> str:
    """IPython magics and shell escapes (``%matplotlib``, ``!pip``) are not Python: comment them out in place."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append(line[: len(line) - len(stripped)] + "# " + stripped if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)
