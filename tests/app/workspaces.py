"""The app's pages, workspace contents and upload stand-ins shared by the page tests."""

from __future__ import annotations

from pathlib import Path

from core import jobs
from core.model.folder import save_model_folder
from core.model.network import ModelConfig, build_model
from core.tokens.config import EncodingConfig
from core.tokens.vocabulary import Vocabulary
from core.training.config import TrainingConfig

PAGES = [  # every page of the app, as st.navigation lists them
    "app_pages/home.py",
    "app_pages/data.py",
    "app_pages/train.py",
    "app_pages/generate.py",
    "app_pages/harmonize.py",
    "app_pages/evaluate.py",
    "app_pages/listen.py",
]


def save_broken_model(workspace: Path, name: str = "Broken") -> Path:
    """A tiny model in "My models" whose metrics.json is `[]`, as an uploaded zip could hold."""
    path = jobs.models_dir(workspace) / name
    vocab = Vocabulary.build([["T4", "P60", "D4"]])
    config = ModelConfig(embedding_dim=4, units=8, layers=1)
    save_model_folder(path, keras_model=build_model(config, len(vocab)),
                      encoding=EncodingConfig(), vocab=vocab, config=config,
                      training=TrainingConfig().to_dict(), metrics={})
    (path / "metrics.json").write_text("[]")
    return path


def upload_script() -> None:
    """An AppTest script that hands the paths in session state "files" to the Data page's upload
    helper as uploads (AppTest cannot drive st.file_uploader), and lists what was kept."""
    from pathlib import Path

    import streamlit as st

    from core.data.user_music import stored_files
    from ui import state
    from ui.data_widgets import add_uploads

    class Upload:
        def __init__(self, path):
            self.name, self._data = Path(path).name, Path(path).read_bytes()

        def getvalue(self):
            return self._data

    add_uploads([Upload(p) for p in st.session_state["files"]])
    st.session_state["accepted"] = [f.name for f in stored_files(state.user_music_dir())]
