"""The layout's rules, checked on the source: no import cycle, small modules, a short top level, no citation of a missing document.

Import cycles are found on a graph built by parsing every grader/**/*.py with ``ast``. An edge is any
import statement that can run: at module level, inside a function (a deferred import still runs, and is
the usual way a cycle is hidden), in a ``try`` block. Imports under ``if TYPE_CHECKING:`` are left out:
they never execute, so they cannot make an import order fail, and they are the sanctioned way for a
module to name a type it must not import at run time. Parent packages that Python runs on the way to a
submodule (``grader/__init__.py`` for ``grader.core.x``) are not edges either; an explicit
``import grader`` or ``from grader import name`` is an edge to ``grader``.

Each check is a function that returns its offences; the ``*_checker_*`` tests run them on planted
problems, so a check that could never fail would fail there.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from helpers import REPO

PACKAGE = REPO / "grader"
MAX_LINES = 400
MAX_TOP_LEVEL_MODULES = 16
SCANNED = ("grader", "bench", "tests")
"""Folders whose comments and docstrings may cite only documents that exist in the repository."""


# --------------------------------------------------------------------------- the import graph


def module_name(path: Path, root: Path) -> str:
    """``grader/core/x.py`` -> ``grader.core.x``; ``grader/core/__init__.py`` -> ``grader.core``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules(package: Path) -> dict[str, Path]:
    """Every module of ``package`` (a folder with __init__.py), by dotted name."""
    return {module_name(path, package.parent): path for path in sorted(package.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST):
    """Every Import/ImportFrom node that can execute: all of them except those under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            # Its else branch does run.
            yield from _runtime_imports(ast.Module(body=node.orelse, type_ignores=[]))
            continue
        yield from _runtime_imports(node)


def import_edges(modules: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {imported module of the same package: line of the first import that makes the edge}."""
    edges: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        here = name if is_package else name.rpartition(".")[0]
        targets = edges.setdefault(name, {})

        def add(target: str, line: int) -> None:
            # A name below a module (``grader.x.y.name``) is an edge to the module that defines it.
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.setdefault(target, line)

        for node in _runtime_imports(ast.parse(path.read_bytes(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name, node.lineno)
                continue
            if node.level:
                base_parts = here.split(".")
                base = ".".join(base_parts[: len(base_parts) - (node.level - 1)])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            for alias in node.names:
                # ``from grader.x import y``: y is the submodule grader.x.y when there is one, else a name in grader.x.
                submodule = f"{source}.{alias.name}"
                add(submodule if submodule in modules else source, node.lineno)
    return edges


def import_cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Each group of modules that import one another, directly or not (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, {})):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(components)


def _shortest_cycle(component: list[str], edges: dict[str, dict[str, int]]) -> list[str]:
    """The shortest way from the component's first module back to itself, staying inside the component."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(edges.get(node, {})):
                if target == start:
                    return paths[node] + [start]
                if target in members and target not in paths:
                    paths[target] = paths[node] + [target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"{component} is not strongly connected")


def describe_cycle(component: list[str], edges: dict[str, dict[str, int]], modules: dict[str, Path], root: Path) -> str:
    """``a -> b -> c -> a`` (the shortest cycle of the group), then file:line of every import inside the group."""
    members = set(component)
    where = [
        f"    {modules[a].relative_to(root)}:{line}: {a} imports {b}"
        for a in component for b, line in sorted(edges[a].items(), key=lambda item: item[1]) if b in members
    ]
    return " -> ".join(_shortest_cycle(component, edges)) + "\n" + "\n".join(where)


# --------------------------------------------------------------------------- citations


def _docstrings(tree: ast.AST):
    """(first line, text) of every string that stands alone as a statement: module, class, function and attribute docstrings."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            yield node.lineno, node.value.value


def _comments(source: str):
    """(line, text) of every comment; a file tokenize cannot read (a deliberately broken fixture) is read line by line."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                yield token.start[0], token.string
    except (tokenize.TokenError, SyntaxError):
        for number, line in enumerate(source.splitlines(), 1):
            if "#" in line:
                yield number, line[line.index("#"):]


def commentary(path: Path):
    """(line, text) of each line of the comments and docstrings of one Python file."""
    raw = path.read_bytes()
    source = raw.decode("utf-8", errors="replace")
    yield from _comments(source)
    try:
        tree = ast.parse(raw)
    except (SyntaxError, ValueError):
        return
    for first, text in _docstrings(tree):
        for offset, line in enumerate(text.splitlines()):
            yield first + offset, line


_URL = re.compile(r"\w+://\S+")
_DOCUMENT = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-][\w.-]*\.md)\b")
_SPEC_WORD = "SP" + "EC"  # spelled apart so this file's own source never reads as a citation
_SPEC = re.compile(rf"\b{_SPEC_WORD}\b")
_SECTION = "\u00a7"


def _exists(cited: str, path: Path, root: Path) -> bool:
    return (root / cited).is_file() or (path.parent / cited).is_file()


def _spec_document(root: Path) -> Path | None:
    for folder in (root, root / "docs"):
        for suffix in ("", ".md", ".rst", ".txt"):
            if (folder / f"{_SPEC_WORD}{suffix}").is_file():
                return folder / f"{_SPEC_WORD}{suffix}"
    return None


def citation_offences(files: list[Path], root: Path) -> list[str]:
    """``file:line: what`` for each comment or docstring line citing a document the repository does not have.

    A ``*.md`` path must exist relative to the repository root or to the citing file; the spec (its
    upper-case name) must exist as a file of that name at the root or in docs/; a section sign cites a
    section of the document named before it on the line, or of the spec when none is.
    """
    spec = _spec_document(root)
    offences = []
    for path in files:
        for line_number, line in commentary(path):
            line = _URL.sub("", line)
            where = f"{path.relative_to(root)}:{line_number}"
            named = False
            for match in _DOCUMENT.finditer(line):
                named = True
                if not _exists(match.group(1), path, root):
                    offences.append(f"{where}: cites {match.group(1)}, which is not in the repository")
            if _SPEC.search(line):
                named = True
                if spec is None:
                    offences.append(f"{where}: cites the {_SPEC_WORD}, which is not in the repository")
            if _SECTION in line and not named and spec is None:
                offences.append(f"{where}: cites a section ({_SECTION}) of a document that is not in the repository")
    return sorted(offences, key=_by_place)


def _by_place(offence: str) -> tuple[str, int]:
    file, line, _ = offence.split(":", 2)
    return file, int(line)


def scanned_files(root: Path) -> list[Path]:
    return sorted(p for folder in SCANNED for p in (root / folder).rglob("*.py") if "__pycache__" not in p.parts)


# --------------------------------------------------------------------------- the rules


def test_no_import_cycle():
    """Can every grader module be imported without another module it needs being half-initialised?"""
    modules = package_modules(PACKAGE)
    edges = import_edges(modules)
    cycles = import_cycles(edges)
    assert not cycles, f"{len(cycles)} import cycle(s) in grader/:\n" + "\n".join(
        describe_cycle(c, edges, modules, REPO) for c in cycles
    )


def test_no_module_over_the_line_limit():
    """Is every module in grader/ at most MAX_LINES lines, short enough to read in one sitting?"""
    long = [
        f"{path.relative_to(REPO)}:{count}: {count} lines (limit {MAX_LINES})"
        for path in sorted(PACKAGE.rglob("*.py"))
        if (count := len(path.read_text("utf-8").splitlines())) > MAX_LINES
    ]
    assert not long, "modules over the line limit:\n" + "\n".join(long)


def test_top_level_stays_short():
    """Are at most MAX_TOP_LEVEL_MODULES modules directly in grader/, the rest in its sub-packages?"""
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, f"{len(top)} modules directly in grader/: {', '.join(top)}"


def test_comments_cite_only_documents_in_the_repository():
    """Does every document a comment or docstring in grader/, bench/ or tests/ points the reader to exist here?"""
    offences = citation_offences(scanned_files(REPO), REPO)
    assert not offences, f"{len(offences)} citation(s) of missing documents:\n" + "\n".join(offences)


# --------------------------------------------------------------------------- the checks can fail


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, "utf-8")


def test_cycle_checker_finds_planted_cycles(tmp_path):
    """Are a cycle through a function-level import, a relative import and a submodule named by ``from`` all found?"""
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "def f():\n    from pkg.sub import b\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/b.py": "from ..c import name\n",
        "pkg/c.py": "import pkg.a\n",
        "pkg/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import e\n",
        "pkg/e.py": "from pkg.d import thing\n",
    })
    modules = package_modules(tmp_path / "pkg")
    edges = import_edges(modules)
    assert edges["pkg.a"] == {"pkg.sub.b": 2} and edges["pkg.sub.b"] == {"pkg.c": 1}
    assert "pkg.e" not in edges["pkg.d"], "a TYPE_CHECKING import is not an edge"
    (component,) = import_cycles(edges)
    assert describe_cycle(component, edges, modules, tmp_path).splitlines() == [
        "pkg.a -> pkg.sub.b -> pkg.c -> pkg.a",
        "    pkg/a.py:2: pkg.a imports pkg.sub.b",
        "    pkg/c.py:1: pkg.c imports pkg.a",
        "    pkg/sub/b.py:1: pkg.sub.b imports pkg.c",
    ]


def test_citation_checker_finds_planted_citations(tmp_path):
    """Are missing documents found in comments and docstrings, while string literals and existing documents pass?"""
    section = _SECTION
    _write(tmp_path, {
        "README.md": "",
        "grader/m.py": (
            f'"""Module. See README.md {section}2."""\n'
            f"# as the {_SPEC_WORD} {section}3 says\n"
            "NAME = 'GONE.md'  # a string literal is not a citation\n"
            "def f():\n"
            '    """Measured in docs/gone.md."""\n'
            f"# {section}5 of nothing\n"
            "# https://example.org/x/GONE.md is a link, not a document of this repository\n"
        ),
    })
    offences = citation_offences([tmp_path / "grader" / "m.py"], tmp_path)
    assert [o.split(": ")[0] for o in offences] == ["grader/m.py:2", "grader/m.py:5", "grader/m.py:6"]
    (tmp_path / f"{_SPEC_WORD}.md").write_text("", "utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "gone.md").write_text("", "utf-8")
    assert citation_offences([tmp_path / "grader" / "m.py"], tmp_path) == []
