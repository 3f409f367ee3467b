"""Users' own files for scoring and evaluation: streamed, validated, and free of pandas.

CSV (with a header), JSONL (one object per line) or plain text (one statement per line). Rows are
yielded lazily so batch scoring memory does not grow with the input, and nothing here imports
pandas, so `signals score` starts fast.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from signals.errors import SignalsError, where


def iter_records(path: Path, require: tuple[str, ...] = ("text",)) -> Iterator[dict]:
    """Stream dict rows from a CSV, JSONL or plain-text file (one statement per line).

    Rows are yielded lazily so batch scoring memory does not grow with the input.
    """
    path = Path(path)
    if not path.exists():
        raise SignalsError(f"{path}: no such file")
    if path.is_dir():
        raise SignalsError(f"{path}: is a folder, expected a file")
    suffix = path.suffix.lower()
    with open(path, "rb") as probe:
        head = probe.read(8192)
    if b"\x00" in head:
        raise SignalsError(f"{path}: binary file, expected UTF-8 text")
    if not head.strip():
        raise SignalsError(f"{path}: empty file")
    try:
        if suffix == ".csv":
            yield from _iter_csv(path, require)
        elif suffix in (".jsonl", ".ndjson", ".json"):
            yield from _iter_jsonl(path, require)
        else:
            yield from _iter_lines(path)
    except UnicodeDecodeError as exc:
        raise SignalsError(f"{path}: not valid UTF-8 (byte {exc.start}); re-save as UTF-8") from None


def _iter_csv(path: Path, require: tuple[str, ...]) -> Iterator[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for _, row in csv_rows(handle, path, require):
            yield row


def csv_rows(handle: Iterable[str], path: Path, require: Iterable[str]
             ) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) pairs of a CSV stream: header checked, field counts checked."""
    reader = csv.reader(handle)
    try:
        header = [name.strip() for name in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise SignalsError(f"{where(path, 1)}: malformed CSV header ({exc})") from None
    missing = [name for name in require if name not in header]
    if missing:
        raise SignalsError(f"{where(path, 1)}: missing column(s) {', '.join(missing)}")
    try:
        for fields in reader:
            if not fields or all(not field.strip() for field in fields):
                continue
            if len(fields) != len(header):
                raise SignalsError(
                    f"{where(path, reader.line_num)}: malformed row: {len(fields)} fields, "
                    f"expected {len(header)}"
                )
            yield reader.line_num, dict(zip(header, fields))
    except csv.Error as exc:
        raise SignalsError(f"{where(path, reader.line_num)}: malformed CSV ({exc})") from None


def _iter_jsonl(path: Path, require: tuple[str, ...]) -> Iterator[dict]:
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json_object(line)
            except BadLine as exc:
                raise SignalsError(f"{where(path, number)}: {exc}") from None
            missing = [name for name in require if name not in record]
            if missing:
                raise SignalsError(f"{where(path, number)}: missing key(s) {', '.join(missing)}")
            yield record


class BadLine(ValueError):
    """A line that is not one JSON object; the caller says where it was."""


def json_object(line: str | bytes) -> dict:
    """One JSON-lines record, or BadLine with the reason."""
    try:
        record = json.loads(line.decode("utf-8-sig") if isinstance(line, bytes) else line)
    except UnicodeDecodeError as exc:
        raise BadLine(f"not valid UTF-8 (byte {exc.start} of the line); re-save as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BadLine(f"malformed JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise BadLine("expected a JSON object per line")
    return record


def _iter_lines(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8-sig") as handle:
        for line in handle:
            if line.strip():
                yield {"text": line.strip()}
