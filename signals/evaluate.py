"""Metrics for a labelled set: what `evaluate`, `eval-real` and the model card report.

Kept apart from training so that a researcher can measure any model on fresh labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from signals import LABELS
from signals.errors import SignalsError
from signals.records import iter_records


def classification_metrics(truth: Sequence[str], predicted: Sequence[str]) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix."""
    truth, predicted = list(truth), list(predicted)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=list(LABELS), zero_division=0
    )
    matrix = confusion_matrix(truth, predicted, labels=list(LABELS))
    return {
        "n": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, labels=list(LABELS),
                                         average="macro", zero_division=0)), 4),
        "per_class": {
            label: {
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4),
                "support": int(support[i]),
            }
            for i, label in enumerate(LABELS)
        },
        "confusion": {
            "labels": list(LABELS),
            "matrix": matrix.tolist(),
        },
    }


def probability_metrics(truth: Sequence[str], probabilities: np.ndarray, classes: Sequence[str],
                        bins: int = 5) -> dict:
    """Tone AUC (escalatory vs restraining), multi-class Brier score and a reliability table."""
    truth = np.asarray(list(truth))
    classes = list(classes)
    esc, res = classes.index("escalatory"), classes.index("restraining")
    tone = probabilities[:, esc] - probabilities[:, res]
    pure = np.isin(truth, ["escalatory", "restraining"])
    auc = None
    if pure.any() and len(set(truth[pure])) == 2:
        auc = round(float(roc_auc_score(truth[pure] == "escalatory", tone[pure])), 4)
    onehot = np.stack([truth == label for label in classes], axis=1).astype(float)
    brier = float(np.mean(np.sum((probabilities - onehot) ** 2, axis=1)))
    confidence = probabilities.max(axis=1)
    correct = np.asarray(classes)[probabilities.argmax(axis=1)] == truth
    edges = np.linspace(1 / len(classes), 1.0, bins + 1)
    table = []
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence >= low) & ((confidence < high) | (high == edges[-1]))
        if inside.any():
            table.append({
                "bin": f"{low:.2f}-{high:.2f}",
                "n": int(inside.sum()),
                "mean_confidence": round(float(confidence[inside].mean()), 4),
                "accuracy": round(float(correct[inside].mean()), 4),
            })
    per_class_brier = {
        label: round(float(brier_score_loss(onehot[:, i], probabilities[:, i])), 4)
        for i, label in enumerate(classes)
    }
    return {"tone_auc": auc, "brier": round(brier, 4), "brier_per_class": per_class_brier,
            "reliability": table}


def bootstrap_intervals(truth: Sequence[str], predicted: Sequence[str], probabilities: np.ndarray,
                        classes: Sequence[str], rounds: int = 2000, seed: int = 0) -> dict:
    """95 % percentile intervals of macro-F1 and tone AUC over resamples of the statements.

    On a small labelled set one statement moves the figures by hundredths; the interval says how
    far they could move on another sample of the same size. Each round weighs every statement by
    how often it was drawn, so many rounds are computed at once, in blocks that keep memory
    bounded however large the labelled file is.
    """
    truth, predicted = np.asarray(list(truth)), np.asarray(list(predicted))
    labels, classes = list(LABELS), list(classes)
    n, k = len(truth), len(LABELS)
    cell = _indicator(np.array([labels.index(t) * k + labels.index(p)
                                for t, p in zip(truth, predicted)]), k * k)
    tone = (probabilities[:, classes.index("escalatory")]
            - probabilities[:, classes.index("restraining")])
    up, down = truth == "escalatory", truth == "restraining"
    # AUC = weighted share of (escalatory, restraining) pairs ordered right, ties count half;
    # with the tones ranked once, a round needs only weighted counts per distinct tone.
    ranks, rank = np.unique(tone[up | down], return_inverse=True)
    rank_of = np.zeros(n, dtype=np.int64)
    rank_of[up | down] = rank
    up_rank, down_rank = _indicator(rank_of[up], len(ranks)), _indicator(rank_of[down], len(ranks))

    rng = np.random.default_rng(seed)
    block = max(1, _BOOTSTRAP_CELLS // max(n, 1))
    f1, auc = [], []
    for start in range(0, rounds, block):
        weights = rng.multinomial(n, np.full(n, 1 / n), size=min(block, rounds - start))
        confusion = (weights @ cell).reshape(-1, k, k)
        hits = confusion[:, range(k), range(k)]
        both = confusion.sum(axis=1) + confusion.sum(axis=2)
        f1.append(np.divide(2 * hits, both, out=np.zeros_like(hits), where=both > 0).mean(axis=1))
        if up.any() and down.any():
            above, below = weights[:, up] @ up_rank, weights[:, down] @ down_rank
            ordered = (above * (np.cumsum(below, axis=1) - below + 0.5 * below)).sum(axis=1)
            pairs = above.sum(axis=1) * below.sum(axis=1)
            auc.append(ordered[pairs > 0] / pairs[pairs > 0])
    return {"rounds": rounds, "macro_f1": _percentiles(np.concatenate(f1)),
            "tone_auc": _percentiles(np.concatenate(auc)) if auc else None}


def _indicator(index: np.ndarray, width: int) -> sparse.csr_matrix:
    """One row per item with a 1 in column `index[i]`: weights @ it sums weights per column."""
    return sparse.csr_matrix((np.ones(len(index)), (np.arange(len(index)), index)),
                             shape=(len(index), width))


# Statement weights held at once by the bootstrap (rounds × statements), about 32 MB.
_BOOTSTRAP_CELLS = 4_000_000


def _percentiles(values: np.ndarray) -> list[float]:
    return [round(float(value), 4) for value in np.percentile(values, [2.5, 97.5])]


def format_metrics(metrics: dict) -> str:
    """Plain-text table of `classification_metrics` (plus AUC/Brier when present)."""
    lines = [f"n = {metrics['n']}   accuracy = {metrics['accuracy']:.3f}   "
             f"macro-F1 = {metrics['macro_f1']:.3f}"]
    if metrics.get("tone_auc") is not None:
        lines.append(f"tone AUC (escalatory vs restraining) = {metrics['tone_auc']:.3f}   "
                     f"Brier = {metrics['brier']:.3f}")
    if metrics.get("intervals"):
        intervals = metrics["intervals"]
        line = "bootstrap 95 % interval: macro-F1 {:.3f}-{:.3f}".format(*intervals["macro_f1"])
        if intervals["tone_auc"]:
            line += ", tone AUC {:.3f}-{:.3f}".format(*intervals["tone_auc"])
        lines.append(line + f" ({intervals['rounds']} resamples)")
    lines.append("")
    lines.append(f"{'class':<12} {'precision':>9} {'recall':>7} {'F1':>6} {'n':>5}")
    for label, row in metrics["per_class"].items():
        lines.append(f"{label:<12} {row['precision']:>9.3f} {row['recall']:>7.3f} "
                     f"{row['f1']:>6.3f} {row['support']:>5}")
    lines.append("")
    labels = metrics["confusion"]["labels"]
    lines.append("confusion (rows: truth, columns: predicted)")
    lines.append(" " * 12 + "".join(f"{label[:11]:>12}" for label in labels))
    for label, row in zip(labels, metrics["confusion"]["matrix"]):
        lines.append(f"{label:<12}" + "".join(f"{value:>12}" for value in row))
    return "\n".join(lines)


def evaluate_file(model, path) -> dict:
    """Metrics of the model on a labelled file (CSV or JSONL with `text` and `label`)."""
    texts, truth = [], []
    for number, record in enumerate(iter_records(path, require=("text", "label")), start=1):
        label = str(record["label"]).strip()
        if label not in LABELS:
            raise SignalsError(f"{path}: row {number}: unknown label {label!r} "
                               f"(expected one of {', '.join(LABELS)})")
        if not str(record["text"]).strip():
            raise SignalsError(f"{path}: row {number}: empty text")
        texts.append(str(record["text"]))
        truth.append(label)
    if not texts:
        raise SignalsError(f"{path}: no labelled statements")
    return model_metrics(model, texts, truth)


def model_metrics(model, texts: list[str], truth: Sequence[str]) -> dict:
    """Classification and probability metrics of a model on labelled texts."""
    raw = model.predict_proba(texts)
    predicted = model.named_steps["classify"].labels_from_proba(raw)
    proba = raw[:, [list(model.classes_).index(label) for label in LABELS]]
    metrics = classification_metrics(truth, predicted)
    metrics.update(probability_metrics(truth, proba, LABELS))
    metrics["intervals"] = bootstrap_intervals(truth, predicted, proba, LABELS)
    return metrics
