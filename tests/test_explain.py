"""Explanations are exact: contributions plus intercept equal the decision function."""

from __future__ import annotations

import numpy as np

from signals.explain import explain_batch

STATEMENTS = [
    "If they strike again we will respond, but we want calm for now.",
    "Strike, strike, strike: all their bases will burn!",
    "We deny any role in the attack on the embassy.",
    "Zzyzx qwerty.",
]


def test_contributions_plus_intercept_equal_decision_function(trained_model):
    analyzer = trained_model.named_steps["features"].analyzer
    explanation = explain_batch(trained_model, [analyzer.analyse(text) for text in STATEMENTS])
    expected = trained_model.decision_function(STATEMENTS)
    for row in range(len(STATEMENTS)):
        total = explanation.weights[row].sum(axis=0) + explanation.intercept
        np.testing.assert_allclose(total, expected[row], rtol=0, atol=1e-9)


def test_probabilities_match_the_pipeline(trained_model):
    analyzer = trained_model.named_steps["features"].analyzer
    explanation = explain_batch(trained_model, [analyzer.analyse(text) for text in STATEMENTS])
    np.testing.assert_allclose(explanation.probabilities,
                               trained_model.predict_proba(STATEMENTS), atol=1e-12)


def test_every_phrase_is_words_of_the_statement(trained_model):
    analyzer = trained_model.named_steps["features"].analyzer
    explanation = explain_batch(trained_model, [analyzer.analyse(text) for text in STATEMENTS])
    for row, text in enumerate(STATEMENTS):
        for start, end in explanation.spans[row]:
            phrase = text[start:end]
            assert phrase and phrase == phrase.strip()
            assert not phrase.startswith(("w:", "c:", "cue:", "neg:"))


def test_batch_matrix_equals_the_vectorizer_transform(trained_model):
    """Explanations build TF-IDF from their own vocabulary lookup: it must be the Pipeline's."""
    from collections import Counter

    from scipy import sparse

    from signals.explain import tfidf_from_counts

    vectorizer = trained_model.named_steps["features"]
    analyses = [vectorizer.analyzer.analyse(text) for text in STATEMENTS]
    rows, columns, counts = [], [], []
    for row, analysis in enumerate(analyses):
        known = Counter(f for f in analysis.features if f in vectorizer.vocabulary_)
        for feature, count in known.items():
            rows.append(row)
            columns.append(vectorizer.vocabulary_[feature])
            counts.append(float(count))
    rows, columns = np.array(rows), np.array(columns)
    values = tfidf_from_counts(vectorizer, rows, columns, np.array(counts), len(analyses))
    rebuilt = sparse.csr_matrix((values, (rows, columns)), shape=(len(analyses),
                                                                  len(vectorizer.idf_)))
    expected = vectorizer.transform(analyses)
    np.testing.assert_allclose(rebuilt.toarray(), expected.toarray(), rtol=0, atol=1e-12)


def test_models_saved_before_block_weighting_still_explain_exactly(model_fixture_dir):
    """Older models have a plain TfidfVectorizer with one l2 norm: explanations must follow it."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline

    from signals.features import StatementAnalyzer
    from signals.model import ToneClassifier
    from signals.train import training_frame

    frame = training_frame(model_fixture_dir / "statements.csv", model_fixture_dir / "labels.csv")
    model = Pipeline([
        ("features", TfidfVectorizer(analyzer=StatementAnalyzer(char_ngrams=(3, 5)),
                                     sublinear_tf=True, lowercase=False)),
        ("classify", ToneClassifier(C=2.0)),
    ]).fit(frame["text"].tolist(), frame["label"].to_numpy())
    analyses = [StatementAnalyzer(char_ngrams=(3, 5)).analyse(text) for text in STATEMENTS]
    explanation = explain_batch(model, analyses)
    np.testing.assert_allclose(explanation.decision, model.decision_function(STATEMENTS),
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(explanation.probabilities, model.predict_proba(STATEMENTS),
                               rtol=0, atol=1e-10)
