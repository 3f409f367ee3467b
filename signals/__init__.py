"""signals: extract, label, score and report the tone of Iran-aligned militia statements."""

from signals.errors import SignalsError

LABELS = ("escalatory", "restraining", "mixed")

__all__ = ["LABELS", "SignalsError"]
__version__ = "0.1.0"
