"""The "Upload audio" tab: uploads, per-file results, errors that name the file, "Add to my
dataset". Transcription is patched (the tab is under test, not Basic Pitch)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.errors import InvalidAudioError
from core.transcription.basic_pitch import Transcription
from core.transcription.events import NoteEvent
from core.transcription.params import TranscriptionParams, TranscriptionPreset
from tests.app.shown import shown_all
from tests.conftest import FIXTURES


def _script() -> None:
    from ui.audio_import import render_audio_import

    render_audio_import()


def _fake_transcribe(audio, *, name=None, model=None, params=None, on_progress=None, **_):
    if audio.startswith(b"not audio"):
        raise InvalidAudioError(f"{name}: it is a text file, not audio")
    if on_progress:
        on_progress(1, 2, name)
        on_progress(2, 2, name)
    notes = tuple(NoteEvent(0.5 * i, 0.5 * i + 0.4, 60 + (i % 8), 0.6) for i in range(16))
    return Transcription(name or "audio", notes, 8.0, params or TranscriptionParams(), 0.1)


@pytest.fixture
def fake_transcription(monkeypatch):
    import core.transcription as transcription
    import ui.audio_import

    monkeypatch.setattr(transcription, "transcribe", _fake_transcribe)
    monkeypatch.setattr(ui.audio_import, "cached_model", lambda: None)
    monkeypatch.setattr(ui.audio_import, "preview_audio", lambda midi: b"")


def test_tab_renders_with_its_uploader_and_presets(isolated_data_dir, fake_transcription):
    at = AppTest.from_function(_script, default_timeout=60).run()
    assert not at.exception
    uploader = at.get("file_uploader")[0]
    assert uploader.accept_multiple_files
    assert {"mp3", "wav", "ogg", "flac"} <= {t.lstrip(".") for t in uploader.allowed_type}
    assert at.selectbox(key="data_audio_preset").value.value == "other"
    assert at.button(key="data_audio_transcribe").disabled


def test_batch_goes_on_after_a_bad_file_and_adds_to_my_dataset(
    isolated_data_dir, fake_transcription
):
    at = AppTest.from_function(_script, default_timeout=60).run()
    at.get("file_uploader")[0].set_value([
        ("letter.mp3", b"not audio at all", "audio/mpeg"),
        ("tune.wav", (FIXTURES / "vocadito_10.wav").read_bytes(), "audio/wav"),
    ])
    at.run()
    at.button(key="data_audio_transcribe").click().run()
    assert not at.exception
    errors = shown_all(at.error)
    assert any(e.startswith("letter.mp3:") for e in errors)
    table = at.dataframe[0].value
    assert list(table["file"]) == ["letter.mp3", "tune.wav"]
    assert list(table["notes"]) == [0, 16]
    assert at.selectbox(key="data_audio_selected").value == "tune.wav"
    assert at.get("plotly_chart")
    at.button(key="data_audio_add_tune.wav").click().run()
    assert not at.exception
    from core.data.user_music import stored_files
    from core.music.files import read_music

    folders = list((isolated_data_dir / "workspaces").glob("*/music"))
    added = [f for folder in folders for f in stored_files(folder)]
    assert [f.name for f in added] == ["tune.mid"]
    assert "Added tune.mid" in " ".join(shown_all(at.success))
    assert len(read_music(added[0].path)[0].notes) == 16


TRIPLET_TEMPO_BPM = 120.0
QUARTER_S = 60.0 / TRIPLET_TEMPO_BPM
# Eighth-note triplets as sung: the second and third of each come 1/15 of a quarter late and
# early (33 ms at 120 BPM), so both lie nearer the off-beat sixteenth than their own triplet.
TRIPLET_ONSETS_Q = (0.0, 0.4, 0.6)
TRIPLET_BEATS = 8
TRIPLET_PITCHES = (60, 62, 64, 65, 67, 69, 71)


def _fake_triplets(audio, *, name=None, params=None, **_):
    notes = tuple(
        NoteEvent((beat + onset_q) * QUARTER_S, (beat + onset_q + 0.3) * QUARTER_S,
                  TRIPLET_PITCHES[(3 * beat + index) % len(TRIPLET_PITCHES)], 0.6)
        for beat in range(TRIPLET_BEATS)
        for index, onset_q in enumerate(TRIPLET_ONSETS_Q)
    )
    return Transcription(name or "audio", notes, 5.0, params or TranscriptionParams(), 0.1)


def test_sung_triplets_added_on_a_triplet_grid_keep_their_triplets(
    isolated_data_dir, fake_transcription, monkeypatch
):
    """Quantized once, at the dataset's grid: snapped to sixteenths first, the second and third
    note of every triplet would share the off-beat sixteenth, and one triplet step would be lost."""
    import core.transcription as transcription
    from core.data import load_sources
    from core.music.piece import GRIDS
    from core.tokens import EncodingConfig
    from ui import state

    monkeypatch.setattr(transcription, "transcribe", _fake_triplets)
    triplet_grid = GRIDS["eighth triplet"]
    at = AppTest.from_function(_script, default_timeout=60)
    at.session_state[state.DATASET_ENCODING] = EncodingConfig(
        steps_per_quarter=triplet_grid
    ).to_dict()
    at.run()
    at.get("file_uploader")[0].set_value(
        ("triplets.wav", (FIXTURES / "vocadito_10.wav").read_bytes(), "audio/wav")
    )
    at.run()
    at.button(key="data_audio_transcribe").click().run()
    at.number_input(key="data_audio_tempo_triplets.wav").set_value(TRIPLET_TEMPO_BPM).run()
    at.button(key="data_audio_add_triplets.wav").click().run()
    assert not at.exception
    [folder] = (isolated_data_dir / "workspaces").glob("*/music")
    loaded = load_sources([folder], steps_per_quarter=triplet_grid)
    [piece] = loaded.pieces
    assert piece.tempo_bpm == pytest.approx(TRIPLET_TEMPO_BPM)
    assert [n.onset_step for n in piece.notes] == list(range(3 * TRIPLET_BEATS))
    assert f"({3 * TRIPLET_BEATS} notes at 120 BPM)" in " ".join(shown_all(at.success))


@pytest.mark.slow
def test_real_transcription_plays_original_and_transcription(isolated_data_dir):
    at = AppTest.from_function(_script, default_timeout=120).run()
    at.get("file_uploader")[0].set_value(
        ("vocadito.wav", (FIXTURES / "vocadito_10.wav").read_bytes(), "audio/wav")
    )
    at.run()
    at.selectbox(key="data_audio_preset").set_value(TranscriptionPreset.VOICE).run()
    at.button(key="data_audio_transcribe").click().run()
    assert not at.exception and not at.error
    assert at.dataframe[0].value["notes"][0] > 0
    assert len(at.get("audio")) == 2  # the original and the rendered transcription
    assert len(at.get("download_button")) == 2


def test_files_past_the_batch_limit_are_named_and_not_transcribed(
    isolated_data_dir, fake_transcription, monkeypatch
):
    monkeypatch.setenv("TUNESMITH_MAX_FILES_PER_BATCH", "1")
    wav = (FIXTURES / "vocadito_10.wav").read_bytes()
    at = AppTest.from_function(_script, default_timeout=60).run()
    at.get("file_uploader")[0].set_value([
        ("first.wav", wav, "audio/wav"),
        ("second.wav", wav, "audio/wav"),
    ])
    at.run()
    at.button(key="data_audio_transcribe").click().run()
    assert not at.exception
    assert shown_all(at.error) == [
        "second.wav: not added, one batch holds at most 1 files; add it in another batch"
    ]
    assert list(at.dataframe[0].value["notes"]) == [16, 0]


def _fake_chords(audio, *, name=None, params=None, **_):
    notes = tuple(
        NoteEvent(0.5 * i, 0.5 * i + 0.45, pitch, 0.6)
        for i in range(8)
        for pitch in (48 + i % 3, 55 + i % 3, 64 + i % 5)  # the top line: 64 + i % 5
    )
    return Transcription(name or "audio", notes, 5.0, params or TranscriptionParams(), 0.1)


def test_keep_only_the_melody_stores_the_top_line(isolated_data_dir, fake_transcription,
                                                  monkeypatch):
    import core.transcription as transcription

    monkeypatch.setattr(transcription, "transcribe", _fake_chords)
    at = AppTest.from_function(_script, default_timeout=60).run()
    at.get("file_uploader")[0].set_value([
        ("chords.wav", (FIXTURES / "vocadito_10.wav").read_bytes(), "audio/wav"),
    ])
    at.run()
    at.button(key="data_audio_transcribe").click().run()
    at.toggle(key="data_audio_melody_chords.wav").set_value(True).run()
    at.button(key="data_audio_add_chords.wav").click().run()
    assert not at.exception
    from core.data.user_music import stored_files
    from core.music.files import read_music

    [added] = [f for folder in (isolated_data_dir / "workspaces").glob("*/music")
               for f in stored_files(folder)]
    notes = read_music(added.path)[0].notes
    assert [n.pitch for n in notes] == [64 + i % 5 for i in range(8)]


def test_add_all_stores_every_transcription_as_the_page_shows_it(
    isolated_data_dir, fake_transcription, monkeypatch
):
    import core.transcription as transcription

    def fake(audio, *, name=None, **options):
        if name.startswith("chords"):
            return _fake_chords(audio, name=name, **options)
        return _fake_transcribe(audio, name=name, **options)

    monkeypatch.setattr(transcription, "transcribe", fake)
    wav = (FIXTURES / "vocadito_10.wav").read_bytes()
    at = AppTest.from_function(_script, default_timeout=60).run()
    assert "data_audio_add_all" not in [b.key for b in at.button]  # nothing to add yet
    at.get("file_uploader")[0].set_value([
        ("chords.wav", wav, "audio/wav"),
        ("letter.mp3", b"not audio at all", "audio/mpeg"),
        ("tune.wav", wav, "audio/wav"),
    ])
    at.run()
    at.button(key="data_audio_transcribe").click().run()
    assert at.selectbox(key="data_audio_selected").value == "chords.wav"
    at.toggle(key="data_audio_melody_chords.wav").set_value(True).run()  # the one on show
    add_all = at.button(key="data_audio_add_all")
    assert add_all.label == "Add all 2 to my dataset"  # the refused file is not counted
    add_all.click().run()
    assert not at.exception
    from core.data.user_music import stored_files
    from core.music.files import read_music

    added = {f.name: f for folder in (isolated_data_dir / "workspaces").glob("*/music")
             for f in stored_files(folder)}
    assert sorted(added) == ["chords.mid", "tune.mid"]
    assert "Added 2 pieces to my dataset (chords.mid, tune.mid)" in " ".join(shown_all(at.success))
    chords = read_music(added["chords.mid"].path)[0].notes
    assert [n.pitch for n in chords] == [64 + i % 5 for i in range(8)]  # only the melody
    assert len(read_music(added["tune.mid"].path)[0].notes) == 16


def test_add_all_names_a_file_that_does_not_fit_and_adds_the_rest(
    isolated_data_dir, fake_transcription, monkeypatch
):
    import ui.audio_import
    from core.errors import QuotaError

    real_add = ui.audio_import.add_file

    def add_file(workspace, folder, name, data):
        if name == "big.mid":
            raise QuotaError("big.mid: your space is full (50 MB); delete something first")
        return real_add(workspace, folder, name, data)

    monkeypatch.setattr(ui.audio_import, "add_file", add_file)
    wav = (FIXTURES / "vocadito_10.wav").read_bytes()
    at = AppTest.from_function(_script, default_timeout=60).run()
    at.get("file_uploader")[0].set_value([("big.wav", wav, "audio/wav"),
                                           ("tune.wav", wav, "audio/wav")])
    at.run()
    at.button(key="data_audio_transcribe").click().run()
    at.button(key="data_audio_add_all").click().run()
    assert not at.exception
    assert any(e.startswith("big.mid: your space is full") for e in shown_all(at.error))
    assert "Added 1 piece to my dataset (tune.mid)" in " ".join(shown_all(at.success))
