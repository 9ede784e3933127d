"""`python -m core generate` and `python -m core render`, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile

from core.cli import main
from core.music.files import read_music
from core.music.midi import midi_to_bytes, piece_to_midi
from core.music.piece import Note, Piece
from tests.core._generation_fixtures import make_tiny_model_folder


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model_folder(tmp_path_factory.mktemp("models") / "tiny")


def test_generate_writes_midi_and_wav_and_one_json_object(model_dir: Path, tmp_path: Path,
                                                          capsys) -> None:
    out, wav = tmp_path / "new.mid", tmp_path / "new.wav"
    code = main(["generate", "--model", str(model_dir), "--out", str(out), "--tokens", "60",
                 "--seed", "3", "--temperature", "0.9", "--top-k", "20", "--wav", str(wav),
                 "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["seed"] == 3 and summary["new_tokens"] >= 60
    assert read_music(out)[0].notes
    assert soundfile.info(str(wav)).duration > 0.5
    again = tmp_path / "again.mid"
    assert main(["generate", "--model", str(model_dir), "--out", str(again), "--tokens", "60",
                 "--seed", "3", "--temperature", "0.9", "--top-k", "20"]) == 0
    assert again.read_bytes() == out.read_bytes()


def test_generate_in_seconds_with_a_primer(model_dir: Path, tmp_path: Path) -> None:
    primer = tmp_path / "mine.mid"
    notes = (Note(0, 60, 4), Note(4, 64, 4))
    primer.write_bytes(midi_to_bytes(piece_to_midi(Piece("mine", notes, 4, 120.0))))
    out = tmp_path / "more.mid"
    assert main(["generate", "--model", str(model_dir), "--out", str(out), "--seconds", "4",
                 "--primer", str(primer), "--seed", "1"]) == 0
    piece = read_music(out)[0]
    assert piece.notes[:2] == notes


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (["--model", "/nonexistent/model"], "model: no such model folder"),
        (["--primer", "/nonexistent/tune.mid"], "tune.mid: no such file"),
        (["--key", "H"], "--key: 'H' is not a key name"),
        (["--scale", "dorian"], "--scale: 'dorian' is not a scale"),
        (["--keep-bars", "2"], "--keep-bars: give --primer FILE or --audio-primer FILE"),
        (["--link", "http://x/generate?v=1&model=folk-tunes&seed=1"], "--link: the link holds"),
        (["--audio-primer", "/nonexistent/hum.wav"], "hum.wav"),
    ],
)
def test_generate_bad_input_exits_non_zero_with_one_line(model_dir: Path, tmp_path: Path,
                                                         capsys, extra: list[str],
                                                         reason: str) -> None:
    args = ["generate", "--model", str(model_dir), "--out", str(tmp_path / "x.mid"), *extra]
    assert main(args) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and reason in err[0]


def test_render_writes_wav_and_ogg(tmp_path: Path) -> None:
    midi = tmp_path / "tune.mid"
    midi.write_bytes(midi_to_bytes(piece_to_midi(Piece("t", (Note(0, 60, 8),), 4, 120.0))))
    for name in ("tune.wav", "tune.ogg"):
        out = tmp_path / name
        assert main(["render", str(midi), "--out", str(out), "--program", "73"]) == 0
        assert soundfile.info(str(out)).duration == pytest.approx(2.0, abs=0.1)


def test_render_refuses_a_bad_soundfont_and_a_bad_midi(tmp_path: Path, capsys) -> None:
    midi = tmp_path / "tune.mid"
    midi.write_bytes(midi_to_bytes(piece_to_midi(Piece("t", (Note(0, 60, 8),), 4, 120.0))))
    fake = tmp_path / "fake.sf2"
    fake.write_bytes(b"not a soundfont")
    assert main(["render", str(midi), "--out", str(tmp_path / "a.wav"),
                 "--soundfont", str(fake)]) == 1
    assert "fake.sf2: not a SoundFont 2 file" in capsys.readouterr().err
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"garbage")
    assert main(["render", str(broken), "--out", str(tmp_path / "b.wav")]) == 1
    assert "broken.mid: not a MIDI file" in capsys.readouterr().err


def test_generate_from_a_training_snippet_of_the_default_model(model_dir: Path, tmp_path: Path,
                                                               capsys) -> None:
    out = tmp_path / "snippet.mid"
    assert main(["generate", "--model", str(model_dir), "--out", str(out), "--snippet"]) == 2
    assert "no training snippets" in capsys.readouterr().err
    from core.generation.generator import DEFAULT_MODEL_DIR

    assert main(["generate", "--model", "default", "--out", str(out), "--snippet", "--tokens",
                 "40", "--seed", "8", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["primer_tokens"] > 0 and summary["model"] == DEFAULT_MODEL_DIR.name


def test_key_scale_lock_and_a_share_link_that_makes_the_same_piece(tmp_path: Path,
                                                                  capsys) -> None:
    from core.music.scales import Scale, scale_pitch_classes

    out = tmp_path / "locked.mid"
    assert main(["generate", "--model", "folk-tunes", "--out", str(out), "--seconds", "8",
                 "--key", "Bb", "--scale", "minor-pentatonic", "--lock-scale", "--seed", "3",
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    notes = read_music(out)[0].notes
    assert notes and {n.pitch % 12 for n in notes} <= scale_pitch_classes(
        10, Scale.MINOR_PENTATONIC)
    assert summary["link"].startswith("http://localhost:8501/generate?v=2&model=folk-tunes")
    assert summary["key"] == "Bb minor pentatonic" and summary["new_notes_in_key"] == 1.0
    again = tmp_path / "again.mid"
    assert main(["generate", "--link", summary["link"], "--out", str(again)]) == 0
    assert again.read_bytes() == out.read_bytes()
    tampered = summary["link"].replace("seed=3", "seed=4")
    assert main(["generate", "--link", tampered, "--out", str(tmp_path / "t.mid")]) == 1
    assert "changed after it was made" in capsys.readouterr().err


def test_a_meter_and_a_form_of_ones_own_choosing(tmp_path: Path, capsys) -> None:
    out = tmp_path / "jig.mid"
    assert main(["generate", "--model", "folk-tunes", "--out", str(out), "--seconds", "8",
                 "--meter", "6/8", "--form", "free", "--seed", "5", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["settings"]["meter"], summary["settings"]["form"]) == ("6/8", "free")
    assert read_music(out)[0].meter == "6/8"
    assert "meter=6%2F8" in summary["link"]  # and the link plays it in 6/8 again
    again = tmp_path / "again.mid"
    assert main(["generate", "--link", summary["link"], "--out", str(again)]) == 0
    assert again.read_bytes() == out.read_bytes()

    assert main(["generate", "--out", str(tmp_path / "bad.mid"), "--meter", "7/5"]) == 2  # usage
    err = capsys.readouterr().err
    assert "--meter" in err and "denominator" in err and not (tmp_path / "bad.mid").exists()


def test_an_own_model_prints_no_link_and_says_why(model_dir: Path, tmp_path: Path,
                                                  capsys) -> None:
    assert main(["generate", "--model", str(model_dir), "--out", str(tmp_path / "a.mid"),
                 "--tokens", "20", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["link"] is None and "your own model" in summary["link_note"]


def test_keep_the_first_bars_of_a_file_and_continue(tmp_path: Path) -> None:
    primer = tmp_path / "mine.mid"
    notes = tuple(Note(4 * i, p, 4) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72] * 2))
    primer.write_bytes(midi_to_bytes(piece_to_midi(Piece("mine", notes, 4, 120.0))))
    out = tmp_path / "kept.mid"
    assert main(["generate", "--model", "bach-chorales", "--out", str(out), "--seconds", "6",
                 "--primer", str(primer), "--keep-bars", "2", "--seed", "2"]) == 0
    command = ["generate", "--model", "bach-chorales", "--out", str(out), "--primer", str(primer)]
    with pytest.raises(SystemExit) as refused:  # out of range: argparse's one line
        main([*command, "--keep-bars", "0"])
    assert refused.value.code == 2
    assert main([*command, "--keep-bars", "5"]) == 2  # more bars than the file has
    piece = read_music(out)[0]
    bar_end = 2 * 16
    assert [n for n in piece.notes if n.onset_step < bar_end] == list(notes[:8])
    assert piece.notes[8:] != notes[8:]


def test_continue_a_recording(tmp_path: Path, capsys) -> None:
    from tests.conftest import REPO

    out = tmp_path / "hummed.mid"
    assert main(["generate", "--model", "folk-tunes", "--out", str(out), "--seconds", "8",
                 "--audio-primer", str(REPO / "tests/fixtures/hummed_tune.wav"), "--seed", "1",
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["primer_tokens"] > 30 and summary["key"].startswith("D major")
    assert read_music(out)[0].tempo_bpm == pytest.approx(100.0, abs=1.0)
