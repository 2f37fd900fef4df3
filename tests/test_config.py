"""grader.core.config: the repository's config.yaml loads; a broken one stops with one sentence naming file and key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from grader import cli
from grader.core.config import load_config
from grader.errors import ConfigError
from helpers import copy_course, REPO

CONFIG = REPO / "config.yaml"


def repo_config() -> dict:
    return yaml.safe_load(CONFIG.read_text(encoding="utf-8"))


def write_config(folder: Path, data: dict) -> Path:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def broken(mutate) -> dict:
    data = copy.deepcopy(repo_config())
    mutate(data)
    return data


def assert_one_sentence(error: ConfigError, path: Path, *words: str) -> None:
    text = str(error)
    assert str(path) in text, text
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    assert "\n" not in text
    assert "Traceback" not in text


def test_repository_config_loads():
    """Does the course's own config.yaml load, with every exercise, its public and hidden cases and its points?"""
    config = load_config(CONFIG)
    raw = repo_config()
    assert tuple(e.id for e in config.exercises) == tuple(raw["exercises"])
    for exercise in config.exercises:
        entry = raw["exercises"][exercise.id]
        assert exercise.public == tuple(entry["public"])
        assert exercise.hidden == tuple(entry.get("hidden", []))
        assert exercise.points == entry.get("points", raw["defaults"]["points"])
        assert set(exercise.public + exercise.hidden) <= set(exercise.case_names)
        assert exercise.filename == entry["file"] and exercise.function == entry["function"]
        assert [c.id for c in exercise.checks] == [c["id"] for c in entry["checks"]]
    assert config.language == raw["language"]
    assert config.seed == raw["seed"]


def test_digest_changes_with_the_bytes(tmp_path):
    """Does the config's digest (part of every resume cache key) change when the file changes?"""
    first = load_config(write_config(tmp_path, repo_config())).digest
    second = load_config(write_config(tmp_path, broken(lambda d: d.update(seed=d["seed"] + 1)))).digest
    assert first != second


BROKEN = [
    ("unknown top-level key", lambda d: d.update(colour="red"), ["colour"]),
    ("typo in an exercise key", lambda d: d["exercises"]["ex03"].update(pionts=3), ["exercises.ex03.pionts"]),
    ("points given as words", lambda d: d["exercises"]["ex03"].update(points="two"), ["exercises.ex03.points", "two"]),
    ("negative points", lambda d: d["exercises"]["ex03"].update(points=-1), ["exercises.ex03.points", "-1"]),
    ("no exercises at all", lambda d: d.update(exercises={}), ["exercises"]),
    ("exercise without a function", lambda d: d["exercises"]["ex04"].pop("function"), ["exercises.ex04.function"]),
    ("file in a folder", lambda d: d["exercises"]["ex04"].update(file="../ex04.py"), ["exercises.ex04.file"]),
    ("unknown calling protocol", lambda d: d["exercises"]["ex05"].update(protocol="call_twice"),
     ["exercises.ex05.protocol", "call_backward"]),
    ("unknown recipe", lambda d: d["exercises"]["ex06"]["cases"]["book"].update(recipe="ones"),
     ["exercises.ex06.cases.book.recipe", "ones"]),
    ("recipe parameter missing", lambda d: d["exercises"]["ex06"]["cases"]["grid_f64"].pop("end"),
     ["exercises.ex06.cases.grid_f64.end", "linspace"]),
    ("parameter the recipe does not take", lambda d: d["exercises"]["ex06"]["cases"]["book"].update(scale=2.0),
     ["exercises.ex06.cases.book.scale", "sin_grid"]),
    ("case size not a whole number", lambda d: d["exercises"]["ex06"]["cases"]["book"].update(n=2.5),
     ["exercises.ex06.cases.book.n", "2.5"]),
    ("dtype not offered", lambda d: d["exercises"]["ex06"]["cases"]["book"].update(dtype="int8"),
     ["exercises.ex06.cases.book.dtype", "int8"]),
    ("case without a show", lambda d: d["exercises"]["ex06"]["cases"]["book"].pop("show"),
     ["exercises.ex06.cases.book.show"]),
    ("scalar case at zero", lambda d: d["exercises"]["ex05"]["cases"]["positive"].update(value=0),
     ["exercises.ex05.cases.positive.value"]),
    ("unknown check kind", lambda d: d["exercises"]["ex03"]["checks"][0].update(kind="approx"),
     ["exercises.ex03.checks[0].kind", "approx"]),
    ("bad check target", lambda d: d["exercises"]["ex03"]["checks"][0].update(target="x.grad"),
     ["exercises.ex03.checks[0].target", "x.grad"]),
    ("two checks with one id", lambda d: d["exercises"]["ex03"]["checks"][1].update(id="y"),
     ["exercises.ex03.checks", "'y'"]),
    ("banned operations on a value check", lambda d: d["exercises"]["ex03"]["checks"][0].update(banned=["cos"]),
     ["exercises.ex03.checks[0].banned"]),
    ("autograd_only without banned operations", lambda d: d["exercises"]["ex06"]["checks"][1].pop("banned"),
     ["exercises.ex06.checks[1].banned"]),
    ("graph nodes on a value check", lambda d: d["exercises"]["ex03"]["checks"][0].update(through=["SinBackward0"]),
     ["exercises.ex03.checks[0].through", "autograd_only"]),
    ("graph nodes not a list of names", lambda d: d["exercises"]["ex06"]["checks"][1].update(through="SinBackward0"),
     ["exercises.ex06.checks[1].through", "SinBackward0"]),
    ("graph node that is no name", lambda d: d["exercises"]["ex06"]["checks"][1].update(through=["Sin Backward"]),
     ["exercises.ex06.checks[1].through", "Sin Backward"]),
    ("label neither text nor zh/en", lambda d: d["exercises"]["ex03"]["checks"][0].update(label={"fr": "y"}),
     ["exercises.ex03.checks[0].label"]),
    ("unknown hint plug-in", lambda d: d["exercises"]["ex03"].update(hints=["psychic"]),
     ["exercises.ex03.hints", "psychic", "weighted_backward"]),
    ("unknown plot", lambda d: d["exercises"]["ex06"].update(plot="histogram"), ["exercises.ex06.plot", "histogram"]),
    ("two exercises in one file", lambda d: d["exercises"]["ex02"].update(file="ex01_gradient_4x.py"),
     ["exercises.ex01", "exercises.ex02", "ex01_gradient_4x.py"]),
    ("exercise id with capitals", lambda d: d["exercises"].update({"Ex07": d["exercises"]["ex01"]}), ["Ex07"]),
    ("unknown case", lambda d: d["exercises"]["ex03"].update(hidden=["vec7", "vec99"]), ["exercises.ex03.hidden", "vec99"]),
    ("case both public and hidden", lambda d: d["exercises"]["ex03"].update(hidden=["vec7", "book"]),
     ["exercises.ex03", "book"]),
    ("rtol without atol", lambda d: d["exercises"]["ex03"].update(rtol=1e-3), ["exercises.ex03", "rtol", "atol"]),
    ("language not offered", lambda d: d.update(language="fr"), ["language", "fr"]),
    ("points not a number (.nan)", lambda d: d["exercises"]["ex03"].update(points=float("nan")),
     ["exercises.ex03.points", "nan"]),
    ("endless time budget (.inf)", lambda d: d["exercises"]["ex05"].update(timeout=float("inf")),
     ["exercises.ex05.timeout", "inf"]),
    ("hidden weight NaN", lambda d: d["defaults"].update(hidden_weight=float("nan")), ["hidden_weight", "nan"]),
]


@pytest.mark.parametrize("mutate, words", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_config_is_one_sentence_naming_file_and_key(tmp_path, mutate, words):
    """Does each kind of broken config stop loading with one sentence that names the file and the key?"""
    path = write_config(tmp_path, broken(mutate))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert_one_sentence(caught.value, path, *words)


def test_bad_yaml_indentation_names_file_and_line(tmp_path):
    """Does a YAML indentation error name the file and the line it is on?"""
    lines = CONFIG.read_text(encoding="utf-8").splitlines()
    bad = next(i for i, line in enumerate(lines) if line.strip().startswith("timeout:") and line.startswith("    "))
    lines[bad] = lines[bad][1:]  # one space short of its siblings
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert_one_sentence(caught.value, path, f"line {bad + 1}")


def test_key_written_twice_names_file_key_and_line(tmp_path):
    """Is a key written twice in one mapping (the second would silently win) refused with its name and line?"""
    lines = CONFIG.read_text(encoding="utf-8").splitlines()
    points = next(i for i, line in enumerate(lines) if line.strip().startswith("points:") and line.startswith("    "))
    lines.insert(points + 1, lines[points])
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert_one_sentence(caught.value, path, "'points'", f"line {points + 2}")


def test_yaml_merge_key_may_be_overridden(tmp_path):
    """May an exercise reuse the defaults with a YAML merge key and override one of them?"""
    text = CONFIG.read_text(encoding="utf-8").replace("defaults:", "defaults: &defaults", 1)
    text = text.replace("  ex03:\n", "  ex03:\n    <<: *defaults\n    points: 7\n", 1)
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_config(path).exercise("ex03").points == 7


def test_missing_config_says_where_to_run(tmp_path):
    """Does a missing config.yaml say which path was looked for, in one sentence?"""
    path = tmp_path / "config.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert_one_sentence(caught.value, path, "--course")


def test_cli_with_broken_config_exits_2_with_one_line(tmp_path, capsys):
    """Does `grader check` with a broken config exit 2 and print one 'grader:' line, no traceback?"""
    copy_course(tmp_path, config=False)
    write_config(tmp_path, broken(lambda d: d["exercises"]["ex03"].update(pionts=3)))
    code = cli.main(["--course", str(tmp_path), "check", "ex03"])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("grader:")
    assert "pionts" in lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_autograd_only_reads_its_graph_nodes_and_banned_functions():
    """Does ex06's autograd_only check carry the banned functions and the graph nodes config.yaml names?"""
    raw = next(c for c in repo_config()["exercises"]["ex06"]["checks"] if c["kind"] == "autograd_only")
    check = next(c for c in load_config(CONFIG).exercise("ex06").checks if c.kind == "autograd_only")
    assert check.banned == tuple(raw["banned"]) and check.through == tuple(raw["through"]) and check.through
