"""A generated piece keeps the pace and the chord size it sets out with (`core.generation.pace`)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.generation.generator import Generator
from core.generation.pace import (
    CHORD_GAIN,
    LENGTH_GAIN,
    MAX_TILT,
    OPENING_BEATS,
    TARGET_START_BEATS,
    PaceKeeper,
)
from core.generation.primers import piece_to_primer
from core.generation.settings import SamplingSettings
from core.music.piece import Note, Piece

STEPS_PER_QUARTER = 4


def keeper_after(onsets: list[tuple[int, int]]) -> PaceKeeper:
    """A keeper that has seen (shift to this onset, notes at it) in order; the first onset is
    at step 0, so its shift is 0 and not advanced."""
    keeper = PaceKeeper(steps_per_quarter=STEPS_PER_QUARTER)
    for shift, notes in onsets:
        if shift:
            keeper.advance(shift)
        for _ in range(notes):
            keeper.note()
    return keeper


def test_nothing_is_tilted_during_the_opening() -> None:
    opening_steps = int(OPENING_BEATS * STEPS_PER_QUARTER)
    keeper = keeper_after([(0, 4)] + [(1, 1)] * (opening_steps - 1))  # a frantic opening
    assert keeper.length_tilt() == 0.0 and keeper.chord_tilt() == 0.0
    logits = np.arange(5, dtype=np.float32)
    mask = np.ones(5, dtype=bool)
    assert keeper.tilt_lengths(logits, lengths=mask, steps=np.arange(1, 6)) is logits
    assert keeper.tilt_chord_end(logits, shifts=mask) is logits


def test_music_busier_than_its_opening_is_nudged_toward_longer_notes() -> None:
    # Opening: four-note chords every beat (8 beats); then chords every half beat.
    opening = [(0, 4)] + [(4, 4)] * 7
    busy = keeper_after(opening + [(4, 4)] + [(2, 4)] * 16)
    assert busy.length_tilt() == pytest.approx(LENGTH_GAIN * math.log(2.0))
    assert busy.chord_tilt() == 0.0  # the chords are as full as the opening's
    calm = keeper_after(opening + [(8, 4)] * 4)
    assert calm.length_tilt() < 0  # calmer than the opening: toward shorter notes
    frantic = keeper_after(opening + [(4, 4)] + [(1, 4)] * 32)
    assert frantic.length_tilt() == MAX_TILT  # a nudge, never an override

    lengths = np.array([False, True, True, False])
    steps = np.array([0, 2, 8, 4])
    tilted = busy.tilt_lengths(np.zeros(4, dtype=np.float32), lengths=lengths, steps=steps)
    beta = busy.length_tilt()
    assert tilted.tolist() == pytest.approx([0.0, beta * math.log(2), beta * math.log(8), 0.0])
    assert tilted[2] > tilted[1]  # the longer note gains more


def test_the_training_music_s_pace_is_kept_when_the_folder_records_it() -> None:
    """A note a beat in the training music: a piece busy from its opening on (two a beat) is
    nudged toward longer notes, where keeping its own opening's pace would leave it busy."""
    onsets = [(0, 1)] + [(2, 1)] * 40  # two onsets a beat throughout
    own = keeper_after(onsets)
    assert own.length_tilt() == pytest.approx(0.0)  # as busy as its own opening
    trained = PaceKeeper(steps_per_quarter=STEPS_PER_QUARTER, target_onsets_per_beat=1.0)
    for shift, _ in onsets:
        if shift:
            trained.advance(shift)
        trained.note()
    assert trained.length_tilt() == pytest.approx(LENGTH_GAIN * math.log(2.0))


def test_chords_fuller_than_the_opening_are_nudged_to_end_sooner() -> None:
    opening = [(0, 2)] + [(4, 2)] * 7  # two-note chords
    fuller = keeper_after(opening + [(4, 4)] * 8)
    assert fuller.chord_tilt() == pytest.approx(min(CHORD_GAIN * math.log(2.0), MAX_TILT))
    thinner = keeper_after([(0, 4)] + [(4, 4)] * 7 + [(4, 2)] * 8)
    assert thinner.chord_tilt() == pytest.approx(-CHORD_GAIN * math.log(2.0))
    shifts = np.array([True, False])
    out = fuller.tilt_chord_end(np.zeros(2, dtype=np.float32), shifts=shifts)
    assert out[0] == pytest.approx(fuller.chord_tilt()) and out[1] == 0.0


def test_the_training_music_s_chord_size_is_kept_when_the_folder_records_it() -> None:
    """Four-note chords in the training music: a piece of two-note chords from its opening on
    is nudged to hold its chords open longer, where keeping its own opening's would not."""
    onsets = [(0, 2)] + [(4, 2)] * 16
    assert keeper_after(onsets).chord_tilt() == pytest.approx(0.0)
    trained = PaceKeeper(steps_per_quarter=STEPS_PER_QUARTER, target_notes_per_onset=4.0)
    for shift, notes in onsets:
        if shift:
            trained.advance(shift)
        for _ in range(notes):
            trained.note()
    assert trained.chord_tilt() == pytest.approx(-CHORD_GAIN * math.log(2.0))


def test_a_slow_tune_is_continued_slower_when_the_piece_keeps_its_pace() -> None:
    """The bundled chorale model continues a tune of half-note chords (half an onset per beat):
    left alone it soon moves about twice as fast; keeping the pace holds it nearer the tune's."""
    chorales = Generator.from_folder("bach-chorales")
    chords = [(48, 55, 64, 72), (53, 57, 65, 72), (55, 59, 62, 67), (48, 55, 64, 72)] * 3
    half = 2 * STEPS_PER_QUARTER
    notes = tuple(Note(i * half, p, half) for i, chord in enumerate(chords) for p in chord)
    primer = piece_to_primer(
        Piece("half notes", notes, STEPS_PER_QUARTER, 100.0), chorales.encoding
    )
    seam = len(chords) * half

    def onsets_per_beat(keep_pace: bool) -> float:
        rates = []
        for seed in range(6):
            settings = SamplingSettings(length_tokens=300, keep_pace=keep_pace)
            piece = chorales.generate(settings, seed=seed, primer=primer).piece
            onsets = sorted({n.onset_step for n in piece.notes if n.onset_step >= seam})
            rates.append(len(onsets) / ((onsets[-1] - seam) / STEPS_PER_QUARTER + 1))
        return float(np.mean(rates))

    kept, left = onsets_per_beat(True), onsets_per_beat(False)
    assert kept < left - 0.2, (kept, left)
    assert abs(kept - 0.5) < abs(left - 0.5)


def test_the_training_music_s_figures_are_kept_from_the_first_bar_on() -> None:
    """With the training music's figures to keep there is no opening to wait for: the nudges
    start after TARGET_START_BEATS, the recent music measured over what there is of it."""
    start = int(TARGET_START_BEATS * STEPS_PER_QUARTER)
    trained = PaceKeeper(steps_per_quarter=STEPS_PER_QUARTER, target_onsets_per_beat=1.0,
                         target_notes_per_onset=4.0)
    own = keeper_after([])
    for keeper in (trained, own):
        keeper.note()
        keeper.note()
        for _ in range(start // 2 - 1):  # two-note chords, two a beat
            keeper.advance(2)
            keeper.note()
            keeper.note()
    assert trained.length_tilt() == 0.0 and trained.chord_tilt() == 0.0  # not yet a bar
    for keeper in (trained, own):
        keeper.advance(2)
        keeper.note()
        keeper.note()
    assert own.length_tilt() == 0.0 and own.chord_tilt() == 0.0  # its opening is not over
    assert trained.length_tilt() > 0  # two onsets a beat against the music's one
    assert trained.chord_tilt() == pytest.approx(-CHORD_GAIN * math.log(2.0))


def test_a_model_keeps_the_chord_size_its_folder_records(monkeypatch) -> None:
    """The pace keeper of a blank-page piece is given the training music's chord size, as
    `music.json` records it; a tune of the user's sets its own. (How far the nudge moves the
    chords depends on how sure the model is: `bench your_style_piano`, docs/benchmarks.md.)"""
    from core.data.datasets import MusicSummary
    from core.generation import generator as generator_module

    targets: list[float | None] = []

    class Recording(PaceKeeper):
        def __init__(self, **kwargs) -> None:
            super().__init__(**kwargs)
            targets.append(self.target_notes_per_onset)

    monkeypatch.setattr(generator_module, "PaceKeeper", Recording)
    chorales = Generator.from_folder("bach-chorales")
    chorales.music = MusicSummary(
        tempo_bpm=100.0, chord_onset_share=0.9, max_notes_per_onset=4, pitch_low=30,
        pitch_high=90, pieces=10, notes_per_onset=2.5,
    )
    notes = tuple(Note(i * 4, 60 + i % 5, 4) for i in range(8))
    primer = piece_to_primer(Piece("mine", notes, STEPS_PER_QUARTER, 100.0), chorales.encoding)
    chorales.generate(SamplingSettings(length_tokens=40), seed=0)
    chorales.generate(SamplingSettings(length_tokens=40), seed=0, primer=primer)
    chorales.generate(SamplingSettings(length_tokens=40, follow_training_music=False), seed=0)
    assert targets == [2.5, None, None]
