"""Exact explanations of the linear model, in the statement's own words.

For a linear model the decision function of class c is  Σ_j x_j · w_cj + b_c.  Every term
x_j · w_cj belongs to one feature j, and every feature was fired by one or more spans of the
statement (see signals.features). A feature's term is shared equally among its spans, and the
terms of one span are summed: the phrases' contributions plus the intercept then equal the
decision function exactly, for every class.

All of it is computed for a whole batch at once with numpy, so explaining costs little more than
predicting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.pipeline import Pipeline

from signals.features import Analysis


@dataclass
class BatchExplanation:
    """Per-span contributions for a batch: row `i` of `spans`/`weights` lists statement i's."""

    classes: list[str]
    intercept: np.ndarray           # (classes,)
    decision: np.ndarray            # (statements, classes)
    probabilities: np.ndarray       # (statements, classes)
    labels: np.ndarray              # (statements,) the classifier's decision rule applied
    spans: list[np.ndarray]         # per statement: (phrases, 2) start, end
    weights: list[np.ndarray]       # per statement: (phrases, classes) contributions
    known_terms: np.ndarray         # distinct words of the statement the model has a weight for
    words: np.ndarray               # distinct words of the statement
    explicit_cues: np.ndarray       # explicit threat/claim/restraint/... cue features fired


def explain_batch(model: Pipeline, analyses: list[Analysis]) -> BatchExplanation:
    """Probabilities and exact per-phrase contributions for already-analysed statements."""
    vectorizer = model.named_steps["features"]
    classifier = model.named_steps["classify"]
    vocabulary = vectorizer.vocabulary_
    matrix = sparse.csr_matrix(vectorizer.transform(analyses))
    decision = np.asarray(matrix @ classifier.coef_.T) + classifier.intercept_
    probabilities = classifier.predict_proba(matrix)
    labels = classifier.labels_from_proba(probabilities)
    coef = classifier.coef_  # (classes, features)

    doc_ids, feature_ids, starts, ends = [], [], [], []
    known = np.zeros(len(analyses), dtype=np.int64)
    words = np.zeros(len(analyses), dtype=np.int64)
    cues = np.zeros(len(analyses), dtype=np.int64)
    for row, analysis in enumerate(analyses):
        unigrams = set(analysis.features[:analysis.words])
        words[row] = len(unigrams)
        known[row] = sum(1 for feature in unigrams if feature in vocabulary)
        for feature, (start, end) in zip(analysis.features, analysis.spans):
            index = vocabulary.get(feature)
            if index is None:
                continue
            doc_ids.append(row)
            feature_ids.append(index)
            starts.append(start)
            ends.append(end)
            if feature.startswith("cue:") and feature not in _IMPLICIT_CUES:
                cues[row] += 1

    doc = np.asarray(doc_ids, dtype=np.int64)
    feat = np.asarray(feature_ids, dtype=np.int64)
    start = np.asarray(starts, dtype=np.int64)
    end = np.asarray(ends, dtype=np.int64)
    n_classes = coef.shape[0]
    if len(doc) == 0:
        empty_spans = [np.zeros((0, 2), dtype=np.int64)] * len(analyses)
        empty_weights = [np.zeros((0, n_classes))] * len(analyses)
        return BatchExplanation(list(classifier.classes_), classifier.intercept_, decision,
                                probabilities, labels, empty_spans, empty_weights, known, words, cues)

    # x value of each occurrence's (statement, feature), and how many spans share it.
    n_features = matrix.shape[1]
    keys = doc * n_features + feat
    unique_keys, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    coo = matrix.tocoo()
    matrix_keys = coo.row.astype(np.int64) * n_features + coo.col
    order = np.argsort(matrix_keys)
    position = np.searchsorted(matrix_keys[order], unique_keys)
    values = coo.data[order][position]
    share = (values / counts)[inverse]                     # (occurrences,)
    contribution = share[:, None] * coef[:, feat].T        # (occurrences, classes)

    # Sum contributions per (statement, span): those are the phrases.
    span_keys = np.stack([doc, start, end], axis=1)
    phrases, phrase_of = np.unique(span_keys, axis=0, return_inverse=True)
    phrase_of = phrase_of.reshape(-1)
    totals = np.zeros((len(phrases), n_classes))
    np.add.at(totals, phrase_of, contribution)
    bounds = np.searchsorted(phrases[:, 0], np.arange(len(analyses) + 1))
    spans = [phrases[bounds[i]:bounds[i + 1], 1:] for i in range(len(analyses))]
    weights = [totals[bounds[i]:bounds[i + 1]] for i in range(len(analyses))]
    return BatchExplanation(list(classifier.classes_), classifier.intercept_, decision,
                            probabilities, labels, spans, weights, known, words, cues)


# Cues that carry no explicit signal by themselves (codebook rule 6 territory).
_IMPLICIT_CUES = frozenset({"cue:conditional", "cue:grievance", "cue:glory", "cue:state"})
