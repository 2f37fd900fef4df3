"""Does `grader check` name each typical mistake, in both languages? One real submission per known mistake."""

from __future__ import annotations

import pytest

from helpers import feedback_text

# (scenario, exercise, misconception key, words the English hint must contain, words the Chinese hint must contain)
MISTAKES = [
    ("ex01_no_backward", "ex01", "grad_none", ["requires_grad", "backward"], ["requires_grad", "backward"]),
    ("ex01_no_requires_grad", "ex01", "no_requires_grad", ["requires_grad"], ["requires_grad", "计算图"]),
    ("ex01_returns_item", "ex01", "returned_number", ["return the tensor"], ["返回张量本身"]),
    ("ex01_double_backward", "ex01", "hint.accumulated_twice", ["ACCUMULATE"], ["累积"]),
    ("ex02_no_zero", "ex02", "hint.not_zeroed", ["ACCUMULATE", "x.grad.zero_()"], ["累积", "x.grad.zero_()"]),
    ("ex03_nonscalar_backward", "ex03", "nonscalar_backward", ["scalar", "sum()", "ones_like"], ["标量", "sum()", "ones_like"]),
    ("ex03_weighted", "ex03", "hint.weighted_backward", ["weights each element", "ones"], ["加权", "全 1"]),
    ("ex04_no_detach", "ex04", "hint.through_detach", ["3x²", "detach"], ["3x²", "detach"]),
    ("ex04_no_detach", "ex04", "not_detached", ["detach"], ["detach"]),
    ("ex04_detach_after", "ex04", "not_detached", ["requires grad"], ["需要梯度"]),
    ("ex05_item", "ex05", "no_grad_fn.call_backward", ["graph is broken", "tensor operations"], ["计算图断了", "张量运算"]),
    ("ex06_uses_cos", "ex06", "banned.cos", ["WITHOUT cos", "autograd" if False else "backward"], ["不用 cos"]),
    ("ex06_method_cos", "ex06", "banned.cos", ["Line 9"], ["第 9 行"]),
    ("ex06_alias_cos", "ex06", "banned.cos", ["cosine"], ["余弦"]),
    ("ex06_math_cos", "ex06", "banned.cos", ["cosine"], ["余弦"]),
    ("ex06_numpy_cos", "ex06", "banned.cos", ["cosine"], ["余弦"]),
    ("stubs", "ex03", "not_attempted", ["Not attempted"], ["尚未作答"]),
    ("syntax_error", "ex03", "syntax_error", ["line 7", "SyntaxError"], ["第 7 行", "语法错误"]),
    ("import_error", "ex03", "import_error", ["torchh"], ["torchh"]),
    ("missing_function", "ex03", "missing_function", ["sum_backward", "sum_backwards"], ["sum_backward"]),
]


@pytest.mark.parametrize("scenario, exercise_id, key, english, chinese", MISTAKES,
                         ids=[f"{m[0]}-{m[2]}" for m in MISTAKES])
def test_typical_mistake_is_named_in_both_languages(check_submission, scenario, exercise_id, key, english, chinese):
    """The mistake is recognised, costs points, and its hint says what to fix in English and in Chinese."""
    result = check_submission(scenario, exercise_id)
    assert result.status != "passed"
    assert result.score < result.max_score
    assert key in result.misconceptions
    for words, lang in ((english, "en"), (chinese, "zh")):
        text = feedback_text(result, lang)
        for word in words:
            assert word in text, f"{lang} feedback lacks {word!r}:\n{text}"


@pytest.mark.parametrize("scenario, exercise_id", [
    ("ex02_grad_none", "ex02"),
    ("ex03_ones_like", "ex03"),
    ("ex06_autograd_grad", "ex06"),
    ("chatty", "ex03"),
] + [("correct", f"ex0{n}") for n in range(1, 7)])
def test_correct_idioms_pass(check_submission, scenario, exercise_id):
    """Every correct way of writing the exercise earns full points."""
    result = check_submission(scenario, exercise_id)
    assert result.status == "passed", feedback_text(result, "en")
    assert result.score == result.max_score


@pytest.mark.parametrize("exercise_id", [f"ex0{n}" for n in range(1, 7)])
def test_untouched_stub_is_not_attempted(check_submission, exercise_id):
    """A stub still raising NotImplementedError is 'not started' with zero points, not an error."""
    result = check_submission("stubs", exercise_id)
    assert result.status == "not_attempted"
    assert result.score == 0
    assert result.problem is not None and result.problem.key == "not_attempted"


@pytest.mark.slow
def test_endless_loop_in_f_is_stopped_and_explained(check_submission):
    """ex05's f that never returns is killed at its time budget, and the hint says the loop must end."""
    result = check_submission("ex05_infinite", "ex05")
    assert result.status == "error" and result.score == 0
    assert result.problem is not None and result.problem.key == "hint.endless_loop"
    assert "loop" in feedback_text(result, "en") and "循环" in feedback_text(result, "zh")


@pytest.mark.parametrize("scenario, folder", [("correct", "solutions"), ("stubs", "exercises")])
def test_fixture_copies_stay_in_step(scenario, folder):
    """Are the 'correct' and 'stubs' fixtures still byte-identical to solutions/ and exercises/?"""
    from helpers import REPO, SUBMISSIONS

    for path in sorted((REPO / folder).glob("ex*.py")):
        assert (SUBMISSIONS / scenario / path.name).read_bytes() == path.read_bytes(), path.name
