"""The project's tables on disk: read with validation, write atomically, append safely.

Two tables carry the project's data (columns documented in README.md):
- the statements table (`labels/statements.csv`): one row per statement, article or exemplar;
- the labels table (`labels/labels.csv`): one row per annotation.

Every read validates and names the file and line of the first problem; every write goes to a
temporary file that is renamed over the target, so an interrupted write never loses rows.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from signals import LABELS
from signals.errors import SignalsError, where
from signals.records import csv_rows

STATEMENT_COLUMNS = [
    "id", "text", "speaker", "group", "date", "source", "start", "end", "context", "origin",
]
LABEL_COLUMNS = ["statement_id", "label", "annotator", "labelled_at", "note"]
ORIGINS = ("article", "exemplar", "user")

DEFAULT_STATEMENTS = Path("labels/statements.csv")
DEFAULT_LABELS = Path("labels/labels.csv")


# ---------------------------------------------------------------- raw text


def read_text(path: Path) -> str:
    """Read a UTF-8 text file, refusing binary, non-UTF-8 and empty files with a clear message."""
    path = Path(path)
    if not path.exists():
        raise SignalsError(f"{path}: no such file")
    if path.is_dir():
        raise SignalsError(f"{path}: is a folder, expected a file")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise SignalsError(f"{path}: binary file, expected UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SignalsError(
            f"{path}: not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8"
        ) from None
    if not text.strip():
        raise SignalsError(f"{path}: empty file")
    return text


# ---------------------------------------------------------------- atomic writes


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file and a rename: all or nothing."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename: all or nothing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes files private; tables and reports are shared
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def rows_to_csv(rows: Iterable[dict], columns: list[str]) -> str:
    """Render dict rows as CSV text with exactly `columns`, in order."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: _cell(row.get(column, "")) for column in columns})
    return buffer.getvalue()


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


# ---------------------------------------------------------------- CSV reading


def read_csv_rows(path: Path, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    """Parse a CSV file into (line number, row) pairs, checking header and field counts."""
    text = read_text(path)
    return list(csv_rows(io.StringIO(text, newline=""), path, required))


# ---------------------------------------------------------------- statements


def read_statements(path: Path = DEFAULT_STATEMENTS, missing_ok: bool = False) -> pd.DataFrame:
    """Load and validate the statements table; an absent file is an empty table if `missing_ok`."""
    path = Path(path)
    if missing_ok and not path.exists():
        return pd.DataFrame(columns=STATEMENT_COLUMNS)
    rows = read_csv_rows(path, STATEMENT_COLUMNS)
    seen: dict[str, int] = {}
    for line, row in rows:
        if not row["id"].strip():
            raise SignalsError(f"{where(path, line)}: empty statement id")
        if not row["text"].strip():
            raise SignalsError(f"{where(path, line)}: statement {row['id']} has no text")
        if row["id"] in seen:
            raise SignalsError(
                f"{where(path, line)}: duplicate statement id {row['id']} "
                f"(first at line {seen[row['id']]})"
            )
        if row["origin"] not in ORIGINS:
            raise SignalsError(
                f"{where(path, line)}: unknown origin {row['origin']!r} "
                f"(expected one of {', '.join(ORIGINS)})"
            )
        seen[row["id"]] = line
    frame = pd.DataFrame([row for _, row in rows], columns=None)
    if frame.empty:
        return pd.DataFrame(columns=STATEMENT_COLUMNS)
    return frame


def merge_statements(path: Path, new_rows: list[dict]) -> tuple[int, int]:
    """Add rows whose id is new to the statements table; existing rows are never changed.

    Returns (added, already present). The table is rewritten atomically.
    """
    path = Path(path)
    existing = read_statements(path, missing_ok=True)
    known = set(existing["id"])
    added = []
    for row in new_rows:
        if row["id"] in known:
            continue
        known.add(row["id"])
        added.append(row)
    if added or not path.exists():
        rows = existing.to_dict("records") + added
        atomic_write_text(path, rows_to_csv(rows, STATEMENT_COLUMNS))
    return len(added), len(new_rows) - len(added)


# ---------------------------------------------------------------- labels


def read_labels(
    path: Path = DEFAULT_LABELS, statement_ids: set[str] | None = None, missing_ok: bool = False
) -> pd.DataFrame:
    """Load and validate the labels table against the known statement ids."""
    path = Path(path)
    # A process killed between creating the file and its first write leaves it empty.
    if missing_ok and (not path.exists() or path.stat().st_size == 0):
        return pd.DataFrame(columns=LABEL_COLUMNS)
    rows = read_csv_rows(path, LABEL_COLUMNS)
    seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        if row["label"] not in LABELS:
            raise SignalsError(
                f"{where(path, line)}: unknown label {row['label']!r} "
                f"(expected one of {', '.join(LABELS)})"
            )
        if not row["annotator"].strip():
            raise SignalsError(f"{where(path, line)}: empty annotator")
        if statement_ids is not None and row["statement_id"] not in statement_ids:
            raise SignalsError(f"{where(path, line)}: unknown statement id {row['statement_id']!r}")
        key = (row["statement_id"], row["annotator"])
        if key in seen:
            raise SignalsError(
                f"{where(path, line)}: statement {key[0]} labelled twice by {key[1]} "
                f"(first at line {seen[key]})"
            )
        seen[key] = line
    if not rows:
        return pd.DataFrame(columns=LABEL_COLUMNS)
    return pd.DataFrame([row for _, row in rows])


@contextmanager
def labels_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on a labels file while it is appended to or rewritten.

    Two labelling sessions may share one file: an undo (read, then rewrite) must not drop a row
    another session appends meanwhile. The lock is advisory, on a sibling `.lock` file, and
    a no-op where `fcntl` does not exist (Windows).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Linux or macOS
        yield
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def append_label(path: Path, row: dict) -> None:
    """Append one annotation durably: a single write of one line, flushed to disk at once.

    The row follows the file's own header, so a hand-edited file with reordered or extra
    columns stays aligned.
    """
    with labels_lock(path):
        _append_line(Path(path), row)


def _append_line(path: Path, row: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    new_file = not path.exists() or path.stat().st_size == 0
    columns = LABEL_COLUMNS
    if not new_file:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
        if header:
            columns = [name.strip() for name in header]
    text = rows_to_csv([row], columns)
    if not new_file:
        text = text.split("\n", 1)[1]
        with open(path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                text = "\n" + text
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def final_labels(labels: pd.DataFrame) -> pd.DataFrame:
    """One row per statement: the majority label, the vote count, and whether it is a tie.

    Ties are reported (`tie` True, `label` empty), never guessed.
    """
    records = []
    for statement_id, group in labels.groupby("statement_id", sort=False):
        counts = Counter(group["label"]).most_common()
        top_votes = counts[0][1]
        leaders = [label for label, votes in counts if votes == top_votes]
        tie = len(leaders) > 1
        records.append(
            {
                "statement_id": statement_id,
                "label": "" if tie else leaders[0],
                "votes": top_votes,
                "annotations": len(group),
                "tie": tie,
                "weak": any("weak" in str(note).lower() for note in group["note"]),
            }
        )
    return pd.DataFrame(
        records, columns=["statement_id", "label", "votes", "annotations", "tie", "weak"]
    )


# ---------------------------------------------------------------- labelled data for training


def labelled_statements(
    statements_path: Path = DEFAULT_STATEMENTS, labels_path: Path = DEFAULT_LABELS
) -> pd.DataFrame:
    """Statements joined with their final (majority) label; ties and unlabelled rows left out."""
    statements = read_statements(statements_path)
    labels = read_labels(labels_path, statement_ids=set(statements["id"]))
    finals = final_labels(labels)
    finals = finals[~finals["tie"]]
    joined = statements.merge(finals, left_on="id", right_on="statement_id", how="inner")
    return joined.drop(columns=["statement_id"]).reset_index(drop=True)
