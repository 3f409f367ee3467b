"""The labelling session: one statement at a time, one key per answer, every answer saved at once.

The session is a plain class driven by two callables, `read` (one key, or one line of text when
asked) and `write` (show text), so the CLI can plug in a raw terminal and tests a script. Each
label goes to disk the moment it is given (store.append_label): quitting, Ctrl-C or a killed
process loses nothing, and the next session resumes with the statements still unlabelled.
Undo rewrites the labels file atomically without the undone row, since the file is append-only.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TextIO

import numpy as np
import pandas as pd

from signals import store
from signals.errors import SignalsError

KEYS = {"e": "escalatory", "r": "restraining", "m": "mixed"}
ORDERS = ("file", "random", "uncertain")
HELP = "keys: e escalatory · r restraining · m mixed · s skip · u undo · n note · q quit"
END_HELP = "end of the list: u undo the last label · q quit"
WIDTH = 100
CONTEXT_CHARS = 600

Reader = Callable[[bool], str]
"""`read(line)`: the next key, or a whole line of text when `line` is True; EOFError at the end."""
Writer = Callable[[str], None]


class Classifier(Protocol):
    """What `--order uncertain` needs from the trained model (an sklearn Pipeline)."""

    def predict_proba(self, texts: list[str]) -> np.ndarray: ...


# ---------------------------------------------------------------- which statements, in what order


def pending_statements(
    statements: pd.DataFrame, labels: pd.DataFrame, annotator: str
) -> pd.DataFrame:
    """Statements this annotator has not labelled yet, in table order: where a session resumes."""
    done = set(labels.loc[labels["annotator"] == annotator, "statement_id"])
    return statements[~statements["id"].isin(done)].reset_index(drop=True)


def uncertainty_order(statements: pd.DataFrame, model: Classifier) -> pd.DataFrame:
    """Least confident first (highest class probability ascending): those teach the model most."""
    if statements.empty:
        return statements
    confidence = np.asarray(model.predict_proba(statements["text"].tolist())).max(axis=1)
    order = np.argsort(confidence, kind="stable")
    return statements.iloc[order].reset_index(drop=True)


def session_queue(
    statements: pd.DataFrame,
    labels: pd.DataFrame,
    annotator: str,
    order: str = "file",
    seed: int = 0,
    model: Classifier | None = None,
) -> pd.DataFrame:
    """The statements a session will show, in the requested order.

    `random` shuffles the whole table with `seed` before leaving out labelled statements, so the
    order stays the same from one session to the next and resuming continues where it stopped.
    """
    if order not in ORDERS:
        raise SignalsError(f"unknown order {order!r} (expected one of {', '.join(ORDERS)})")
    if order == "random":
        statements = statements.sample(frac=1.0, random_state=seed)
    queue = pending_statements(statements, labels, annotator)
    if order == "uncertain":
        if model is None:
            raise SignalsError("--order uncertain needs a trained model")
        queue = uncertainty_order(queue, model)
    return queue


# ---------------------------------------------------------------- undo on an append-only file


def remove_label(path: Path, statement_id: str, annotator: str) -> None:
    """Rewrite the labels file atomically without one annotator's label of one statement.

    Every other row, and the file's own header, is kept as read; the file stays locked from the
    read to the rewrite, so a label another session appends meanwhile is not lost.
    """
    with store.labels_lock(path):
        rows = [row for _, row in store.read_csv_rows(path, store.LABEL_COLUMNS)]
        kept = [
            row for row in rows
            if not (row["statement_id"] == statement_id and row["annotator"] == annotator)
        ]
        if len(kept) == len(rows):
            raise SignalsError(f"{path}: no label of {statement_id} by {annotator} to undo")
        store.atomic_write_text(path, store.rows_to_csv(kept, list(rows[0])))


# ---------------------------------------------------------------- the session


@dataclass
class SessionResult:
    """What a session did, for the closing summary."""

    labelled: int
    skipped: int
    remaining: int
    interrupted: bool = False


def _field(row: pd.Series, name: str) -> str:
    value = row.get(name, "")
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def format_statement(row: pd.Series, position: int, total: int) -> str:
    """The statement as the annotator sees it: progress, who said it, when, context, the words."""
    who = " · ".join(
        f"{name}: {_field(row, name) or '—'}" for name in ("speaker", "group", "date")
    )
    lines = [f"[{position} of {total}] {_field(row, 'id')}   {who}"]
    context = " ".join(_field(row, "context").split())
    if context:
        if len(context) > CONTEXT_CHARS:
            context = context[: CONTEXT_CHARS - 1] + "…"
        lines += textwrap.wrap(f"context: {context}", WIDTH, subsequent_indent="  ")
    text = " ".join(_field(row, "text").split())
    lines += textwrap.wrap(f"« {text} »", WIDTH, initial_indent="  ", subsequent_indent="    ")
    return "\n".join(lines)


class Session:
    """One annotator labelling a queue of statements with single keys (see HELP)."""

    def __init__(
        self,
        queue: pd.DataFrame,
        annotator: str,
        labels_path: Path,
        read: Reader,
        write: Writer,
    ) -> None:
        if not annotator.strip():
            raise SignalsError("the annotator name is empty")
        self.queue = queue.reset_index(drop=True)
        self.annotator = annotator.strip()
        self.labels_path = Path(labels_path)
        self.read = read
        self.write = write
        self.position = 0
        self.history: list[int] = []
        self.note = ""
        self.skipped = 0

    def run(self) -> SessionResult:
        """Show statements until the list ends or the annotator quits (q, end of input, Ctrl-C)."""
        interrupted = False
        if self.queue.empty:
            self.write(f"nothing left to label for {self.annotator}")
            return self._result(interrupted)
        self.write(HELP)
        self._show()
        try:
            while self._step():
                pass
        except KeyboardInterrupt:
            interrupted = True
        return self._result(interrupted)

    def _result(self, interrupted: bool) -> SessionResult:
        return SessionResult(
            labelled=len(self.history),
            skipped=self.skipped,
            remaining=len(self.queue) - len(self.history),
            interrupted=interrupted,
        )

    def _show(self) -> None:
        if self.position < len(self.queue):
            row = self.queue.iloc[self.position]
            self.write(format_statement(row, self.position + 1, len(self.queue)))
        else:
            self.write(END_HELP)

    def _step(self) -> bool:
        """Handle one key; False when the session should end."""
        try:
            key = self.read(False).strip().lower()
        except EOFError:
            return False
        at_end = self.position >= len(self.queue)
        if key == "q":
            return False
        if key == "u":
            self._undo()
        elif at_end:
            self.write(END_HELP)
        elif key in KEYS:
            self._label(KEYS[key])
        elif key == "s":
            self.skipped += 1
            self._advance(self.position + 1)
        elif key == "n":
            self.write("note (one line, Enter to finish):")
            try:
                self.note = " ".join(self.read(True).split())
            except EOFError:
                return False
            self.write(f"note kept for this statement's label: {self.note or '(none)'}")
        else:
            self.write(HELP)
        return True

    def _label(self, label: str) -> None:
        statement_id = _field(self.queue.iloc[self.position], "id")
        store.append_label(
            self.labels_path,
            {
                "statement_id": statement_id,
                "label": label,
                "annotator": self.annotator,
                "labelled_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "note": self.note,
            },
        )
        self.history.append(self.position)
        self.write(f"→ {statement_id}: {label}" + (f" (note: {self.note})" if self.note else ""))
        self._advance(self.position + 1)

    def _undo(self) -> None:
        if not self.history:
            self.write("nothing to undo in this session")
            return
        position = self.history[-1]
        statement_id = _field(self.queue.iloc[position], "id")
        remove_label(self.labels_path, statement_id, self.annotator)
        self.history.pop()
        self.write(f"undone: label of {statement_id} removed")
        self._advance(position)

    def _advance(self, position: int) -> None:
        self.position = position
        self.note = ""
        self._show()


# ---------------------------------------------------------------- keyboard readers for the CLI


def line_reader(stream: TextIO) -> Reader:
    """Read one line per key (scripted or piped input); end of input ends the session."""

    def read(line: bool) -> str:
        text = stream.readline()
        if not text:
            raise EOFError
        return text.rstrip("\r\n")

    return read


@contextmanager
def terminal_reader(stream: TextIO) -> Iterator[Reader]:
    """Single keypresses on a terminal, line by line otherwise (so piped keystrokes work).

    On a terminal, the whole session runs without line buffering or echo, but with signals and
    output processing left alone: Ctrl-C still raises KeyboardInterrupt and printing is normal.
    Keys typed ahead are kept, not flushed. Notes are read as normal lines. The terminal's
    settings are restored on the way out, whatever happens.
    """
    read_line = line_reader(stream)
    if not stream.isatty():
        yield read_line
        return
    import termios

    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    keys = termios.tcgetattr(fd)
    keys[3] &= ~(termios.ICANON | termios.ECHO)
    keys[6][termios.VMIN], keys[6][termios.VTIME] = 1, 0

    def read(line: bool) -> str:
        if line:
            termios.tcsetattr(fd, termios.TCSANOW, saved)
            try:
                return read_line(True)
            finally:
                termios.tcsetattr(fd, termios.TCSANOW, keys)
        char = stream.read(1)
        if char in ("", "\x04"):  # Ctrl-D arrives as a character without line buffering
            raise EOFError
        return char

    termios.tcsetattr(fd, termios.TCSANOW, keys)
    try:
        yield read
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)
