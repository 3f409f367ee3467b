"""Add statements that did not come from an article: written exemplars or a user's own collection.

Input is a CSV with a `text` column and optionally speaker, group, date, source, label, note.
Statements go into the statements table (origin `exemplar` or `user`); when the file carries a
`label` column, each row's label is recorded as one annotation by the given annotator. Ids are
stable (a hash of origin and text), so adding the same file twice changes nothing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

from signals import LABELS
from signals.errors import SignalsError, where
from signals.store import (
    LABEL_COLUMNS,
    atomic_write_text,
    labels_lock,
    merge_statements,
    read_csv_rows,
    read_labels,
    read_statements,
    rows_to_csv,
)


def statement_id(origin: str, text: str) -> str:
    """Stable id: the same text of the same origin always gets the same id."""
    prefix = {"exemplar": "x", "user": "u"}.get(origin, "s")
    return prefix + hashlib.sha1(f"{origin}\n{text.strip()}".encode()).hexdigest()[:11]


def read_additions(path: Path, origin: str) -> list[tuple[int, dict]]:
    """Rows of the file as statement rows (with label and note kept aside), validated."""
    rows = read_csv_rows(path, ["text"])
    if not rows:
        raise SignalsError(f"{path}: no statements")
    additions = []
    for line, row in rows:
        text = row["text"].strip()
        if not text:
            raise SignalsError(f"{where(path, line)}: empty text")
        label = row.get("label", "").strip()
        if label and label not in LABELS:
            raise SignalsError(f"{where(path, line)}: unknown label {label!r} "
                               f"(expected one of {', '.join(LABELS)})")
        date = row.get("date", "").strip()
        if date:
            try:
                datetime.strptime(date, "%Y-%m-%d")
            except ValueError:
                raise SignalsError(f"{where(path, line)}: date {date!r} is not YYYY-MM-DD") from None
        additions.append((line, {
            "id": statement_id(origin, text),
            "text": text,
            "speaker": row.get("speaker", "").strip(),
            "group": row.get("group", "").strip(),
            "date": date,
            "source": row.get("source", "").strip() or f"{origin}:{Path(path).stem}",
            "start": "", "end": "", "context": "",
            "origin": origin,
            "label": label,
            "note": row.get("note", "").strip(),
        }))
    return additions


def add_statements(path: Path, statements_path: Path, labels_path: Path, origin: str,
                   annotator: str | None) -> dict:
    """Merge the file's statements (and labels, with an annotator) into the project's tables."""
    if origin not in ("exemplar", "user"):
        raise SignalsError(f"origin must be exemplar or user, not {origin!r}")
    additions = read_additions(path, origin)
    labelled = [row for _, row in additions if row["label"]]
    if labelled and not annotator:
        raise SignalsError(f"{path} has labels: say who gave them with --annotator NAME")
    added, present = merge_statements(statements_path, [row for _, row in additions])
    new_labels = 0
    if labelled:
        ids = set(read_statements(statements_path)["id"])
        with labels_lock(labels_path):  # a labelling session may append while we rewrite
            existing = read_labels(labels_path, statement_ids=ids, missing_ok=True)
            done = set(zip(existing["statement_id"], existing["annotator"]))
            stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
            fresh = [{"statement_id": row["id"], "label": row["label"], "annotator": annotator,
                      "labelled_at": stamp, "note": row["note"]}
                     for row in labelled if (row["id"], annotator) not in done]
            if fresh:
                rows = existing.to_dict("records") + fresh
                atomic_write_text(labels_path, rows_to_csv(rows, LABEL_COLUMNS))
        new_labels = len(fresh)
    return {"added": added, "present": present, "labels": new_labels}
