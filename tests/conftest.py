"""Shared fixtures: a tiny hand-written labelled set and a model trained on it once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def model_fixture_dir() -> Path:
    return FIXTURES / "model"


@pytest.fixture()
def project(tmp_path: Path, model_fixture_dir: Path, monkeypatch) -> Path:
    """A scratch project folder with the fixture tables in labels/, as the CLI expects."""
    (tmp_path / "labels").mkdir()
    for name in ("statements.csv", "labels.csv"):
        shutil.copy(model_fixture_dir / name, tmp_path / "labels" / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def trained_model(model_fixture_dir: Path, tmp_path_factory):
    """The fixture set's model (quick parameters, with character n-grams), saved and loaded."""
    from signals.model import load_model, save_model
    from signals.train import fit, training_frame

    frame = training_frame(model_fixture_dir / "statements.csv", model_fixture_dir / "labels.csv")
    model = fit(frame, {"char_ngrams": (3, 5)})
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    save_model(model, path)
    return load_model(path)
