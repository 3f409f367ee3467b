"""Agreement among annotators: how far they agree beyond chance, on what, and where they do not.

Pure computation on the labels table (and the statements table for excerpts); the CLI prints.
Only statements labelled by two or more annotators say anything about agreement.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import pandas as pd

from signals import LABELS
from signals.errors import SignalsError
from signals.store import final_labels

EXCERPT_CHARS = 80


def cohen_kappa(first: Sequence[Hashable], second: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two annotators over the same items; None when chance agreement is total.

    Kappa is undefined when both annotators gave every item the same single label.
    """
    if len(first) != len(second) or not first:
        raise ValueError("cohen_kappa needs two equally long, non-empty label sequences")
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    counts_first, counts_second = Counter(first), Counter(second)
    expected = sum(counts_first[c] * counts_second[c] for c in counts_first) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def coincidences(units: Iterable[Iterable[Hashable]]) -> Counter[tuple[Hashable, Hashable]]:
    """Krippendorff's coincidences: ordered pairs of values within a unit, each weighted 1/(m-1).

    Units with fewer than two values cannot be paired and are left out.
    """
    matrix: Counter[tuple[Hashable, Hashable]] = Counter()
    for unit in units:
        values = Counter(unit)
        m = sum(values.values())
        if m < 2:
            continue
        for c, n_c in values.items():
            for k, n_k in values.items():
                pairs = n_c * (n_k - 1) if c == k else n_c * n_k
                if pairs:
                    matrix[c, k] += pairs / (m - 1)
    return matrix


def krippendorff_alpha_nominal(units: Iterable[Iterable[Hashable]]) -> float | None:
    """Krippendorff's alpha for nominal values: 1 - (n-1) · Σ o_ck / Σ n_c·n_k over c ≠ k.

    Each unit is the values its annotators gave (missing ones simply absent). None when only one
    value occurs at all, where expected disagreement is zero and alpha undefined.
    """
    matrix = coincidences(units)
    totals: Counter[Hashable] = Counter()
    for (c, _), weight in matrix.items():
        totals[c] += weight
    n = sum(totals.values())
    observed = sum(weight for (c, k), weight in matrix.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
    if expected == 0:
        return None
    return 1 - (n - 1) * observed / expected


@dataclass
class Agreement:
    """Agreement over the statements that two or more annotators labelled."""

    annotators: list[str]
    statements: int
    alpha: float | None
    pairs: pd.DataFrame
    confusion: pd.DataFrame
    disagreements: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """A JSON-ready dict (undefined kappa or alpha become None)."""
        pairs = [
            {key: (None if pd.isna(value) else value) for key, value in record.items()}
            for record in self.pairs.to_dict("records")
        ]
        return {
            "annotators": self.annotators,
            "statements_compared": self.statements,
            "krippendorff_alpha_nominal": self.alpha,
            "pairs": pairs,
            "confusion": {
                "labels": list(self.confusion.index),
                "counts": self.confusion.to_numpy().tolist(),
            },
            "disagreements": self.disagreements,
        }


def _excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def agreement(labels: pd.DataFrame, statements: pd.DataFrame | None = None) -> Agreement:
    """Kappa per pair, alpha overall, pooled confusion and the disagreements to adjudicate.

    The confusion matrix counts pairs of annotations of the same statement: a pair labelled x
    and y adds one to (x, y) and one to (y, x); an agreeing pair adds one to (x, x).
    """
    duplicated = labels.duplicated(["statement_id", "annotator"])
    if duplicated.any():
        first = labels[duplicated].iloc[0]
        raise SignalsError(
            f"statement {first['statement_id']} labelled twice by {first['annotator']}"
        )
    annotators = sorted(labels["annotator"].unique())
    per_statement = labels.groupby("statement_id", sort=False)["annotator"].transform("size")
    shared = labels[per_statement >= 2]
    categories = list(LABELS) + sorted(set(labels["label"]) - set(LABELS))

    wide = shared.pivot(index="statement_id", columns="annotator", values="label")
    pair_rows = []
    for a, b in combinations(sorted(wide.columns), 2):
        both = wide[[a, b]].dropna()
        if both.empty:
            continue
        pair_rows.append(
            {
                "annotator_a": a,
                "annotator_b": b,
                "statements": len(both),
                "agreement": float((both[a] == both[b]).mean()),
                "kappa": cohen_kappa(list(both[a]), list(both[b])),
            }
        )
    pairs = pd.DataFrame(
        pair_rows, columns=["annotator_a", "annotator_b", "statements", "agreement", "kappa"]
    )

    confusion = pd.DataFrame(0, index=categories, columns=categories)
    texts = {} if statements is None else dict(
        zip(statements["id"], statements["text"], strict=True)
    )
    finals = final_labels(shared).set_index("statement_id") if len(shared) else None
    disagreements = []
    groups = shared.groupby("statement_id", sort=False)
    for statement_id, group in groups:
        for x, y in combinations(group["label"], 2):
            confusion.loc[x, y] += 1
            if x != y:
                confusion.loc[y, x] += 1
        if group["label"].nunique() > 1:
            final = finals.loc[statement_id]
            disagreements.append(
                {
                    "statement_id": statement_id,
                    "excerpt": _excerpt(texts.get(statement_id, "")),
                    "labels": dict(zip(group["annotator"], group["label"], strict=True)),
                    "majority": final["label"],
                    "tie": bool(final["tie"]),
                }
            )
    return Agreement(
        annotators=annotators,
        statements=groups.ngroups,
        alpha=krippendorff_alpha_nominal(group["label"] for _, group in groups),
        pairs=pairs,
        confusion=confusion,
        disagreements=disagreements,
    )
