"""The Pipeline: deterministic training, safe loading, a first model when there is none."""

from __future__ import annotations

import numpy as np
import pytest

from signals import LABELS, SignalsError
from signals.model import ensure_model, hash_path, load_model, save_model
from signals.train import fit, training_frame

PROBES = ["We will strike back.", "We call for calm.", "We suspend attacks but will resume."]


@pytest.fixture()
def frame(model_fixture_dir):
    return training_frame(model_fixture_dir / "statements.csv", model_fixture_dir / "labels.csv")


def test_same_labels_and_seed_give_identical_predictions(frame):
    first = fit(frame, {"char_ngrams": (3, 5)}, seed=3).predict_proba(PROBES)
    second = fit(frame.sample(frac=1, random_state=1), {"char_ngrams": (3, 5)},
                 seed=3).predict_proba(PROBES)
    np.testing.assert_array_equal(first, second)


def test_save_and_load_round_trip(frame, tmp_path):
    model = fit(frame, {})
    path = tmp_path / "model.joblib"
    save_model(model, path)
    assert hash_path(path).read_text().split()[0]
    np.testing.assert_array_equal(load_model(path).predict_proba(PROBES),
                                  model.predict_proba(PROBES))


def test_tampered_model_is_refused_before_unpickling(frame, tmp_path):
    path = tmp_path / "model.joblib"
    save_model(fit(frame, {}), path)
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(SignalsError, match="SHA-256 does not match"):
        load_model(path)


def test_truncated_model_with_matching_hash_gives_clear_error(frame, tmp_path):
    import hashlib

    path = tmp_path / "model.joblib"
    save_model(fit(frame, {}), path)
    path.write_bytes(path.read_bytes()[:200])
    hash_path(path).write_text(hashlib.sha256(path.read_bytes()).hexdigest() + "  model.joblib\n")
    with pytest.raises(SignalsError, match="cannot load model"):
        load_model(path)


def test_missing_model_and_missing_hash(frame, tmp_path):
    with pytest.raises(SignalsError, match="no model"):
        load_model(tmp_path / "absent.joblib")
    path = tmp_path / "model.joblib"
    save_model(fit(frame, {}), path)
    hash_path(path).unlink()
    with pytest.raises(SignalsError, match="missing model hash"):
        load_model(path)


def test_model_trained_on_another_label_set_is_refused(tmp_path):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    other = Pipeline([("features", TfidfVectorizer()), ("classify", LogisticRegression())])
    other.fit(["good", "bad", "fine", "awful"], ["positive", "negative", "positive", "negative"])
    path = tmp_path / "model.joblib"
    save_model(other, path)
    with pytest.raises(SignalsError, match="trained on labels"):
        load_model(path)


def test_ensure_model_trains_once_when_absent(model_fixture_dir, tmp_path):
    path = tmp_path / "training" / "model.joblib"
    model, trained = ensure_model(path, model_fixture_dir / "statements.csv",
                                  model_fixture_dir / "labels.csv")
    assert trained and path.exists()
    assert sorted(model.classes_) == sorted(LABELS)
    _, trained_again = ensure_model(path, model_fixture_dir / "statements.csv",
                                    model_fixture_dir / "labels.csv")
    assert not trained_again


def test_training_without_exemplars_keeps_only_real_statements(model_fixture_dir):
    frame = training_frame(model_fixture_dir / "statements.csv", model_fixture_dir / "labels.csv",
                           exemplars=False)
    assert set(frame["origin"]) == {"article"}


def test_words_and_characters_each_weigh_their_share():
    """Characters fire a dozen features per word; balanced, they still take only their share."""
    from signals.model import BlockTfidfVectorizer

    documents = [["w:strike", "w:back", "c:str", "c:tri", "c:rik", "c:ike", "c:bac"],
                 ["w:calm", "c:cal", "c:alm"],
                 ["w:strike", "w:calm"],
                 []]
    vectorizer = BlockTfidfVectorizer(analyzer=lambda features: features, char_weight=0.5)
    matrix = vectorizer.fit_transform(documents).toarray()
    chars = vectorizer.char_columns_
    assert chars.sum() == 7 and not chars[vectorizer.vocabulary_["w:calm"]]
    for row in matrix[:2]:
        assert (row[~chars] ** 2).sum() == pytest.approx(1 / 1.25)
        assert (row[chars] ** 2).sum() == pytest.approx(0.25 / 1.25)
    assert (matrix[2] ** 2).sum() == pytest.approx(1.0)
    assert not matrix[3].any()
    np.testing.assert_allclose(vectorizer.transform(documents).toarray(), matrix, atol=1e-15)
