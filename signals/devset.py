"""Where the real development set lives, and how to read it. Evaluation only: never trained on.

The set sits beside the checkout in `../shared/devset/` (or wherever SIGNALS_DEVSET points). The
project never depends on it at run time: every caller copes with its absence.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from signals.store import read_csv_rows

REPO = Path(__file__).resolve().parents[1]


def devset_dir() -> Path | None:
    """The dev set folder, or None when it is not on this machine."""
    configured = os.environ.get("SIGNALS_DEVSET")
    folder = Path(configured) if configured else REPO.parent / "shared" / "devset"
    return folder if (folder / "real_dev.csv").exists() else None


def load_dev_statements(folder: Path | None = None) -> pd.DataFrame | None:
    """The labelled real statements (id, text, speaker, group, date, label, votes), or None."""
    folder = folder or devset_dir()
    if folder is None:
        return None
    rows = read_csv_rows(folder / "real_dev.csv", ["text", "label"])
    return pd.DataFrame([row for _, row in rows])
