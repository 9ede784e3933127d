"""Make the test fixtures under tests/fixtures/ (checked in; rerun to refresh).

.venv/bin/python scripts/make_fixtures.py             # everything
.venv/bin/python scripts/make_fixtures.py hummed_tune  # only the sung tune (hummed_tune.wav)
.venv/bin/python scripts/make_fixtures.py flute_tunes  # only the flute tunes' note events

- tests/fixtures/music/: tiny MIDI, ABC and MusicXML files and bad inputs;
- tests/fixtures/hummed_tune.wav + hummed_tune.notes.csv: a synthesized sung melody (a voice-like
  tone with vibrato, soft attacks and breath noise) and the notes it sings.
- tests/fixtures/flute_tunes.note_events.csv: two folk tunes played on a flute (FluidSynth), as
  Basic Pitch hears them: the soft attacks that pulled the beat grid off its tempo (issue 24).
The sung tune is a pure function of this script: a second run writes the same bytes.
"""

from __future__ import annotations

import csv
import io
import sys
import wave
from pathlib import Path

import mido
import numpy as np
import pretty_midi

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.music.midi import midi_to_bytes, piece_to_midi  # noqa: E402
from core.music.piece import Note, Piece  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
OUT = FIXTURES / "music"

# A melody with a rest, a held note, a three-note chord and a two-octave leap, on a 16th grid.
SCALE_NOTES = (
    Note(0, 60, 2),
    Note(2, 62, 2),
    Note(4, 64, 4),
    # steps 8..11 are a rest
    Note(12, 65, 1),
    Note(13, 67, 3),
    Note(16, 48, 8),
    Note(16, 55, 8),
    Note(16, 64, 8),
    Note(24, 84, 4),
    Note(28, 60, 36),  # a long final note: more than one 4/4 bar
)
# Eighth-note triplets (3 steps per quarter) against quarter notes.
TRIPLET_NOTES = (
    Note(0, 67, 1),
    Note(1, 69, 1),
    Note(2, 71, 1),
    Note(3, 72, 3),
    Note(0, 48, 3),
    Note(3, 43, 3),
    Note(6, 60, 2),
    Note(8, 62, 1),
)

ABC_BOOK = """X:1
T:First Little Tune
M:4/4
L:1/8
Q:1/4=100
K:G
GABc d2B2 | c2A2 B2G2 | z2 GA B2d2 | g4 G4 |]

X:2
T:Second Little Tune
M:6/8
L:1/8
K:Am
A2B c2d | e3 e2z | dcB A2E | A3 A3 |]
"""


def write(name: str, data: bytes) -> None:
    (OUT / name).write_bytes(data)
    print(f"wrote {name} ({len(data)} bytes)")


def absurd_ticks_midi() -> bytes:
    """A MIDI file whose one note sits at tick 2**27: pretty_midi refuses it as corrupt."""
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    track.append(mido.Message("note_on", note=60, velocity=80, time=2**27))
    track.append(mido.Message("note_off", note=60, velocity=0, time=480))
    midi.tracks.append(track)
    import io

    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- a sung tune (hummed_tune.wav)

# A folk-like tune in D major, 4/4 at 100 BPM, four bars: (MIDI pitch, beats, share of the beat
# that is sung). Below 1 the singer stops early: a gap before the next note (a breath, or a
# detached note). No pitch repeats straight away, so every onset is also a change of pitch.
HUM_TUNE: tuple[tuple[int, float, float], ...] = (
    (62, 1.0, 0.9),  # D4
    (66, 0.5, 0.9),  # F#4
    (69, 0.5, 0.9),  # A4
    (74, 1.0, 0.75),  # D5, detached
    (69, 1.0, 0.9),  # A4
    (71, 1.0, 0.9),  # B4
    (69, 0.5, 0.9),  # A4
    (67, 0.5, 0.9),  # G4
    (66, 2.0, 0.8),  # F#4, held, then a breath
    (67, 0.5, 0.9),  # G4
    (69, 0.5, 0.9),  # A4
    (71, 1.0, 0.75),  # B4, detached
    (69, 0.5, 0.9),  # A4
    (66, 0.5, 0.9),  # F#4
    (64, 1.0, 0.8),  # E4
    (66, 0.5, 0.9),  # F#4
    (64, 0.5, 0.9),  # E4
    (61, 1.0, 0.9),  # C#4
    (62, 2.0, 0.9),  # D4, the last note
)
HUM_TEMPO_BPM = 100.0
HUM_KEY = "D major"
HUM_SAMPLE_RATE_HZ = 48_000  # what Chromium's --use-file-for-fake-audio-capture plays safely
HUM_LEAD_IN_S = 0.25
HUM_TAIL_S = 0.15
HUM_PEAK = 0.7  # -3 dBFS
HUM_SEED = 20_261_125
# The voice: a sawtooth-like source (harmonic k at 1/k) shaped by the formants of an "ah".
HUM_FORMANTS_HZ = ((730.0, 80.0, 1.0), (1090.0, 90.0, 0.5), (2440.0, 120.0, 0.25))  # F, B, gain
HUM_FORMANT_FLOOR = 0.05  # between the formants the spectrum does not fall to nothing
HUM_MAX_HARMONIC_HZ = 6_000.0
HUM_VIBRATO_HZ = 5.5
HUM_VIBRATO_SEMITONES = 0.25  # +-25 cents, a light classical vibrato
HUM_VIBRATO_ONSET_S = 0.25  # vibrato grows in over this long after each onset
HUM_SCOOP_SEMITONES = 0.4  # each note starts this much flat and slides up ...
HUM_SCOOP_S = 0.06  # ... over this long
HUM_DETUNE_CENTS = 15.0  # each note is off by up to this much: a singer's intonation
HUM_LEVEL_DB = 3.0  # and louder or softer by up to this much
HUM_ATTACK_S = 0.05
HUM_RELEASE_S = 0.06
HUM_BREATH_DBFS = -46.0  # steady breath and room noise under everything
HUM_ASPIRATION_DB = -24.0  # noise in the voice while it sings, against the note's level


def _raised_cosine(n: int) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / max(n, 1))


def _formant_gain(frequency_hz: np.ndarray) -> np.ndarray:
    gain = np.full_like(frequency_hz, HUM_FORMANT_FLOOR)
    for centre_hz, bandwidth_hz, peak in HUM_FORMANTS_HZ:
        gain += peak / (1.0 + ((frequency_hz - centre_hz) / (bandwidth_hz / 2.0)) ** 2)
    return gain


def _sung_note(pitch: int, duration_s: float, rng: np.random.Generator) -> np.ndarray:
    """One sung note: harmonics under a vowel envelope, with scoop, vibrato and soft edges."""
    rate = HUM_SAMPLE_RATE_HZ
    n = round(duration_s * rate)
    t = np.arange(n) / rate
    scoop = -HUM_SCOOP_SEMITONES * np.clip(1.0 - t / HUM_SCOOP_S, 0.0, 1.0)
    vibrato_depth = HUM_VIBRATO_SEMITONES * np.clip(t / HUM_VIBRATO_ONSET_S, 0.0, 1.0)
    vibrato = vibrato_depth * np.sin(2 * np.pi * HUM_VIBRATO_HZ * t)
    detune = rng.uniform(-HUM_DETUNE_CENTS, HUM_DETUNE_CENTS) / 100.0
    f0_hz = 440.0 * 2.0 ** ((pitch + detune + scoop + vibrato - 69) / 12.0)
    phase = 2 * np.pi * np.cumsum(f0_hz) / rate
    nominal_hz = 440.0 * 2.0 ** ((pitch - 69) / 12.0)
    harmonics = np.arange(1, int(HUM_MAX_HARMONIC_HZ // nominal_hz) + 1)
    amplitudes = _formant_gain(harmonics * nominal_hz) / harmonics
    amplitudes /= amplitudes.sum()
    voice = np.zeros(n)
    for k, amplitude in zip(harmonics, amplitudes, strict=True):
        voice += amplitude * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    aspiration = rng.standard_normal(n) * 10 ** (HUM_ASPIRATION_DB / 20) * np.std(voice)
    envelope = np.ones(n)
    attack, release = int(HUM_ATTACK_S * rate), int(HUM_RELEASE_S * rate)
    envelope[:attack] = _raised_cosine(attack)
    envelope[n - release :] = _raised_cosine(release)[::-1]
    envelope *= 1.0 - 0.15 * t / max(duration_s, 1e-9)  # the breath runs out a little
    envelope *= 10 ** (rng.uniform(-HUM_LEVEL_DB, HUM_LEVEL_DB) / 20)
    return (voice + aspiration) * envelope


def hummed_tune() -> tuple[bytes, list[tuple[float, float, int]]]:
    """The sung tune as 16-bit mono WAV bytes, and its notes (onset_s, duration_s, pitch).

    Deterministic: a fixed seed, and a WAV header written by hand (the `wave` module).
    """
    rng = np.random.default_rng(HUM_SEED)
    seconds_per_beat = 60.0 / HUM_TEMPO_BPM
    notes = []
    beat = 0.0
    for pitch, beats, sung in HUM_TUNE:
        onset_s = round(HUM_LEAD_IN_S + beat * seconds_per_beat, 6)
        notes.append((onset_s, round(beats * sung * seconds_per_beat, 6), pitch))
        beat += beats
    total_s = HUM_LEAD_IN_S + beat * seconds_per_beat + HUM_TAIL_S
    rate = HUM_SAMPLE_RATE_HZ
    audio = np.zeros(round(total_s * rate))
    for onset_s, duration_s, pitch in notes:
        sung = _sung_note(pitch, duration_s, rng)
        start = round(onset_s * rate)
        audio[start : start + len(sung)] += sung
    audio *= HUM_PEAK / np.max(np.abs(audio))
    breath = rng.standard_normal(len(audio))
    breath = np.diff(breath, prepend=0.0)  # a first difference: breath is hiss, not rumble
    breath *= 10 ** (HUM_BREATH_DBFS / 20) / np.sqrt(np.mean(breath**2))
    samples = np.round(np.clip(audio + breath, -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(samples.tobytes())
    return buffer.getvalue(), notes


def notes_to_csv(notes: list[tuple[float, float, int]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("onset_s", "duration_s", "pitch_midi"))
    for onset_s, duration_s, pitch in notes:
        writer.writerow((f"{onset_s:.6f}", f"{duration_s:.6f}", pitch))
    return buffer.getvalue().encode()


def write_hummed_tune() -> None:
    wav, notes = hummed_tune()
    for name, data in (("hummed_tune.wav", wav), ("hummed_tune.notes.csv", notes_to_csv(notes))):
        (FIXTURES / name).write_bytes(data)
        print(f"wrote {name} ({len(data)} bytes)")


# Two ballads (music21's Essen "ballad10", not in any benchmark) on a flute at these tempi: the
# beat grid grown from the first seconds found the first about 1 % off.
FLUTE_TUNES = ((0, 117.51), (14, 110.27))  # (index among the book's songs of 8+ notes, BPM)
FLUTE_PROGRAM = 73


def flute_tunes_csv() -> bytes:
    """The note events Basic Pitch hears in the flute tunes: `tune,tempo_bpm,start_s,end_s,
    pitch,amplitude` (real rendering and transcription: slow, and needs FluidSynth)."""
    import music21.corpus

    from benchmarks.audio_to_training import render_and_transcribe
    from core.music.files import read_music
    from core.transcription import load_model

    path = Path(music21.corpus.__file__).parent / "essenFolksong" / "ballad10.abc"
    songs = [p for p in read_music(path.read_bytes(), name=path.name) if len(p.notes) >= 8]
    model = load_model()
    out = io.StringIO()
    rows = csv.writer(out, lineterminator="\n")
    rows.writerow(["tune", "tempo_bpm", "start_s", "end_s", "pitch", "amplitude"])
    for index, tempo_bpm in FLUTE_TUNES:
        heard = render_and_transcribe(
            songs[index], tempo_bpm=tempo_bpm, program=FLUTE_PROGRAM, model=model
        )
        for note in heard.notes:
            rows.writerow(
                [
                    index,
                    tempo_bpm,
                    f"{note.start_s:.4f}",
                    f"{note.end_s:.4f}",
                    note.pitch,
                    f"{note.amplitude:.3f}",
                ]
            )
    return out.getvalue().encode()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    scale = midi_to_bytes(piece_to_midi(Piece("scale", SCALE_NOTES, 4, 100.0)))
    write("scale.mid", scale)
    write("triplets.mid", midi_to_bytes(piece_to_midi(Piece("triplets", TRIPLET_NOTES, 3, 90.0))))
    write("tunes.abc", ABC_BOOK.encode())

    import music21

    score = music21.converter.parseData(ABC_BOOK.split("\n\n")[0], format="abc")
    with (OUT / "tune.musicxml").open("wb") as handle:
        handle.write(music21.musicxml.m21ToXml.GeneralObjectExporter(score).parse())
    print("wrote tune.musicxml")

    # Bad input.
    write("not_music.mid", b"These are not the notes you are looking for.\n" * 4)
    write("truncated.mid", scale[: len(scale) // 2])
    write("empty.mid", b"")
    silent = pretty_midi.PrettyMIDI()
    silent.instruments.append(pretty_midi.Instrument(program=0))
    write("no_notes.mid", midi_to_bytes(silent))
    write("absurd_ticks.mid", absurd_ticks_midi())
    write("mislabelled.abc", scale)  # MIDI bytes named .abc


if __name__ == "__main__":
    if sys.argv[1:] == ["flute_tunes"]:
        (FIXTURES / "flute_tunes.note_events.csv").write_bytes(flute_tunes_csv())
        print("wrote flute_tunes.note_events.csv")
    elif sys.argv[1:] == ["hummed_tune"]:
        write_hummed_tune()
    else:
        main()
        write_hummed_tune()
        (FIXTURES / "flute_tunes.note_events.csv").write_bytes(flute_tunes_csv())
