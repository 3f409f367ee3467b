"""The labelling session driven by scripted keystrokes, and `signals label` end to end."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import types
from collections.abc import Iterable
from contextlib import nullcontext
from pathlib import Path

import joblib
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from signals import cli, label, store
from signals.errors import SignalsError

FIXTURES = Path(__file__).parent / "fixtures" / "labelling"
IDS = ["t01", "t02", "t03", "t04", "t05", "t06"]


@pytest.fixture
def statements() -> pd.DataFrame:
    return store.read_statements(FIXTURES / "statements.csv")


@pytest.fixture
def labels_path(tmp_path: Path) -> Path:
    return tmp_path / "labels" / "labels.csv"


def script(keys: Iterable[str], then: type[BaseException] = EOFError) -> label.Reader:
    """A reader that returns the scripted keys, then raises `then` (end of input by default)."""
    pending = iter(keys)

    def read(line: bool) -> str:
        try:
            return next(pending)
        except StopIteration:
            raise then from None

    return read


def run(
    statements: pd.DataFrame,
    labels_path: Path,
    keys: Iterable[str],
    annotator: str = "amal",
    then: type[BaseException] = EOFError,
) -> tuple[label.SessionResult, list[str]]:
    shown: list[str] = []
    labels = store.read_labels(labels_path, missing_ok=True)
    queue = label.session_queue(statements, labels, annotator)
    session = label.Session(queue, annotator, labels_path, script(keys, then), shown.append)
    return session.run(), shown


def saved(labels_path: Path) -> list[tuple[str, str, str]]:
    frame = store.read_labels(labels_path, missing_ok=True)
    return list(zip(frame["statement_id"], frame["annotator"], frame["label"], strict=True))


# ---------------------------------------------------------------- the session


def test_labels_are_saved_at_once_with_progress(statements, labels_path) -> None:
    seen_on_disk = []

    def read(line: bool) -> str:
        seen_on_disk.append(len(saved(labels_path)))
        return keys.pop(0)

    keys = ["e", "r", "m", "q"]
    shown: list[str] = []
    session = label.Session(statements, "amal", labels_path, read, shown.append)
    result = session.run()

    assert seen_on_disk == [0, 1, 2, 3]  # each answer is on disk before the next key is read
    assert saved(labels_path) == [
        ("t01", "amal", "escalatory"), ("t02", "amal", "restraining"), ("t03", "amal", "mixed"),
    ]
    assert (result.labelled, result.skipped, result.remaining) == (3, 0, 3)
    text = "\n".join(shown)
    assert "[1 of 6] t01" in text and "[3 of 6] t03" in text
    assert "speaker: Abu Karrar al-Sa'idi · group: Kata'ib Hezbollah · date: 2024-02-03" in text
    assert "context: Speaking on the group's channel" in text
    assert "every one of their bases" in text
    frame = store.read_labels(labels_path)
    assert pd.Timestamp(frame["labelled_at"][0]).tzinfo is not None


def test_skip_writes_nothing_and_the_statement_comes_back(statements, labels_path) -> None:
    result, _ = run(statements, labels_path, ["s", "e", "q"])
    assert saved(labels_path) == [("t02", "amal", "escalatory")]
    assert (result.labelled, result.skipped, result.remaining) == (1, 1, 5)
    _, shown = run(statements, labels_path, ["q"])
    assert "[1 of 5] t01" in shown[1]


def test_quit_and_resume_shows_only_unlabelled_statements(statements, labels_path) -> None:
    run(statements, labels_path, ["e", "r", "q"])
    result, shown = run(statements, labels_path, ["m", "q"])
    assert "[1 of 4] t03" in shown[1]
    assert result.remaining == 3
    assert [row[0] for row in saved(labels_path)] == ["t01", "t02", "t03"]
    # Another annotator still sees everything.
    _, shown = run(statements, labels_path, ["q"], annotator="basim")
    assert "[1 of 6] t01" in shown[1]


def test_end_of_input_acts_as_quit(statements, labels_path) -> None:
    result, _ = run(statements, labels_path, ["e"])
    assert saved(labels_path) == [("t01", "amal", "escalatory")]
    assert not result.interrupted


def test_unknown_key_shows_help_and_writes_nothing(statements, labels_path) -> None:
    result, shown = run(statements, labels_path, ["x", "", "escalatory", "q"])
    assert shown.count(label.HELP) == 4  # once at the start, then once per unknown key
    assert not labels_path.exists()
    assert result.labelled == 0


def test_uppercase_keys_work(statements, labels_path) -> None:
    run(statements, labels_path, ["E", "q"])
    assert saved(labels_path) == [("t01", "amal", "escalatory")]


def test_undo_removes_only_the_last_label_and_shows_it_again(statements, labels_path) -> None:
    store.append_label(labels_path, {"statement_id": "t01", "label": "mixed", "annotator": "basim",
                                     "note": 'odd, "quoted"\nnote'})
    store.append_label(labels_path, {"statement_id": "t02", "label": "mixed", "annotator": "carla"})
    result, shown = run(statements, labels_path, ["e", "r", "u", "m", "q"])
    assert saved(labels_path) == [
        ("t01", "basim", "mixed"), ("t02", "carla", "mixed"),
        ("t01", "amal", "escalatory"), ("t02", "amal", "mixed"),
    ]
    assert store.read_labels(labels_path)["note"][0] == 'odd, "quoted"\nnote'
    assert "undone: label of t02 removed" in shown
    assert sum("[2 of 6] t02" in text for text in shown) == 2
    assert result.labelled == 2


def test_undo_walks_back_through_the_session_only(statements, labels_path) -> None:
    run(statements, labels_path, ["e", "q"])  # an earlier session
    result, shown = run(statements, labels_path, ["u", "r", "m", "u", "u", "u", "q"])
    assert shown.count("nothing to undo in this session") == 2
    assert saved(labels_path) == [("t01", "amal", "escalatory")]
    assert result.labelled == 0


def test_undo_at_the_end_of_the_list(statements, labels_path) -> None:
    keys = ["e"] * 6 + ["e", "u", "r", "q"]
    result, shown = run(statements, labels_path, keys)
    assert shown.count(label.END_HELP) == 3  # reached the end, a label key there, end again
    assert saved(labels_path)[-1] == ("t06", "amal", "restraining")
    assert (result.labelled, result.remaining) == (6, 0)
    result, shown = run(statements, labels_path, [])
    assert shown == ["nothing left to label for amal"] and result.remaining == 0


def test_note_goes_with_the_label(statements, labels_path) -> None:
    run(statements, labels_path, ["n", "  weak:  grievance only ", "e", "n", "dropped", "s", "r"])
    frame = store.read_labels(labels_path)
    assert frame["note"].tolist() == ["weak: grievance only", ""]
    assert store.final_labels(frame)["weak"].tolist() == [True, False]


def test_ctrl_c_keeps_the_labels_already_given(statements, labels_path) -> None:
    result, _ = run(statements, labels_path, ["e", "m"], then=KeyboardInterrupt)
    assert result.interrupted
    assert saved(labels_path) == [("t01", "amal", "escalatory"), ("t02", "amal", "mixed")]


def test_empty_annotator_is_refused(statements, labels_path) -> None:
    with pytest.raises(SignalsError, match="annotator"):
        label.Session(statements, "  ", labels_path, script([]), print)


# ---------------------------------------------------------------- order


def tiny_model() -> Pipeline:
    texts = [
        "we will strike their bases and burn them", "our revenge will come, we will attack",
        "we suspend operations and call for calm", "we halt attacks and support the government",
    ]
    labels = ["escalatory", "escalatory", "restraining", "restraining"]
    return Pipeline([("tfidf", TfidfVectorizer()), ("clf", LogisticRegression(C=10))]).fit(
        texts, labels
    )


def test_uncertain_order_puts_least_confident_first() -> None:
    frame = pd.DataFrame({
        "id": ["sure_e", "unsure", "sure_r"],
        "text": ["we will strike and burn their bases, revenge", "the weather is mild",
                 "we suspend operations and call for calm, support the government"],
    })
    model = tiny_model()
    queue = label.session_queue(frame, pd.DataFrame(columns=store.LABEL_COLUMNS), "amal",
                                order="uncertain", model=model)
    confidence = model.predict_proba(queue["text"].tolist()).max(axis=1)
    assert queue["id"][0] == "unsure"
    assert list(confidence) == sorted(confidence)


def test_uncertain_order_needs_a_model(statements) -> None:
    with pytest.raises(SignalsError, match="model"):
        label.session_queue(statements, pd.DataFrame(columns=store.LABEL_COLUMNS), "amal",
                            order="uncertain")


def test_random_order_is_stable_across_sessions(statements, labels_path) -> None:
    empty = pd.DataFrame(columns=store.LABEL_COLUMNS)
    first = label.session_queue(statements, empty, "amal", order="random", seed=3)["id"].tolist()
    assert sorted(first) == IDS and first != IDS
    store.append_label(
        labels_path, {"statement_id": first[0], "label": "mixed", "annotator": "amal"}
    )
    labels = store.read_labels(labels_path)
    resumed = label.session_queue(statements, labels, "amal", order="random", seed=3)
    assert resumed["id"].tolist() == first[1:]


# ---------------------------------------------------------------- remove_label


def test_remove_label_keeps_every_other_row_and_the_header(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(
        "statement_id,annotator,label,labelled_at,note,extra\n"
        "t01,amal,escalatory,2024-01-01T00:00:00+00:00,,x\n"
        't02,amal,mixed,2024-01-01T00:00:01+00:00,"a, b",y\n'
        "t02,basim,mixed,2024-01-01T00:00:02+00:00,,z\n"
    )
    label.remove_label(path, "t02", "amal")
    assert path.read_text() == (
        "statement_id,annotator,label,labelled_at,note,extra\n"
        "t01,amal,escalatory,2024-01-01T00:00:00+00:00,,x\n"
        "t02,basim,mixed,2024-01-01T00:00:02+00:00,,z\n"
    )
    with pytest.raises(SignalsError, match="no label of t02 by amal"):
        label.remove_label(path, "t02", "amal")


def test_remove_label_failure_leaves_the_file_intact(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "labels.csv"
    for statement_id in ("t01", "t02"):
        store.append_label(
            path, {"statement_id": statement_id, "label": "mixed", "annotator": "amal"}
        )
    before = path.read_bytes()

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        label.remove_label(path, "t02", "amal")
    assert path.read_bytes() == before
    # no temporary file is left behind; the sibling lock file stays, empty
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.csv", "labels.csv.lock"]
    assert (tmp_path / "labels.csv.lock").read_bytes() == b""


# ---------------------------------------------------------------- readers


def test_line_reader_reads_lines_and_ends_with_eof() -> None:
    read = label.line_reader(io.StringIO("e\r\nweak note\n"))
    assert read(False) == "e"
    assert read(True) == "weak note"
    with pytest.raises(EOFError):
        read(False)


def test_terminal_reader_reads_keys_and_restores_the_terminal() -> None:
    termios = pytest.importorskip("termios")
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    stream = os.fdopen(slave, "r", encoding="utf-8")
    try:
        before = termios.tcgetattr(slave)
        with label.terminal_reader(stream) as read:
            during = termios.tcgetattr(slave)
            assert not during[3] & (termios.ICANON | termios.ECHO)
            assert during[3] & termios.ISIG  # Ctrl-C still raises KeyboardInterrupt
            os.write(master, b"rm")
            assert (read(False), read(False)) == ("r", "m")  # no Enter, nothing flushed
            os.write(master, b"weak note\n")
            assert read(True) == "weak note"
            assert termios.tcgetattr(slave) == during
            os.write(master, b"\x04")
            with pytest.raises(EOFError):
                read(False)
        assert termios.tcgetattr(slave) == before
        with pytest.raises(RuntimeError), label.terminal_reader(stream):
            raise RuntimeError
        assert termios.tcgetattr(slave) == before
    finally:
        stream.close()
        os.close(master)


def test_piped_input_is_read_line_by_line() -> None:
    with label.terminal_reader(io.StringIO("e\n")) as read:
        assert read(False) == "e"


# ---------------------------------------------------------------- the command


def label_args(labels_path: Path, *extra: str) -> list[str]:
    return ["label", "--annotator", "amal", "--statements", str(FIXTURES / "statements.csv"),
            "--labels", str(labels_path), *extra]


def test_cli_label_with_piped_keys_and_resume(labels_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("e\nx\ns\nn\nweak\nr\nu\nm\nq\n"))
    assert cli.main(label_args(labels_path)) == 0
    out = capsys.readouterr().out
    assert "[1 of 6] t01" in out and label.HELP in out
    assert "2 labelled, 1 skipped this session; 4 left for amal" in out
    assert saved(labels_path) == [("t01", "amal", "escalatory"), ("t03", "amal", "mixed")]
    assert store.read_labels(labels_path)["note"].tolist() == ["", ""]  # undo dropped the note

    monkeypatch.setattr(sys, "stdin", io.StringIO("r\n"))  # end of input acts as q
    assert cli.main(label_args(labels_path)) == 0
    out = capsys.readouterr().out
    assert "[1 of 4] t02" in out
    assert "1 labelled, 0 skipped this session; 3 left for amal" in out
    assert saved(labels_path)[-1] == ("t02", "amal", "restraining")


def test_cli_label_ctrl_c(labels_path, monkeypatch, capsys) -> None:
    reader = script(["e", "r"], KeyboardInterrupt)
    monkeypatch.setattr(label, "terminal_reader", lambda _stream: nullcontext(reader))
    assert cli.main(label_args(labels_path)) == 130
    captured = capsys.readouterr()
    assert "2 labelled" in captured.out and "interrupted" in captured.err
    assert len(saved(labels_path)) == 2


def test_cli_label_uncertain_without_model(labels_path, tmp_path, capsys) -> None:
    code = cli.main(label_args(labels_path, "--order", "uncertain",
                               "--model", str(tmp_path / "none.joblib")))
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "no model yet" in err


def test_cli_label_uncertain_with_model(labels_path, tmp_path, monkeypatch) -> None:
    model_path = tmp_path / "model.joblib"
    joblib.dump(tiny_model(), model_path)
    fake = types.ModuleType("signals.model")
    fake.load_model = joblib.load
    monkeypatch.setitem(sys.modules, "signals.model", fake)
    monkeypatch.setattr(sys, "stdin", io.StringIO("e\n"))
    args = label_args(labels_path, "--order", "uncertain", "--model", str(model_path))
    assert cli.main(args) == 0
    statements = store.read_statements(FIXTURES / "statements.csv")
    confidence = tiny_model().predict_proba(statements["text"].tolist()).max(axis=1)
    least_confident = statements["id"][confidence.argmin()]
    assert saved(labels_path) == [(least_confident, "amal", "escalatory")]


def test_cli_label_reports_a_bad_labels_file(labels_path, monkeypatch, capsys) -> None:
    labels_path.parent.mkdir(parents=True)
    labels_path.write_text("statement_id,label,annotator,labelled_at,note\nt99,mixed,amal,,\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO("e\n"))
    assert cli.main(label_args(labels_path)) == 1
    assert capsys.readouterr().err == (
        f"signals: error: {labels_path}:2: unknown statement id 't99'\n"
    )


def test_cli_label_missing_statements(tmp_path, capsys) -> None:
    code = cli.main(["label", "--annotator", "amal", "--statements", str(tmp_path / "no.csv"),
                     "--labels", str(tmp_path / "labels.csv")])
    assert code == 1
    assert "run `signals extract` first" in capsys.readouterr().err


@pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")
def test_killed_session_loses_no_label(labels_path) -> None:
    """A session killed with SIGKILL (no cleanup at all) keeps every label already answered."""
    code = (
        "import sys; from signals import cli; "
        f"sys.exit(cli.main({label_args(labels_path)!r}))"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        process.stdin.write("e\nm\n")
        process.stdin.flush()
        deadline = time.monotonic() + 20
        while len(saved(labels_path)) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert saved(labels_path) == [("t01", "amal", "escalatory"), ("t02", "amal", "mixed")]


def test_undo_in_one_session_never_drops_labels_another_session_appends(
        tmp_path, beside_a_labelling_session) -> None:
    """Two sessions on one labels file: one appends 300 labels while the other labels and
    undoes 100 times. Undo rewrites the file; the lock keeps every appended row."""
    path = tmp_path / "labels.csv"
    store.append_label(path, {"statement_id": "s0", "label": "mixed", "annotator": "seed",
                              "labelled_at": "2026-01-01T00:00:00+00:00", "note": ""})
    undoer = (
        "import sys\nfrom signals import label, store\n"
        "for i in range(100):\n"
        "    store.append_label(sys.argv[1], {'statement_id': f'b{i}', 'label': 'mixed',"
        " 'annotator': 'bo', 'labelled_at': '2026-01-01T00:00:00+00:00', 'note': ''})\n"
        "    label.remove_label(sys.argv[1], f'b{i}', 'bo')\n"
    )
    beside_a_labelling_session(path, undoer)
    rows = pd.read_csv(path, dtype=str)
    assert sorted(rows.loc[rows["annotator"] == "ana", "statement_id"]) == \
        sorted(f"a{i}" for i in range(300))
    assert not (rows["annotator"] == "bo").any()
    assert len(rows) == 301
