"""Shared fixtures: a tiny hand-written labelled set and a model trained on it once."""

from __future__ import annotations

import shutil
import subprocess
import sys
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


APPEND_300_LABELS = """\
import sys
from signals import store
from signals.add import statement_id
for i in range(300):
    store.append_label(sys.argv[1], {{"statement_id": {statement_id}, "label": "escalatory",
                                     "annotator": "ana", "note": "",
                                     "labelled_at": "2026-01-01T00:00:00+00:00"}})
"""


@pytest.fixture()
def beside_a_labelling_session():
    """Run a script on a labels file while another process appends 300 labels by `ana` to it.

    `statement_id` is the Python expression (of `i`) for the appended statement ids.
    """
    def run(labels_path: Path, script: str, statement_id: str = "f'a{i}'") -> None:
        appender = APPEND_300_LABELS.format(statement_id=statement_id)
        sessions = [subprocess.Popen([sys.executable, "-c", code, str(labels_path)])
                    for code in (appender, script)]
        assert [session.wait(timeout=120) for session in sessions] == [0, 0]
    return run
