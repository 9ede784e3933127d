"""The Train page's form: which data, which settings, and the job request they make."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import streamlit as st

from core.data import COLLECTIONS, stored_files
from core.errors import TunesmithError
from core.jobs import JobRequest
from core.model import BASE_MODEL_NAME, ModelConfig
from core.tokens import EncodingConfig
from core.training import TRAINING_PRESETS, TrainingConfig, fine_tuning_setup
from ui import state
from ui.text import plain

MAX_EPOCHS = 200
MAX_STEPS = 20_000
MAX_SEQUENCE_LENGTH = 1024


@dataclass(frozen=True)
class DataChoice:
    label: str
    sources: tuple[str, ...]
    name: str
    limit: int | None = None
    encoding: dict[str, Any] | None = None  # EncodingConfig.to_dict() from the Data page


def data_choices() -> list[DataChoice]:
    """The dataset picked on the Data page first (when there is one), then the presets and
    "My dataset" (the files in this session's music folder)."""
    choices = []
    state.restore_dataset()
    chosen = st.session_state.get(state.DATASET_SOURCES)
    if chosen:
        name = st.session_state.get(state.DATASET_NAME) or "chosen dataset"
        choices.append(DataChoice(
            f"{name} (chosen on the Data page)", tuple(map(str, chosen)), name,
            limit=st.session_state.get(state.DATASET_LIMIT),
            encoding=st.session_state.get(state.DATASET_ENCODING),
        ))
    for preset in COLLECTIONS.values():
        choices.append(DataChoice(preset.title, (preset.name,), preset.title))
    music = state.user_music_dir()
    files = stored_files(music)
    if files:
        choices.append(DataChoice(f"My dataset ({len(files)} files)", (str(music),),
                                  "My dataset"))
    return choices


def data_picker() -> DataChoice:
    choices = data_choices()
    choice = st.selectbox("Music to learn from", choices, format_func=lambda c: c.label,
                          key="train_data")
    limit = st.number_input("Use only the first N files (0 = all)", min_value=0,
                            value=choice.limit or 0, step=10, key=f"train_limit_{choice.label}",
                            help="Fewer files train faster; good for a first try. Built-in "
                                 "music is judged on pieces the base model never trained on.")
    return replace(choice, limit=int(limit) or None)


# The page starts on "quick": a visitor in a browser wants a first result in minutes. The CLI's
# default (DEFAULT_TRAINING_PRESET, "thorough") is the one the quality goal is measured with.
PAGE_DEFAULT_PRESET = "quick"
# The presets in the page's words (core's descriptions speak of held-out pieces).
PRESET_WORDS = {
    "thorough": "Longer: it keeps learning until it stops getting better at music it has not "
                "seen, then keeps its best moment.",
}


PRESET_KEY = "train_preset"
# The choices kept while the visitor is on other pages (`ui.state.restore_choices`). Not the
# music: the Data page may have chosen other music meanwhile, and the Train page offers that.
CHOICE_DEFAULTS: dict[str, object] = {PRESET_KEY: PAGE_DEFAULT_PRESET}


START_BASE = "The pretrained base model (recommended)"
START_SCRATCH = "From scratch (advanced)"


@dataclass(frozen=True)
class TrainSettings:
    model: ModelConfig
    training: TrainingConfig
    base_model: str | None  # a bundled model name to fine-tune, None: from scratch


def base_for(data: DataChoice) -> tuple[ModelConfig | None, str]:
    """(the base model's network shape, "") when this data can start from it, else (None, why).

    One read of the base's description per rerun."""
    try:
        chosen = EncodingConfig.from_dict(data.encoding) if data.encoding else None
        return fine_tuning_setup(BASE_MODEL_NAME, chosen).model, ""
    except (TunesmithError, ValueError) as error:
        return None, str(error)


def settings_form(data: DataChoice) -> TrainSettings | None:
    """Quick / thorough, where to start, and every hyperparameter in an expander. None when
    invalid."""
    preset_name = st.radio("How long to train", list(TRAINING_PRESETS), horizontal=True,
                           format_func=lambda n: TRAINING_PRESETS[n].title, key=PRESET_KEY)
    preset = TRAINING_PRESETS[preset_name]
    st.caption(PRESET_WORDS.get(preset_name, preset.description))
    base_shape, problem = base_for(data)
    start = st.radio("Start from", [START_BASE, START_SCRATCH], horizontal=True,
                     index=1 if problem else 0, key=f"train_start_from_{bool(problem)}",
                     help="The base model already learned from the built-in collections, so "
                          "it needs much less of your music to sound good.")
    from_scratch = start == START_SCRATCH
    if problem and not from_scratch:
        st.error(plain(f"Cannot start from the base model: {problem}"))
        return None
    shape = preset.model if from_scratch or base_shape is None else base_shape
    model, training = shape, preset.training_for(from_scratch=from_scratch)
    # keys per preset and start: switching either resets the fields to its defaults
    k = f"train_{preset_name}" + ("_scratch" if from_scratch else "")
    with st.expander("Advanced settings"):
        if not from_scratch:
            st.caption(f"Fine-tuning keeps the base model's network: {shape.layers} LSTM "
                       f"layers of {shape.units} units; its music is key-normalized (C major "
                       "or A minor).")
        a, b, c = st.columns(3)
        sequence_length = a.number_input("Sequence length (tokens)", 8, MAX_SEQUENCE_LENGTH,
                                         training.sequence_length, step=16, key=f"{k}_seq",
                                         help="How much music the model sees at once.")
        layers = b.number_input("LSTM layers", 1, 4, model.layers, key=f"{k}_layers",
                                disabled=not from_scratch)
        units = c.number_input("Units per layer", 16, 1024, model.units, step=32,
                               key=f"{k}_units", disabled=not from_scratch)
        embedding_dim = a.number_input("Embedding size", 4, 512, model.embedding_dim, step=16,
                                       key=f"{k}_embedding", disabled=not from_scratch)
        dropout = b.number_input("Dropout", 0.0, 0.9, model.dropout, step=0.05,
                                 key=f"{k}_dropout", disabled=not from_scratch)
        batch_size = c.number_input("Batch size", 1, 512, training.batch_size, step=8,
                                    key=f"{k}_batch")
        learning_rate = a.number_input("Learning rate", 1e-5, 0.5, training.learning_rate,
                                       step=1e-4, format="%.4f", key=f"{k}_lr")
        if training.max_steps:
            steps = b.number_input("Training steps (budget)", 1, MAX_STEPS, training.max_steps,
                                   step=40, key=f"{k}_steps",
                                   help="Batches to train on, whatever the data's size.")
        else:
            epochs = b.number_input("Epochs (at most)", 1, MAX_EPOCHS, training.epochs,
                                    key=f"{k}_epochs")
        patience = c.number_input("Stop after N checks without improvement", 1, MAX_EPOCHS,
                                  training.patience, key=f"{k}_patience",
                                  help="The held-out pieces are checked after every pass (or "
                                       f"every {training.steps_per_round} steps).")
        augmentation = a.checkbox("Transpose for variety (augmentation)",
                                  value=training.augmentation, key=f"{k}_augment",
                                  disabled=not from_scratch,
                                  help="Each training window is also heard in other keys.")
        semitones = b.number_input("Transpose up to ± semitones", 1, 12,
                                   training.transpose_semitones, key=f"{k}_semitones",
                                   disabled=not (augmentation and from_scratch))
        seed = c.number_input("Seed", 0, 2**31 - 1, training.seed, key=f"{k}_seed")
        input_dropout = a.number_input("Hidden input tokens (share)", 0.0, 0.9,
                                       training.input_dropout, step=0.05,
                                       key=f"{k}_input_dropout",
                                       help="Each batch hides this share of the music the "
                                            "model reads (never what it must predict), so it "
                                            "learns from more of the context.")
    try:
        model = ModelConfig(embedding_dim=int(embedding_dim), units=int(units),
                            layers=int(layers), dropout=float(dropout))
        length = ({"max_steps": int(steps)} if training.max_steps else {"epochs": int(epochs)})
        training = replace(training, sequence_length=int(sequence_length),
                           batch_size=int(batch_size), learning_rate=float(learning_rate),
                           patience=int(patience), augmentation=bool(augmentation) and from_scratch,
                           transpose_semitones=int(semitones), seed=int(seed),
                           input_dropout=float(input_dropout), **length)
    except ValueError as error:
        st.error(plain(f"Settings: {error}"))
        return None
    return TrainSettings(model, training, None if from_scratch else BASE_MODEL_NAME)


def default_model_name(data: DataChoice) -> str:
    return f"{data.name} {time.strftime('%Y-%m-%d %H.%M')}"


def make_request(data: DataChoice, settings: TrainSettings, model_name: str) -> JobRequest:
    return JobRequest(sources=data.sources, dataset_name=data.name, model_name=model_name,
                      model=settings.model.to_dict(), training=settings.training.to_dict(),
                      limit=data.limit, encoding=data.encoding,
                      base_model=settings.base_model)


def source_paths(data: DataChoice) -> list[Path]:
    return [Path(s) for s in data.sources if s not in COLLECTIONS]
