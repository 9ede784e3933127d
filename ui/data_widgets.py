"""Data page helpers: loading datasets with progress, the pieces table, the summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from core.data import Dataset, dataset_from_loaded, load_sources, source_files
from core.errors import TunesmithError
from core.music import Piece, pitch_name
from core.tokens import EncodingConfig
from ui import state
from ui.text import plain

MY_DATASET = "My dataset"  # how the workspace's own music is named on the pages


def _fingerprint(sources: Sequence[str], config: EncodingConfig, limit: int | None) -> str:
    """What the dataset depends on: sources, settings, and each file's size and mtime."""
    stats = []
    for path in source_files(list(sources)):
        try:
            stat = path.stat()
        except OSError:
            stats.append((str(path), -1, -1))
            continue
        stats.append((str(path), stat.st_size, stat.st_mtime_ns))
    return repr((tuple(sources), config, limit, stats))


GRID_KEY = "data_grid"
NORMALIZE_KEY = "data_normalize"
TRANSPOSE_KEY = "data_transpose"


def encoding_controls() -> EncodingConfig:
    """The rhythm grid, the key normalization and the transposed copies, starting at the
    chosen dataset's encoding. Streamlit forgets a widget's value when another page runs, and
    a reload starts a new session, so the widgets came back at their defaults and, written
    back, changed the dataset's encoding behind the visitor's back."""
    from core.music import GRIDS

    chosen = st.session_state.get(state.DATASET_ENCODING)
    try:
        config = EncodingConfig.from_dict(chosen) if chosen else EncodingConfig()
    except (TypeError, ValueError):
        config = EncodingConfig()
    grid_names = list(GRIDS)
    by_steps = {steps: name for name, steps in GRIDS.items()}
    st.session_state.setdefault(GRID_KEY, by_steps.get(config.steps_per_quarter, grid_names[0]))
    st.session_state.setdefault(NORMALIZE_KEY, config.normalize_key)
    st.session_state.setdefault(TRANSPOSE_KEY, config.transpose_semitones)
    with st.expander("Encoding options"):
        grid = st.selectbox(
            "Rhythm grid", grid_names, key=GRID_KEY, help="The shortest time step notes snap to."
        )
        normalize = st.checkbox("Move every piece to C major / A minor", key=NORMALIZE_KEY)
        transpose = st.slider(
            "Also learn from copies transposed by up to ± semitones", 0, 6, key=TRANSPOSE_KEY
        )
    return EncodingConfig(
        steps_per_quarter=GRIDS[grid], normalize_key=normalize, transpose_semitones=transpose
    )


def load_dataset_with_progress(
    sources: Sequence[str], *, config: EncodingConfig, name: str, limit: int | None
) -> Dataset | None:
    """Parse (or read from the cache) with a progress bar; bad files become st.error lines.

    The built dataset is kept in this session until its sources, settings or files change, so
    the page's reruns (every click) do not read and encode every piece again.
    """
    fingerprint = _fingerprint(sources, config, limit)
    kept = st.session_state.get(state.LOADED_DATASET)
    if kept is not None and kept[0] == fingerprint:
        dataset: Dataset = kept[1]
        for error in dataset.errors:
            st.error(plain(error), icon=":material/block:")
        return dataset
    bar = st.progress(0.0, text="Reading music…")

    def on_progress(done: int, total: int, info: str) -> None:
        bar.progress(done / max(total, 1), text=f"Reading {info} ({done}/{total})")

    result = load_sources(
        list(sources),
        steps_per_quarter=config.steps_per_quarter,
        limit=limit,
        on_progress=on_progress,
    )
    bar.empty()
    for error in result.errors:
        st.error(plain(error), icon=":material/block:")
    if not result.pieces:
        st.warning("No usable pieces yet.")
        return None
    dataset = dataset_from_loaded(result, sources, name=name, config=config, limit=limit)
    st.session_state[state.LOADED_DATASET] = (fingerprint, dataset)
    return dataset


def add_uploads(files: Sequence[Any]) -> None:
    """Check and save a batch of uploads into "my dataset"; one line per file says what
    happened to it (added, refused and why, or not saved and why)."""
    from core.data import add_music_files

    outcomes = add_music_files(
        state.workspace(),
        state.user_music_dir(),
        [(upload.name, upload.getvalue()) for upload in files],
        steps_per_quarter=EncodingConfig().steps_per_quarter,
    )
    for outcome in outcomes:
        if outcome.added:
            st.success(plain(outcome.message), icon=":material/check_circle:")
        else:
            st.error(plain(outcome.message), icon=":material/block:")
    if any(outcome.added for outcome in outcomes):
        use_my_dataset()


def use_my_dataset() -> None:
    """Make "my dataset" the music to train on: whoever adds their own music means to use it
    (the page went on saying "Dataset: Bach chorales" until a second button was pressed)."""
    state.choose_dataset([str(state.user_music_dir())], MY_DATASET)


def empty_user_music() -> None:
    from core.data import remove_all

    try:
        remove_all(state.user_music_dir())
    except TunesmithError as error:
        st.error(plain(str(error)))
    else:
        st.rerun()


def pieces_table(pieces: Sequence[Piece], valid_names: set[str]) -> pd.DataFrame:
    rows = []
    for piece in pieces:
        low, high = piece.pitch_range
        rows.append(
            {
                "piece": piece.name,
                "notes": len(piece.notes),
                "length (s)": round(piece.duration_s, 1),
                "key": piece.key,
                "tempo (bpm)": round(piece.tempo_bpm),
                "range": f"{pitch_name(low)}–{pitch_name(high)}",
                "split": "validation" if piece.name in valid_names else "training",
            }
        )
    return pd.DataFrame(rows)


def show_summary(dataset: Dataset) -> None:
    summary = dataset.summary()
    cols = st.columns(5)
    cols[0].metric(
        "Pieces",
        summary.pieces,
        help=f"{summary.train_pieces} for training, {summary.valid_pieces} held out",
    )
    cols[1].metric("Tokens", f"{summary.tokens:,}")
    cols[2].metric(
        "Vocabulary",
        summary.vocab_size,
        help="Distinct tokens (pitches, durations, time shifts) the model will learn",
    )
    cols[3].metric(
        "Pitch range", f"{pitch_name(summary.pitch_min)}–{pitch_name(summary.pitch_max)}"
    )
    cols[4].metric(
        "Held-out coverage",
        f"{summary.heldout_coverage:.1%}",
        help="Share of the held-out pieces' tokens that the training vocabulary knows",
    )


@st.cache_data(max_entries=32, show_spinner="Rendering audio…")
def render_preview(midi_bytes: bytes) -> bytes:
    """The piece as MP3 (every browser plays it) with the default soundfont (a pure function:
    cached by bytes)."""
    from core.audio import DEFAULT_SAMPLE_RATE_HZ, audio_to_mp3_bytes, midi_to_audio

    audio = midi_to_audio(midi_bytes, sample_rate_hz=DEFAULT_SAMPLE_RATE_HZ)
    return audio_to_mp3_bytes(audio, DEFAULT_SAMPLE_RATE_HZ)
