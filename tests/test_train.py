"""`signals train` and `signals evaluate`: the card, the comparison, the metrics contract."""

from __future__ import annotations

import json

from signals.cli import main


def test_train_writes_model_and_card_and_compares(project, capsys, monkeypatch):
    monkeypatch.setenv("SIGNALS_DEVSET", str(project / "no-devset"))
    assert main(["train", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "CV macro-F1" in out and "no previous model card" in out
    card = json.loads((project / "training" / "model_card.json").read_text())
    for key in ("data_sha256", "counts", "params", "cv", "top_phrases", "versions", "history"):
        assert key in card
    assert card["counts"]["total"] == {"escalatory": 9, "restraining": 9, "mixed": 6}
    assert set(card["cv"]["out_of_fold"]["per_class"]) == {"escalatory", "restraining", "mixed"}
    assert len(card["top_phrases"]["mixed"]) == 25
    for phrases in card["top_phrases"].values():  # a word's stem and n-grams show it once
        assert len({item["phrase"] for item in phrases}) == len(phrases)
    assert "Model card" in (project / "training" / "model_card.md").read_text()
    assert main(["train", "--quick"]) == 0
    assert "CV macro-F1" in capsys.readouterr().out.split("change:")[1]
    assert len(json.loads((project / "training" / "model_card.json").read_text())["history"]) == 2


def test_evaluate_json_contract(project, capsys, monkeypatch):
    monkeypatch.setenv("SIGNALS_DEVSET", str(project / "no-devset"))
    assert main(["train", "--quick"]) == 0
    capsys.readouterr()
    fresh = project / "fresh.jsonl"
    fresh.write_text("\n".join(json.dumps(row) for row in [
        {"text": "Our missiles will hit all their bases.", "label": "escalatory"},
        {"text": "We declare a truce for now.", "label": "restraining"},
        {"text": "We pause, but if they attack we will strike.", "label": "mixed"},
    ]) + "\n")
    assert main(["evaluate", str(fresh), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"accuracy", "macro_f1", "per_class", "confusion", "n"} <= set(result)
    assert result["n"] == 3
    assert main(["evaluate", str(fresh)]) == 0
    assert "macro-F1" in capsys.readouterr().out


def test_evaluate_rejects_unknown_label(project, capsys, monkeypatch):
    monkeypatch.setenv("SIGNALS_DEVSET", str(project / "no-devset"))
    assert main(["train", "--quick"]) == 0
    bad = project / "bad.csv"
    bad.write_text("text,label\nWe strike,angry\n")
    assert main(["evaluate", str(bad)]) == 1
    assert "unknown label 'angry'" in capsys.readouterr().err


def test_train_reports_bad_tables_in_one_line(project, capsys):
    labels = project / "labels" / "labels.csv"
    labels.write_text(labels.read_text() + "t36c42b7b,furious,other,2026-11-25T09:00:00+00:00,\n")
    assert main(["train", "--quick"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("signals: error: labels/labels.csv:26: unknown label 'furious'")
    assert len(err.splitlines()) == 1
    assert not (project / "training" / "model.joblib").exists()


def test_train_without_tables(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--quick"]) == 1
    assert "labels/statements.csv: no such file" in capsys.readouterr().err


def test_train_refuses_a_label_set_missing_a_class(project, capsys):
    labels = project / "labels" / "labels.csv"
    kept = [line for line in labels.read_text().splitlines() if ",mixed," not in line]
    labels.write_text("\n".join(kept) + "\n")
    assert main(["train", "--quick"]) == 1
    assert "no statement labelled mixed" in capsys.readouterr().err


def test_failed_training_keeps_the_previous_model(project, capsys, monkeypatch):
    monkeypatch.setenv("SIGNALS_DEVSET", str(project / "no-devset"))
    assert main(["train", "--quick"]) == 0
    model = project / "training" / "model.joblib"
    before = model.read_bytes()
    (project / "labels" / "statements.csv").write_text("id,text\n")
    assert main(["train", "--quick"]) == 1
    assert model.read_bytes() == before


def test_too_narrow_a_set_for_cross_validation_still_trains(project, capsys, monkeypatch):
    """Mixed only in one source: no fold can train on mixed without it, so CV is skipped,
    said so, and the model is still trained and saved."""
    monkeypatch.setenv("SIGNALS_DEVSET", str(project / "no-devset"))
    statements = (project / "labels" / "statements.csv").read_text().splitlines()
    mixed_elsewhere = {line.split(",")[0] for line in statements
                       if not line.startswith("id,") and ",a1.txt," not in line}
    labels = project / "labels" / "labels.csv"
    kept = [line for line in labels.read_text().splitlines()
            if not (",mixed," in line and line.split(",")[0] in mixed_elsewhere)]
    labels.write_text("\n".join(kept) + "\n")
    assert main(["train", "--quick"]) == 0
    assert "no cross-validation: cross-validation needs every label" in capsys.readouterr().out
    card = json.loads((project / "training" / "model_card.json").read_text())
    assert card["cv"] is None and "mixed" in card["cv_unavailable"]
    assert (project / "training" / "model.joblib").exists()
    assert "Not available" in (project / "training" / "model_card.md").read_text()
