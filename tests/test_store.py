"""The labels and statements tables: validation names file and line; majority and ties; appends."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from signals import store
from signals.errors import SignalsError

FIXTURES = Path(__file__).parent / "fixtures" / "labelling"
HEADER = "statement_id,label,annotator,labelled_at,note\n"
IDS = {"t01", "t02", "t03"}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- labels validation


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("t01,mixed,amal,,\nt02,angry,amal,,\n", ":3: unknown label 'angry'"),
        ("t01,Mixed,amal,,\n", ":2: unknown label 'Mixed'"),
        (
            "t01,mixed,amal,,\nt02,mixed,amal,,\nt77,mixed,amal,,\n",
            ":4: unknown statement id 't77'",
        ),
        ("t01,mixed,amal,,\nt02,mixed,amal\n", ":3: malformed row: 3 fields, expected 5"),
        ("t01,mixed,amal,,,extra\n", ":2: malformed row: 6 fields, expected 5"),
        ("t01,mixed,,,\n", ":2: empty annotator"),
        (
            "t01,mixed,amal,,\nt02,mixed,amal,,\nt01,escalatory,amal,,\n",
            ":4: statement t01 labelled twice by amal (first at line 2)",
        ),
    ],
)
def test_bad_labels_are_named_by_file_and_line(tmp_path: Path, rows: str, message: str) -> None:
    path = write(tmp_path / "labels.csv", HEADER + rows)
    with pytest.raises(SignalsError) as caught:
        store.read_labels(path, statement_ids=IDS)
    assert str(caught.value).startswith(f"{path}{message}")


def test_missing_label_column(tmp_path: Path) -> None:
    path = write(tmp_path / "labels.csv", "statement_id,label,labelled_at,note\nt01,mixed,,\n")
    with pytest.raises(SignalsError, match=r"labels\.csv:1: missing column\(s\) annotator"):
        store.read_labels(path)


def test_same_statement_by_two_annotators_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path / "labels.csv", HEADER + "t01,mixed,amal,,\nt01,escalatory,basim,,\n")
    assert len(store.read_labels(path, statement_ids=IDS)) == 2


def test_missing_and_empty_labels_files(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    assert store.read_labels(path, missing_ok=True).empty
    with pytest.raises(SignalsError, match="no such file"):
        store.read_labels(path)
    path.touch()  # what a process killed before its first write leaves behind
    assert list(store.read_labels(path, missing_ok=True).columns) == store.LABEL_COLUMNS
    write(path, HEADER)
    assert store.read_labels(path).empty


def test_statements_fixture_is_valid_and_duplicates_are_named(tmp_path: Path) -> None:
    statements = store.read_statements(FIXTURES / "statements.csv")
    assert statements["id"].tolist() == ["t01", "t02", "t03", "t04", "t05", "t06"]
    text = (FIXTURES / "statements.csv").read_text(encoding="utf-8")
    first_row = text.splitlines()[1]
    path = write(tmp_path / "statements.csv", text + first_row + "\n")
    with pytest.raises(SignalsError, match=r"statements\.csv:8: duplicate statement id t01"):
        store.read_statements(path)


# ---------------------------------------------------------------- final labels


def frame(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"statement_id": s, "annotator": a, "label": lab, "labelled_at": "", "note": note}
         for s, a, lab, note in rows],
        columns=store.LABEL_COLUMNS,
    )


def test_final_labels_majority_ties_and_weak() -> None:
    finals = store.final_labels(frame([
        ("t01", "amal", "escalatory", ""),
        ("t01", "basim", "escalatory", ""),
        ("t01", "carla", "mixed", ""),
        ("t02", "amal", "restraining", ""),
        ("t02", "basim", "mixed", ""),
        ("t03", "amal", "restraining", "Weak: political process"),
        ("t04", "amal", "mixed", ""),
        ("t04", "basim", "mixed", ""),
        ("t04", "carla", "escalatory", ""),
        ("t04", "dina", "escalatory", ""),
    ])).set_index("statement_id")
    assert finals.loc["t01", ["label", "votes", "annotations", "tie"]].tolist() == [
        "escalatory", 2, 3, False,
    ]
    assert finals.loc["t02", "tie"] and finals.loc["t02", "label"] == ""
    assert finals.loc["t04", "tie"] and finals.loc["t04", "votes"] == 2
    assert finals.loc["t03", "label"] == "restraining" and finals.loc["t03", "weak"]
    assert not finals.loc["t01", "weak"]
    assert list(finals.index) == ["t01", "t02", "t03", "t04"]


def test_final_labels_of_nothing() -> None:
    finals = store.final_labels(pd.DataFrame(columns=store.LABEL_COLUMNS))
    assert finals.empty and "tie" in finals.columns


def test_labelled_statements_leave_out_ties(tmp_path: Path) -> None:
    labels = write(
        tmp_path / "labels.csv",
        HEADER + "t01,mixed,amal,,\nt02,mixed,amal,,\nt02,escalatory,basim,,\n",
    )
    joined = store.labelled_statements(FIXTURES / "statements.csv", labels)
    assert joined["id"].tolist() == ["t01"] and joined["label"].tolist() == ["mixed"]


# ---------------------------------------------------------------- append_label


def row(statement_id: str, label: str = "mixed", note: str = "") -> dict:
    return {"statement_id": statement_id, "label": label, "annotator": "amal",
            "labelled_at": "2024-06-01T09:00:00+00:00", "note": note}


def test_append_creates_the_file_with_a_header(tmp_path: Path) -> None:
    path = tmp_path / "new" / "labels.csv"
    store.append_label(path, row("t01"))
    assert path.read_text() == HEADER + "t01,mixed,amal,2024-06-01T09:00:00+00:00,\n"


def test_each_append_is_readable_at_once_and_fsynced(tmp_path: Path, monkeypatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    path = tmp_path / "labels.csv"
    notes = ['comma, and "quotes"', "two\nlines", "ünïcödé — weak"]
    for number, note in enumerate(notes, start=1):
        store.append_label(path, row(f"t0{number}", note=note))
        assert len(store.read_labels(path, statement_ids=IDS)) == number
    assert len(synced) == 3
    assert store.read_labels(path)["note"].tolist() == notes


def test_append_after_a_line_without_newline(tmp_path: Path) -> None:
    path = write(tmp_path / "labels.csv", HEADER + "t01,mixed,basim,,")
    store.append_label(path, row("t02", "escalatory"))
    labels = store.read_labels(path, statement_ids=IDS)
    assert labels["statement_id"].tolist() == ["t01", "t02"]


def test_append_follows_the_files_own_header(tmp_path: Path) -> None:
    path = write(tmp_path / "labels.csv",
                 "annotator,statement_id,note,label,labelled_at,checked\nbasim,t01,,mixed,,yes\n")
    store.append_label(path, row("t02", "restraining", note="weak"))
    labels = store.read_labels(path, statement_ids=IDS)
    assert labels[["statement_id", "label", "annotator", "note"]].values.tolist() == [
        ["t01", "mixed", "basim", ""], ["t02", "restraining", "amal", "weak"],
    ]
    assert labels["checked"].tolist() == ["yes", ""]


def test_append_to_an_empty_file_writes_the_header(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.touch()
    store.append_label(path, row("t01"))
    assert store.read_labels(path)["statement_id"].tolist() == ["t01"]
