"""grader.core.sources: a submission's bytes become text and a syntax tree in the trusted process, or a clear problem."""

from __future__ import annotations

import pytest

from grader.core import sources
from grader.core.sources import MAX_SOURCE_BYTES, from_bytes
from helpers import spec, SUBMISSIONS

EX03 = "ex03_sum_backward.py"


def fixture_bytes(scenario: str, filename: str = EX03) -> bytes:
    return (SUBMISSIONS / scenario / filename).read_bytes()


def test_correct_file_is_read_as_text():
    """Is a correct file read as its text, with no problem?"""
    data = fixture_bytes("correct")
    source = from_bytes(spec("ex03"), EX03, data)
    assert source.problem is None
    assert source.text == data.decode("utf-8")


def test_missing_file_is_not_submitted(tmp_path):
    """Is a file that does not exist 'not submitted', naming the file?"""
    source = sources.read(spec("ex03"), tmp_path / EX03, EX03)
    assert source.text is None
    assert source.problem.key == "not_submitted"
    assert source.problem.values["file"] == EX03
    assert from_bytes(spec("ex03"), EX03, None).problem.key == "not_submitted"


@pytest.mark.parametrize("scenario", ["non_utf8", "non_utf8_code"])
def test_non_utf8_names_the_line(scenario):
    """Is a latin-1 byte reported as 'not UTF-8' on the line where it sits, without crashing?"""
    data = fixture_bytes(scenario)
    bad_line = data[: data.index(b"\xe9")].count(b"\n") + 1
    source = from_bytes(spec("ex03"), EX03, data)
    assert source.text is None
    assert source.problem.key == "not_utf8"
    assert source.problem.values["line"] == bad_line


def test_syntax_error_names_the_line():
    """Is a syntax error reported with the line Python itself names?"""
    data = fixture_bytes("syntax_error")
    with pytest.raises(SyntaxError) as python_says:
        compile(data, EX03, "exec")
    source = from_bytes(spec("ex03"), EX03, data)
    assert source.text is None
    assert source.problem.key == "syntax_error"
    assert source.problem.values["line"] == python_says.value.lineno


def test_too_large_file_is_refused():
    """Is a file over 1 MiB refused as too large, while one of exactly 1 MiB is read?"""
    line = b"x = 1\n"
    at_limit = line + b"#" * (MAX_SOURCE_BYTES - len(line))
    assert len(at_limit) == MAX_SOURCE_BYTES
    assert from_bytes(spec("ex03"), EX03, at_limit).problem is None
    too_big = from_bytes(spec("ex03"), EX03, at_limit + b"#")
    assert too_big.text is None
    assert too_big.problem.key == "file_too_large"
    assert too_big.problem.values["size"] == MAX_SOURCE_BYTES + 1


def test_byte_order_mark_is_stripped():
    """Is a UTF-8 byte order mark (Windows editors) dropped, leaving the same text as without it?"""
    data = fixture_bytes("correct")
    source = from_bytes(spec("ex03"), EX03, "\ufeff".encode("utf-8") + data)
    assert source.problem is None
    assert source.text == data.decode("utf-8")


def test_banned_hits_are_collected_on_read():
    """Does reading an ex06 file that uses cos carry its cosine hits along?"""
    source = from_bytes(spec("ex06"), "ex06_sin_cos.py", fixture_bytes("ex06_uses_cos", "ex06_sin_cos.py"))
    assert source.problem is None
    assert source.banned_hits
