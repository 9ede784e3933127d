"""The Data page's "Upload audio" tab: audio files → notes with Basic Pitch → "my dataset".

`render_audio_import()` draws the whole tab. Transcriptions run in the script, one file after
the other, each with its own progress bar; a refused file becomes one st.error line naming it
and never stops the others. Results live in session state, so reruns do not transcribe again.
One file goes into "my dataset" from its own view, or every one at once ("Add all").
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import transcription as tr
from core.audio import AUDIO_UPLOAD_TYPES
from core.data import add_file, max_files_per_batch, over_batch_limit
from core.data.user_music import StoredFile
from core.errors import InvalidAudioError, TunesmithError
from core.music import Piece
from core.tokens import EncodingConfig
from ui import state
from ui.data_widgets import use_my_dataset
from ui.text import plain

log = logging.getLogger(__name__)

# Session-state keys.
AUDIO_RESULTS = "audio_import_results"  # dict[str, AudioImportResult], by file name
AUDIO_ADDED = "audio_import_added"  # list[str]: files added to "my dataset" in this session

# Widget keys (prefixed with the page).
UPLOADER_KEY = "data_audio_files"
PRESET_KEY = "data_audio_preset"
TRANSCRIBE_KEY = "data_audio_transcribe"
SELECTED_KEY = "data_audio_selected"
ADD_ALL_KEY = "data_audio_add_all"

PRESET_LABELS: dict[tr.TranscriptionPreset, str] = {
    tr.TranscriptionPreset.PIANO: "Piano",
    tr.TranscriptionPreset.VOICE: "Voice (singing, humming)",
    tr.TranscriptionPreset.GUITAR: "Guitar",
    tr.TranscriptionPreset.OTHER: "Other instrument / not sure",
}
PREVIEW_SAMPLE_RATE_HZ = 22050
AUDIO_MIME_TYPES = {
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".aiff": "audio/aiff",
}

# Optional collaborators: the rendered preview and the shared piano roll.
try:
    from core.audio import audio_to_mp3_bytes, midi_to_audio

    HAVE_RENDERING = True
except ImportError:  # pragma: no cover - depends on the rendering module being present
    HAVE_RENDERING = False
try:
    from core.music import piece_to_figure
except ImportError:  # pragma: no cover
    piece_to_figure = None  # type: ignore[assignment]


@dataclass(frozen=True)
class AudioImportResult:
    """One uploaded file's outcome: a transcription, or the reason it was refused."""

    name: str
    key: str  # hash of the bytes and the parameters: same key, no new transcription
    transcription: tr.Transcription | None
    error: str = ""
    tempo_bpm: float = 0.0  # estimated beat, for the clean-up
    meter: str = ""  # the beat grid's meter, "6/8" or "3/4"
    grid_warning: str = ""  # the beat grid cannot hold the music


@st.cache_resource(show_spinner="Loading the Basic Pitch model…")
def cached_model() -> tr.BasicPitchModel:
    """The Basic Pitch ONNX session, shared by every session (read-only)."""
    return tr.load_model()


@st.cache_data(show_spinner=False, max_entries=32)
def preview_audio(midi_bytes: bytes) -> bytes:
    """The transcription played by FluidSynth, as MP3, which every browser plays (Safari and
    iPhones play no OGG); a pure function of the MIDI bytes."""
    audio = midi_to_audio(midi_bytes, sample_rate_hz=PREVIEW_SAMPLE_RATE_HZ)
    return audio_to_mp3_bytes(audio, PREVIEW_SAMPLE_RATE_HZ)


def _results() -> dict[str, AudioImportResult]:
    if AUDIO_RESULTS not in st.session_state:
        st.session_state[AUDIO_RESULTS] = {}
    results: dict[str, AudioImportResult] = st.session_state[AUDIO_RESULTS]
    return results


def dataset_steps_per_quarter() -> int:
    """The Data page's rhythm grid (the dataset's encoding in session state); the default grid
    before the page has set one."""
    encoding = st.session_state.get(state.DATASET_ENCODING) or {}
    try:
        return EncodingConfig.from_dict(encoding).steps_per_quarter
    except (TypeError, ValueError):
        return EncodingConfig().steps_per_quarter


def _result_key(data: bytes, params: tr.TranscriptionParams) -> str:
    digest = hashlib.sha256(data)
    digest.update(repr(sorted(params.to_dict().items())).encode())
    return digest.hexdigest()


# ---------------------------------------------------------------- parameters


def _optional(value: float) -> float | None:
    return value if value > 0 else None


def params_widgets() -> tr.TranscriptionParams:
    """The preset selectbox and the advanced settings; returns the chosen parameters."""
    preset = st.selectbox(
        "What is playing?",
        list(tr.TranscriptionPreset),
        index=list(tr.TranscriptionPreset).index(tr.DEFAULT_TRANSCRIPTION_PRESET),
        format_func=PRESET_LABELS.__getitem__,
        key=PRESET_KEY,
        help="Each choice picks note-detection settings measured on that kind of sound.",
    )
    # A selectbox with an index never returns None.
    preset = preset or tr.DEFAULT_TRANSCRIPTION_PRESET
    base = tr.TRANSCRIPTION_PRESETS[preset]
    # Keys include the preset, so choosing another preset resets these to its values.
    suffix = preset.value
    with st.expander("Advanced settings"):
        left, right = st.columns(2)
        onset = left.slider(
            "Onset threshold", 0.05, 0.95, float(base.onset_threshold), 0.05,
            key=f"data_audio_onset_{suffix}",
            help="Higher: only clear note starts count. Lower: more notes, more mistakes.",
        )
        frame = right.slider(
            "Frame threshold", 0.05, 0.95, float(base.frame_threshold), 0.05,
            key=f"data_audio_frame_{suffix}",
            help="How loud a note must stay to continue. Lower: longer notes.",
        )
        min_ms = left.number_input(
            "Shortest note (ms)", 0.0, 2000.0, float(base.min_note_length_ms), 10.0,
            key=f"data_audio_min_ms_{suffix}",
        )
        melodia = right.checkbox(
            "Melodia step (find notes without clear starts)", base.melodia_trick,
            key=f"data_audio_melodia_{suffix}",
        )
        low = left.number_input(
            "Lowest frequency (Hz, 0 = none)", 0.0, 5000.0, float(base.min_frequency_hz or 0.0),
            10.0, key=f"data_audio_min_hz_{suffix}",
        )
        high = right.number_input(
            "Highest frequency (Hz, 0 = none)", 0.0, 10000.0,
            float(base.max_frequency_hz or 0.0), 10.0, key=f"data_audio_max_hz_{suffix}",
        )
    try:
        return tr.TranscriptionParams(
            onset_threshold=onset,
            frame_threshold=frame,
            min_note_length_ms=min_ms,
            min_frequency_hz=_optional(low),
            max_frequency_hz=_optional(high),
            melodia_trick=melodia,
            midi_tempo_bpm=base.midi_tempo_bpm,
            top_line=base.top_line,  # the piano preset's clean-up of chords
        )
    except ValueError as error:
        st.warning(plain(f"Using the preset's settings: {error}"))
        return base


# ---------------------------------------------------------------- transcription


def transcribe_uploads(uploads: list[Any], params: tr.TranscriptionParams) -> None:
    """Transcribe every upload not yet done with these parameters, each with its progress."""
    results = _results()
    todo = []
    for upload in uploads[: max_files_per_batch()]:
        data = upload.getvalue()
        key = _result_key(data, params)
        previous = results.get(upload.name)
        if previous is None or previous.key != key:
            todo.append((upload.name, data, key))
    if todo:
        try:
            model = cached_model()
        except (OSError, ImportError):  # basic-pitch's model missing (docs/deploy.md)
            log.exception("the Basic Pitch model cannot be loaded")
            st.error("Audio transcription is not available on this server (its Basic Pitch "
                     "model is missing). MIDI, MusicXML and ABC files still work.")
            return
        for name, data, key in todo:
            results[name] = _transcribe_one(name, data, key, params, model)
    else:
        st.info("Every file is already transcribed with these settings.")
    for refused in over_batch_limit([upload.name for upload in uploads]):
        results[refused.name] = AudioImportResult(refused.name, "", None, refused.message)


def _transcribe_one(
    name: str, data: bytes, key: str, params: tr.TranscriptionParams, model: Any
) -> AudioImportResult:
    with st.status(f"Transcribing {name}…", expanded=True) as status:
        bar = st.progress(0.0, text="Decoding…")

        def on_progress(done: int, total: int, info: str) -> None:
            bar.progress(min(done / max(total, 1), 1.0), text=f"Listening… {done}/{total}")

        try:
            result = tr.transcribe(data, name=name, model=model, params=params,
                                   on_progress=on_progress)
        except InvalidAudioError as error:
            status.update(label=f"{name}: refused", state="error")
            return AudioImportResult(name, key, None, str(error))
        except Exception as error:  # one broken file never stops the batch
            log.exception("transcription of %s failed", name)
            status.update(label=f"{name}: failed", state="error")
            return AudioImportResult(name, key, None, f"{name}: transcription failed ({error})")
        bar.progress(1.0, text="Done")
        if not result.notes:
            status.update(label=f"{name}: no notes found", state="error")
            return AudioImportResult(name, key, result, f"{name}: no notes found (silence?)")
        beat_grid = result.beat_grid()
        status.update(label=f"{name}: {len(result.notes)} notes", state="complete",
                      expanded=False)
    return AudioImportResult(name, key, result, "", beat_grid.tempo_bpm, beat_grid.meter,
                             beat_grid.warning)


# ---------------------------------------------------------------- results


def results_table(results: dict[str, AudioImportResult]) -> pd.DataFrame:
    rows = []
    for result in results.values():
        t = result.transcription
        low, high = t.pitch_range if t and t.notes else (0, 0)
        rows.append({
            "file": result.name,
            "notes": len(t.notes) if t else 0,
            "duration (s)": round(t.duration_s, 1) if t else None,
            "pitch range": f"{_pitch_name(low)}–{_pitch_name(high)}" if t and t.notes else "",
            "tempo (BPM)": round(result.tempo_bpm, 1) if result.tempo_bpm else None,
            "meter": result.meter,
            "error": result.error,
        })
    return pd.DataFrame(rows)


def _pitch_name(pitch: int) -> str:
    try:
        from core.music import pitch_name
    except ImportError:  # pragma: no cover
        return str(pitch)
    return pitch_name(pitch)


def _fallback_figure(piece: Piece) -> go.Figure:
    seconds_per_step = 60.0 / piece.tempo_bpm / piece.steps_per_quarter
    figure = go.Figure(go.Bar(
        x=[n.duration_steps * seconds_per_step for n in piece.notes],
        base=[n.onset_step * seconds_per_step for n in piece.notes],
        y=[n.pitch for n in piece.notes],
        orientation="h",
    ))
    figure.update_layout(height=320, xaxis_title="seconds", yaxis_title="MIDI pitch")
    return figure


def _upload_bytes(uploads: list[Any], name: str) -> bytes | None:
    for upload in uploads:
        if upload.name == name:
            data: bytes = upload.getvalue()
            return data
    return None


def selected_file_view(result: AudioImportResult, uploads: list[Any]) -> None:
    """Original next to the transcription, piano roll, downloads and "Add to my dataset"."""
    melody = st.toggle(
        "Keep only the melody", key=_melody_key(result.name),
        help="The top line, one note at a time: for a single-line dataset from piano or "
             "chords. The roll, the preview and the stored notes all follow it.",
    )
    transcription = _chosen_notes(result, melody=melody)
    stem = Path(result.name).stem
    grid = dataset_steps_per_quarter()
    tempo = st.number_input(
        "Tempo for the clean-up (BPM)", 30.0, 300.0, _estimate_shown(result), 1.0,
        format="%.1f", key=_tempo_key(result.name),
        help="Estimated from the audio; set the real tempo if you know it. Notes snap to the "
             "rhythm grid of the encoding options at this tempo.",
    )
    given = _given_tempo(result, tempo)
    if given is None and result.meter:
        st.caption(plain(f"Meter heard: {result.meter} (quarter notes at "
                         f"{result.tempo_bpm:.1f} BPM)."))
    if given is None and result.grid_warning:
        st.warning(plain(f"{result.name}: {result.grid_warning}."), icon=":material/warning:")
    try:
        piece = tr.transcription_to_piece(transcription, tempo_bpm=given, steps_per_quarter=grid)
        # Unquantized: the dataset quantizes once (docs/decisions/0002-audio-quantized-once.md)
        cleaned = tr.transcription_to_dataset_midi(transcription, tempo_bpm=given)
    except InvalidAudioError as error:
        st.error(plain(str(error)), icon=":material/block:")
        return
    raw_midi = transcription.to_midi_bytes()

    original, rendered = st.columns(2)
    original.caption("Original")
    audio = _upload_bytes(uploads, result.name)
    if audio is not None:
        mime = AUDIO_MIME_TYPES.get(Path(result.name).suffix.lower(), "audio/wav")
        original.audio(audio, format=mime)
    else:
        original.info("Upload the file again to play it.")
    rendered.caption("Transcription")
    if HAVE_RENDERING:
        try:
            rendered.audio(preview_audio(raw_midi), format="audio/mpeg")
        except Exception as error:  # a failed preview must not hide the downloads
            rendered.warning(f"Could not play the transcription ({error}); download the MIDI.")
    else:
        rendered.info("Playback is not available; download the MIDI.")

    figure = piece_to_figure(piece) if piece_to_figure is not None else _fallback_figure(piece)
    st.plotly_chart(figure, key=f"data_audio_roll_{result.name}")

    midi_col, csv_col, add_col = st.columns(3)
    midi_col.download_button("Download MIDI", raw_midi, file_name=f"{stem}.mid",
                             mime="audio/midi", key=f"data_audio_midi_{result.name}")
    csv_col.download_button("Download notes (CSV)", transcription.to_csv(),
                            file_name=f"{stem}.csv", mime="text/csv",
                            key=f"data_audio_csv_{result.name}")
    if add_col.button("Add to my dataset", key=f"data_audio_add_{result.name}", type="primary"):
        try:
            stored = _store(result, cleaned)
        except TunesmithError as error:
            st.error(plain(str(error)), icon=":material/block:")
        else:
            use_my_dataset()
            st.success(plain(f"Added {stored.name} to my dataset ({len(piece.notes)} notes at "
                             f"{piece.tempo_bpm:.0f} BPM); training now uses my dataset."),
                       icon=":material/check_circle:")


# The file on show keeps its settings in its widgets' state; a file not on show has none
# (Streamlit drops the state of widgets a run does not draw), so it is taken as heard.
def _melody_key(name: str) -> str:
    return f"data_audio_melody_{name}"


def _tempo_key(name: str) -> str:
    return f"data_audio_tempo_{name}"


def _estimate_shown(result: AudioImportResult) -> float:
    return float(round(result.tempo_bpm or 120.0, 1))


def _given_tempo(result: AudioImportResult, tempo: float) -> float | None:
    """The tempo set by hand, or None for the estimate untouched: its exact tempo and phase
    (the box rounds to 0.1 BPM, which drifts a beat over 10 minutes); a tempo set by hand
    counts from the first note."""
    return None if result.tempo_bpm and tempo == _estimate_shown(result) else tempo


def _chosen_notes(result: AudioImportResult, *, melody: bool) -> tr.Transcription:
    transcription = result.transcription
    assert transcription is not None
    return tr.transcription_to_melody(transcription) if melody else transcription


def _store(result: AudioImportResult, cleaned: bytes) -> StoredFile:
    """Save one file's training MIDI in my dataset. Raises TunesmithError (quota, storage)."""
    stem = Path(result.name).stem
    stored = add_file(state.workspace(), state.user_music_dir(), f"{stem}.mid", cleaned)
    st.session_state.setdefault(AUDIO_ADDED, []).append(result.name)
    return stored


def add_all(results: list[AudioImportResult]) -> None:
    """Every transcription into my dataset, each with the settings it has on the page; a file
    that cannot be added is named with the reason and the rest go on."""
    added: list[str] = []
    for result in results:
        tempo = st.session_state.get(_tempo_key(result.name), _estimate_shown(result))
        notes = _chosen_notes(result, melody=bool(st.session_state.get(_melody_key(result.name))))
        try:
            cleaned = tr.transcription_to_dataset_midi(notes,
                                                       tempo_bpm=_given_tempo(result, tempo))
            added.append(_store(result, cleaned).name)
        except TunesmithError as error:
            reason = str(error)
            own = (result.name, f"{Path(result.name).stem}.mid")  # the reason names it already
            named = reason if reason.startswith(own) else f"{result.name}: {reason}"
            st.error(plain(named), icon=":material/block:")
    if added:
        use_my_dataset()
        pieces = f"{len(added)} piece" + ("" if len(added) == 1 else "s")
        st.success(plain(f"Added {pieces} to my dataset ({', '.join(added)}); training now "
                         "uses my dataset."), icon=":material/check_circle:")


def render_audio_import() -> None:
    """The whole "Upload audio" tab."""
    st.write(
        "Upload recordings (a sung or hummed tune, an instrument playing). Basic Pitch listens "
        "and writes down the notes; add the ones you like to your dataset, or all at once."
    )
    uploads = st.file_uploader(
        "Audio files", type=AUDIO_UPLOAD_TYPES, accept_multiple_files=True, key=UPLOADER_KEY,
        help="mp3, wav, ogg or flac (m4a where the server can decode it); up to 15 minutes each.",
    ) or []
    params = params_widgets()
    if st.button("Transcribe", key=TRANSCRIBE_KEY, disabled=not uploads, type="primary"):
        transcribe_uploads(list(uploads), params)
    results = _results()
    if not results:
        return
    st.dataframe(results_table(results), hide_index=True)
    for result in results.values():
        if result.error:
            st.error(plain(result.error), icon=":material/block:")
    usable = [name for name, r in results.items() if r.transcription and r.transcription.notes]
    if not usable:
        return
    if len(usable) > 1 and st.button(
        f"Add all {len(usable)} to my dataset", key=ADD_ALL_KEY, icon=":material/library_add:",
        help="Each one as the page shows it: the tempo heard (or the one you set) and, where "
             "you chose it, only the melody.",
    ):
        add_all([results[name] for name in usable])
    chosen = st.selectbox("Look at", usable, key=SELECTED_KEY)
    if chosen:
        selected_file_view(results[chosen], list(uploads))
