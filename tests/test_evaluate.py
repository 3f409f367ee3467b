"""Metrics for a labelled set: the bootstrap intervals equal scoring the resampled statements."""

from __future__ import annotations

import numpy as np

from signals.evaluate import bootstrap_intervals, format_metrics


def test_bootstrap_rounds_equal_the_metrics_of_the_resampled_statements():
    """Each round weighs statements by how often they were drawn: it must equal scoring the draw."""
    from sklearn.metrics import f1_score, roc_auc_score

    rng = np.random.default_rng(3)
    classes = ["escalatory", "restraining", "mixed"]
    truth = rng.choice(classes, size=40, p=[0.6, 0.3, 0.1])
    predicted = np.where(rng.random(40) < 0.7, truth, rng.choice(classes, size=40))
    probabilities = rng.dirichlet([1, 1, 1], size=40)
    for seed in range(5):
        drawn = np.random.default_rng(seed).multinomial(40, np.full(40, 1 / 40), size=1)[0]
        rows = np.repeat(np.arange(40), drawn)
        intervals = bootstrap_intervals(truth, predicted, probabilities, classes, rounds=1,
                                        seed=seed)
        f1 = f1_score(truth[rows], predicted[rows], labels=classes, average="macro",
                      zero_division=0)
        assert intervals["macro_f1"] == [round(f1, 4)] * 2
        pure = np.isin(truth[rows], ["escalatory", "restraining"])
        tone = probabilities[rows, 0] - probabilities[rows, 1]
        auc = roc_auc_score(truth[rows][pure] == "escalatory", tone[pure])
        assert intervals["tone_auc"] == [round(auc, 4)] * 2


def test_interval_is_printed_with_the_metrics_and_brackets_the_figure():
    from signals.evaluate import classification_metrics, probability_metrics

    truth = ["escalatory"] * 6 + ["restraining"] * 3 + ["mixed"]
    predicted = ["escalatory"] * 5 + ["restraining"] * 3 + ["escalatory", "mixed"]
    probabilities = np.array([[0.8, 0.1, 0.1]] * 5 + [[0.2, 0.7, 0.1]] * 4 + [[0.3, 0.2, 0.5]])
    metrics = classification_metrics(truth, predicted)
    metrics.update(probability_metrics(truth, probabilities, ["escalatory", "restraining", "mixed"]))
    metrics["intervals"] = bootstrap_intervals(truth, predicted, probabilities,
                                               ["escalatory", "restraining", "mixed"])
    low, high = metrics["intervals"]["macro_f1"]
    assert low <= metrics["macro_f1"] <= high and low < high
    assert "bootstrap 95 % interval: macro-F1" in format_metrics(metrics)


def test_bootstrap_in_small_blocks_gives_the_same_intervals(monkeypatch):
    """Large files are resampled a block of rounds at a time: the blocks must not change the draw."""
    from signals import evaluate

    rng = np.random.default_rng(5)
    classes = ["escalatory", "restraining", "mixed"]
    truth = rng.choice(classes, size=60, p=[0.6, 0.3, 0.1])
    predicted = np.where(rng.random(60) < 0.7, truth, rng.choice(classes, size=60))
    probabilities = rng.dirichlet([1, 1, 1], size=60)
    whole = bootstrap_intervals(truth, predicted, probabilities, classes, rounds=50)
    monkeypatch.setattr(evaluate, "_BOOTSTRAP_CELLS", 60 * 7)
    assert bootstrap_intervals(truth, predicted, probabilities, classes, rounds=50) == whole
