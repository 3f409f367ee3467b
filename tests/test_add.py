"""`signals add`: exemplars and users' own statements join the tables, idempotently."""

from __future__ import annotations

import pandas as pd

from signals.add import add_statements
from signals.cli import main
from signals.store import read_labels, read_statements


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_add_exemplars_with_labels_is_idempotent(tmp_path, capsys):
    source = write(tmp_path / "batch.csv",
                   "text,speaker,group,date,label,note\n"
                   "We will burn their bases.,Askari,Kataib Hezbollah,2024-02-01,escalatory,\n"
                   "We halt operations for now.,Askari,Kataib Hezbollah,2024-02-03,restraining,weak\n")
    statements, labels = tmp_path / "statements.csv", tmp_path / "labels.csv"
    argv = ["add", str(source), "--origin", "exemplar", "--annotator", "writer-a",
            "--statements", str(statements), "--labels", str(labels)]
    assert main(argv) == 0
    assert "2 statements added" in capsys.readouterr().out
    table = read_statements(statements)
    assert set(table["origin"]) == {"exemplar"}
    assert set(table["source"]) == {"exemplar:batch"}
    assert len(read_labels(labels, set(table["id"]))) == 2
    before = (statements.read_bytes(), labels.read_bytes())
    assert main(argv) == 0
    assert "0 statements added, 2 already present, 0 labels" in capsys.readouterr().out
    assert (statements.read_bytes(), labels.read_bytes()) == before


def test_add_refuses_unknown_label_and_keeps_tables(tmp_path, capsys):
    statements = write(tmp_path / "statements.csv",
                       "id,text,speaker,group,date,source,start,end,context,origin\n"
                       "s1,Old statement,,,,,,,,article\n")
    before = statements.read_bytes()
    source = write(tmp_path / "bad.csv", "text,label\nWe strike.,furious\n")
    assert main(["add", str(source), "--annotator", "me", "--statements", str(statements),
                 "--labels", str(tmp_path / "labels.csv")]) == 1
    assert "bad.csv:2: unknown label 'furious'" in capsys.readouterr().err
    assert statements.read_bytes() == before


def test_add_needs_annotator_for_labels_and_valid_dates(tmp_path, capsys):
    source = write(tmp_path / "in.csv", "text,label\nWe strike.,escalatory\n")
    assert main(["add", str(source), "--statements", str(tmp_path / "s.csv"),
                 "--labels", str(tmp_path / "l.csv")]) == 1
    assert "--annotator" in capsys.readouterr().err
    dated = write(tmp_path / "dated.csv", "text,date\nWe strike.,12/01/2024\n")
    assert main(["add", str(dated), "--statements", str(tmp_path / "s.csv")]) == 1
    assert "not YYYY-MM-DD" in capsys.readouterr().err


def test_add_never_drops_labels_a_labelling_session_appends_meanwhile(
        tmp_path, beside_a_labelling_session):
    """`add` rewrites the labels file; a session appending at the same time loses nothing."""
    statements, labels = tmp_path / "statements.csv", tmp_path / "labels.csv"
    texts = [f"The occupier will pay for raid number {i}." for i in range(300)]
    add_statements(write(tmp_path / "session.csv", "text\n" + "\n".join(texts) + "\n"),
                   statements, labels, "user", None)
    for i in range(40):
        write(tmp_path / f"more{i}.csv",
              f"text,label\nWe call on everyone to stay calm on day {i}.,restraining\n")
    adder = (
        "import sys\nfrom pathlib import Path\nfrom signals.add import add_statements\n"
        "folder = Path(sys.argv[1]).parent\n"
        "for i in range(40):\n"
        "    add_statements(folder / f'more{i}.csv', folder / 'statements.csv', Path(sys.argv[1]),"
        " 'user', 'bo')\n"
    )
    session_ids = "statement_id('user', f'The occupier will pay for raid number {i}.')"
    beside_a_labelling_session(labels, adder, statement_id=session_ids)
    rows = pd.read_csv(labels, dtype=str)
    assert (rows["annotator"] == "ana").sum() == 300
    assert rows.loc[rows["annotator"] == "ana", "statement_id"].nunique() == 300
    assert (rows["annotator"] == "bo").sum() == 40
    assert len(read_statements(statements)) == 340
