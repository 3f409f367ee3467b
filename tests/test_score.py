"""`signals score`: the JSON contract, inputs of every kind, bad input, a first model."""

from __future__ import annotations

import io
import json

import pytest

from signals.cli import main
from signals.score import score_texts

CONTRACT = {"text", "label", "probabilities", "tone", "phrases", "known_terms", "warning"}


def test_result_contract_and_tone(trained_model):
    [result] = score_texts(trained_model, ["If they strike again our revenge will be harsh."])
    assert CONTRACT <= set(result)
    probabilities = result["probabilities"]
    assert set(probabilities) == {"escalatory", "restraining", "mixed"}
    assert sum(probabilities.values()) == pytest.approx(1, abs=1e-3)
    assert result["tone"] == pytest.approx(
        probabilities["escalatory"] - probabilities["restraining"], abs=1e-3)
    pure = max(("escalatory", "restraining"), key=probabilities.get)
    assert result["label"] == ("mixed" if probabilities["mixed"] >= 0.5 else pure)
    for phrase in result["phrases"]:
        assert {"phrase", "weight", "class"} <= set(phrase)
        assert phrase["phrase"] in result["text"]


def test_top_limits_phrases_and_orders_by_weight(trained_model):
    [result] = score_texts(trained_model, ["We will strike all their bases and burn their ships "
                                           "unless they leave, but we call for calm."], top=3)
    weights = [abs(p["weight"]) for p in result["phrases"]]
    assert len(weights) == 3 and weights == sorted(weights, reverse=True)


def test_unknown_words_warn(trained_model):
    [result] = score_texts(trained_model, ["Zzyzx qwerty plugh."])
    assert result["known_terms"] == 0
    assert "too few" in result["warning"]


def test_statement_without_explicit_cue_is_flagged_weak(trained_model):
    [result] = score_texts(trained_model, ["The occupier and its crimes against our people"])
    assert result["weak_signal"] is True and result["warning"]


@pytest.fixture()
def scored_project(project, trained_model, monkeypatch):
    from signals.model import save_model

    save_model(trained_model, project / "training" / "model.joblib")
    return project


def run_json(capsys, *argv) -> list[dict]:
    assert main(["score", "--json", *argv]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_score_arguments_json(scored_project, capsys):
    results = run_json(capsys, "We will strike back.", "We call for calm.")
    assert [r["text"] for r in results] == ["We will strike back.", "We call for calm."]


def test_score_csv_carries_columns_through(scored_project, capsys):
    path = scored_project / "in.csv"
    path.write_text("id,text,speaker,group,date,source\n"
                    "s1,We will strike back.,Askari,Kataib Hezbollah,2024-01-02,a.txt\n")
    [result] = run_json(capsys, "--file", str(path))
    assert (result["id"], result["speaker"], result["date"]) == ("s1", "Askari", "2024-01-02")


def test_score_jsonl_and_text_file(scored_project, capsys):
    jsonl = scored_project / "in.jsonl"
    jsonl.write_text('{"text": "We call for calm.", "group": "Hezbollah"}\n')
    assert run_json(capsys, "--file", str(jsonl))[0]["group"] == "Hezbollah"
    lines = scored_project / "in.txt"
    lines.write_text("We will strike back.\n\nWe call for calm.\n")
    assert len(run_json(capsys, "--file", str(lines))) == 2


def test_score_reads_stdin(scored_project, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("We call for calm.\nWe strike.\n"))
    assert len(run_json(capsys)) == 2


def test_human_output_marks_phrases(scored_project, capsys):
    assert main(["score", "We will strike back, but we call for calm."]) == 0
    out = capsys.readouterr().out
    assert "tone" in out and ("[+" in out or "[-" in out)


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"", "empty file"),
    (b"\x00\x01binary", "binary file"),
    ("text\n\xe9t\xe9\n".encode("latin-1"), "not valid UTF-8"),
    (b'{"text": "ok"}\n{broken\n', "malformed JSON"),
])
def test_bad_input_files(scored_project, capsys, content, message):
    suffix = ".jsonl" if content and content.startswith(b"{") else ".txt"
    path = scored_project / f"input{suffix}"
    if content is not None:
        path.write_bytes(content)
    assert main(["score", "--file", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("signals: error:") and message in err
    assert len(err.strip().splitlines()) == 1


def test_empty_statement_and_csv_without_text_column(scored_project, capsys):
    assert main(["score", "   "]) == 1
    assert "empty text" in capsys.readouterr().err
    path = scored_project / "in.csv"
    path.write_text("id,body\n1,hello\n")
    assert main(["score", "--file", str(path)]) == 1
    assert "missing column(s) text" in capsys.readouterr().err


def test_corrupt_model_is_one_line_error(scored_project, capsys):
    model = scored_project / "training" / "model.joblib"
    model.write_bytes(model.read_bytes()[:100])
    assert main(["score", "We strike."]) == 1
    assert "SHA-256 does not match" in capsys.readouterr().err


def test_score_trains_a_first_model_and_says_so(project, capsys):
    assert main(["score", "--json", "We will strike back."]) == 0
    captured = capsys.readouterr()
    assert "no model yet: trained one" in captured.err
    assert json.loads(captured.out)["label"] in {"escalatory", "restraining", "mixed"}
    assert (project / "training" / "model.joblib").exists()
