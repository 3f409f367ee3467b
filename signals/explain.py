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

import weakref
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from signals.features import Analysis
from signals.model import BlockTfidfVectorizer


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
    """Probabilities and exact per-phrase contributions for already-analysed statements.

    The statements' feature occurrences are looked up in the vocabulary once; the TF-IDF matrix
    and the contributions are both built from that one lookup (see `tfidf_from_counts`).
    """
    vectorizer = model.named_steps["features"]
    classifier = model.named_steps["classify"]
    vocabulary = vectorizer.vocabulary_
    n, n_features = len(analyses), len(vectorizer.idf_)
    lengths = np.fromiter((len(a.features) for a in analyses), np.int64, n)
    get = vocabulary.get
    feat = np.fromiter((get(f, -1) for a in analyses for f in a.features), np.int64,
                       int(lengths.sum()))
    spans = np.array([span for a in analyses for span in a.spans], dtype=np.int64).reshape(-1, 2)
    doc = np.repeat(np.arange(n), lengths)
    known_mask = feat >= 0

    # Words of each statement, and how many of them the model has a weight for.
    words = np.fromiter((len(set(a.features[:a.words])) for a in analyses), np.int64, n)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    is_word = (np.arange(len(feat)) - first) < np.repeat(
        np.fromiter((a.words for a in analyses), np.int64, n), lengths)
    word_keys = np.unique(doc[is_word & known_mask] * n_features + feat[is_word & known_mask])
    known = np.bincount(word_keys // n_features, minlength=n)
    cues = np.bincount(doc[np.isin(feat, _explicit_cue_ids(vectorizer))], minlength=n)

    doc, feat, spans = doc[known_mask], feat[known_mask], spans[known_mask]
    keys = doc * n_features + feat
    cells, occurrence_cell, counts = np.unique(keys, return_inverse=True, return_counts=True)
    rows, columns = cells // n_features, cells % n_features
    values = tfidf_from_counts(vectorizer, rows, columns, counts.astype(np.float64), n)
    matrix = sparse.csr_matrix((values, (rows, columns)), shape=(n, n_features))

    coef = classifier.coef_  # (classes, features)
    decision = np.asarray(matrix @ coef.T) + classifier.intercept_
    probabilities = classifier.predict_proba(matrix)
    labels = classifier.labels_from_proba(probabilities)

    # Each occurrence carries an equal share of its cell's term; phrases sum their occurrences.
    share = (values / counts)[occurrence_cell.reshape(-1)]
    contribution = share[:, None] * coef[:, feat].T          # (occurrences, classes)
    if len(spans) and spans.max() >= _SPAN_BASE:
        raise ValueError("statement too long to explain (over 2 million characters)")
    phrase_keys = (doc * _SPAN_BASE + spans[:, 0]) * _SPAN_BASE + spans[:, 1]
    phrases, phrase_of = np.unique(phrase_keys, return_inverse=True)
    phrase_of = phrase_of.reshape(-1)
    totals = np.stack([np.bincount(phrase_of, weights=contribution[:, c], minlength=len(phrases))
                       for c in range(coef.shape[0])], axis=1)
    phrase_doc = phrases // (_SPAN_BASE * _SPAN_BASE)
    phrase_spans = np.stack([(phrases // _SPAN_BASE) % _SPAN_BASE, phrases % _SPAN_BASE], axis=1)
    bounds = np.searchsorted(phrase_doc, np.arange(n + 1))
    return BatchExplanation(
        list(classifier.classes_), classifier.intercept_, decision, probabilities, labels,
        [phrase_spans[bounds[i]:bounds[i + 1]] for i in range(n)],
        [totals[bounds[i]:bounds[i + 1]] for i in range(n)],
        known, words, cues,
    )


def tfidf_from_counts(vectorizer: TfidfVectorizer, rows: np.ndarray, columns: np.ndarray,
                      counts: np.ndarray, n_rows: int) -> np.ndarray:
    """TF-IDF values of the given (row, column, count) cells, as `vectorizer.transform` makes them.

    Mirrors the vectorizer's own settings (binary, sublinear_tf, use_idf, then the block balance
    or the plain norm of models saved before it); a test checks that the matrix equals
    `vectorizer.transform` exactly.
    """
    values = np.ones_like(counts) if vectorizer.binary else counts.copy()
    if vectorizer.sublinear_tf:
        values = np.log(values) + 1
    if vectorizer.use_idf:
        values = values * vectorizer.idf_[columns]
    if isinstance(vectorizer, BlockTfidfVectorizer):
        return vectorizer.balance_cells(rows, columns, values, n_rows)
    if vectorizer.norm == "l2":
        norms = np.sqrt(np.bincount(rows, weights=values ** 2, minlength=n_rows))
    elif vectorizer.norm == "l1":
        norms = np.bincount(rows, weights=np.abs(values), minlength=n_rows)
    else:
        return values
    norms[norms == 0] = 1
    return values / norms[rows]


def _explicit_cue_ids(vectorizer: TfidfVectorizer) -> np.ndarray:
    """Vocabulary indices of the explicit cues, found once per fitted vectorizer."""
    found = _CUE_IDS.get(vectorizer)
    if found is None:
        found = np.fromiter((index for feature, index in vectorizer.vocabulary_.items()
                             if feature.startswith("cue:") and feature not in _IMPLICIT_CUES),
                            np.int64)
        _CUE_IDS[vectorizer] = found
    return found


_CUE_IDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


_SPAN_BASE = 1 << 21

# Cues that carry no explicit signal by themselves (codebook rule 6 territory).
_IMPLICIT_CUES = frozenset({"cue:conditional", "cue:grievance", "cue:glory", "cue:state"})
