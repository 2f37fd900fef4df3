"""grader.core.source_scan: uses of a banned operation (cos) are found by parsing the source, not by searching its text."""

from __future__ import annotations

import io
import tokenize

import pytest

from grader.core.source_scan import banned_uses, parse, while_loops
from helpers import SUBMISSIONS

EX06 = "ex06_sin_cos.py"


def hits(source: str) -> list[int]:
    return [hit.line for hit in banned_uses(parse(source, EX06), source, ("cos",))]


def cos_token_lines(source: str) -> list[int]:
    """An independent oracle: lines holding a NAME token `cos`/`cos_` (comments and strings are other tokens)."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return sorted({t.start[0] for t in tokens if t.type == tokenize.NAME and t.string in ("cos", "cos_")})


@pytest.mark.parametrize("scenario", [
    "ex06_uses_cos", "ex06_method_cos", "ex06_alias_cos", "ex06_math_cos", "ex06_numpy_cos",
])
def test_each_cosine_form_in_the_fixtures_is_found_on_its_line(scenario):
    """Is each way the fixtures call a cosine (torch.cos, x.cos(), an alias, math, numpy) found on its line?"""
    source = (SUBMISSIONS / scenario / EX06).read_text(encoding="utf-8")
    expected = cos_token_lines(source)
    assert expected, "the fixture should use a cosine"
    found = banned_uses(parse(source, EX06), source, ("cos",))
    assert [hit.line for hit in found] == expected
    lines = source.splitlines()
    for hit in found:
        assert hit.text == lines[hit.line - 1].strip()


@pytest.mark.parametrize("scenario", ["correct", "ex06_autograd_grad"])
def test_autograd_solutions_are_not_flagged(scenario):
    """Are the correct autograd solutions free of cosine hits (their comments may mention cos)?"""
    source = (SUBMISSIONS / scenario / EX06).read_text(encoding="utf-8")
    assert hits(source) == []


@pytest.mark.parametrize("source", [
    "import torch\ntorch.cos_(x)\n",
    "x.cos_()\n",
    "from math import cos\n",
    "from numpy import *\ny = cos(x)\n",
    "import torch as t\ny = t.cos(x)\n",
    "y = getattr(torch, 'cos')(x)\n",
], ids=["in-place", "method-in-place", "from-import", "star-import", "module-alias", "getattr"])
def test_other_cosine_forms_are_found(source):
    """Are in-place, imported, star-imported, module-aliased and getattr cosines found too?"""
    assert hits(source) == [source.count("\n")]


@pytest.mark.parametrize("source", [
    "import torch\ny = torch.cosh(x)\n",
    "import torch\ny = torch.acos(x)\n",
    "import numpy as np\ny = np.arccos(x)\n",
    "import math\ny = math.cosh(1.0) + math.acos(0.5)\n",
    "y = x  # cos would be cheating\n",
    'def f(x):\n    """Derivative of sin, no cosine here."""\n    return x\n',
    'def f(x):\n    """Do not call cos here."""\n    return x\n',
    'label = "cosine similarity"\n',
    "cosine = 1.0\ncos_sim = cosine * 2\n",
], ids=["cosh", "acos", "arccos", "math-cosh-acos", "comment", "docstring-cosine", "docstring-cos",
        "string-with-cosine", "names-containing-cos"])
def test_lookalikes_are_not_flagged(source):
    """Are cosh, acos, comments, docstrings and names that merely contain 'cos' left alone?"""
    assert hits(source) == []


def test_pathological_source_becomes_a_syntax_error():
    """Does a file nested too deep to parse become a SyntaxError rather than crash the grader?"""
    deep = "x = " + "(" * 100_000 + ")" * 100_000 + "\n"
    with pytest.raises(SyntaxError):
        parse(deep, EX06)


@pytest.mark.parametrize("scenario, found", [("ex06_label_cos", True), ("ex06_getattr_cos", False),
                                             ("ex06_shifted_sin", False), ("ex06_complex_exp", False)])
def test_the_text_scan_alone_would_misjudge(scenario, found):
    """The scan flags a correct answer's variable and label named cos, and sees none of the three cheats: why the
    verdict comes from behaviour (tests/test_check_fixtures.py) and the scan only points at a line."""
    source = (SUBMISSIONS / scenario / EX06).read_text(encoding="utf-8")
    assert bool(hits(source)) is found


def test_while_loops_are_the_functions_own_with_their_lines():
    """A hung run is explained with the loop the student wrote: its header as written and its line, from the
    exercise's function only (a helper's loop elsewhere in the file is not it)."""
    source = (
        "import torch\n"
        "\n"
        "def helper(n):\n"
        "    while n > 0:\n"
        "        n -= 1\n"
        "\n"
        "def f(a):\n"
        "    b = a * 2\n"
        "    while (b.sum()\n"
        "           < 1000):\n"
        "        b = b * 2\n"
        "    return b\n"
    )
    loops = while_loops(parse(source, "ex05.py"), source, "f")
    assert [(hit.line, hit.text) for hit in loops] == [(9, "while b.sum() < 1000")]
    assert while_loops(parse(source, "ex05.py"), source, "missing")[0].line == 4  # no such function: the file's
