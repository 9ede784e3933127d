"""Chords for a tune: names, the suggested chart, the accompaniment, changing a chord."""

from __future__ import annotations

import itertools
import time

import pytest

from core.errors import InvalidSettingError
from core.harmonize.accompaniment import accompany, bar_groups
from core.harmonize.chord_fit import KEY_CHORDS, ChordsPer, chord_grid, estimate_pickup_steps
from core.harmonize.chord_names import (
    ALL_CHORDS,
    ChordQuality,
    chord_name,
    parse_chord,
    spell_chord,
)
from core.harmonize.chord_tables import FOLK_CHORDS_PATH, folk_tables, read_tables
from core.harmonize.chords import chord_choices, harmonize_with_chords, suggest_chords, with_chord
from core.harmonize.melody import Melody, melody_from_piece
from core.harmonize.result import HarmonyStyle
from core.music.piece import Note, Piece

C_SCALE = (60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60, 60)
# "Twinkle" in D major: D D A A B B A- G G F# F# E E D-
TWINKLE_D = (62, 62, 69, 69, 71, 71, 69, 67, 67, 66, 66, 64, 64, 62)
TWINKLE_LENGTHS = (4, 4, 4, 4, 4, 4, 8, 4, 4, 4, 4, 4, 4, 8)


def line(
    pitches: tuple[int, ...], lengths: tuple[int, ...] | int = 4, *, meter: str = "4/4"
) -> Melody:
    if isinstance(lengths, int):
        lengths = (lengths,) * len(pitches)
    notes, step = [], 0
    for pitch, length in zip(pitches, lengths, strict=True):
        notes.append(Note(step, pitch, length))
        step += length
    return melody_from_piece(Piece("tune", tuple(notes), meter=meter, tempo_bpm=100.0))


def jig() -> Melody:
    """A 6/8 tune in G, four bars of eighths and dotted quarters."""
    bars = [
        [(67, 2), (71, 2), (74, 2), (71, 2), (67, 2), (71, 2)],
        [(72, 2), (76, 2), (79, 2), (76, 6)],
        [(74, 2), (78, 2), (81, 2), (78, 2), (74, 2), (72, 2)],
        [(71, 6), (67, 6)],
    ]
    pitches = tuple(p for bar in bars for p, _ in bar)
    lengths = tuple(d for bar in bars for _, d in bar)
    return line(pitches, lengths, meter="6/8")


# ---------------------------------------------------------------- names


def test_names_parse_and_spell() -> None:
    assert parse_chord("D7") == (2, 6, 9, 0)
    assert parse_chord("F#m") == (6, 9, 1)
    assert parse_chord("Bdim") == (11, 2, 5)
    assert parse_chord("Bb") == (10, 2, 5)
    assert spell_chord("A#") == "Bb" and spell_chord("ebm") == "Ebm" and spell_chord("Gmaj") == "G"
    assert spell_chord("E-") == "Eb"  # music21's flat
    assert chord_name(7, ChordQuality.DOMINANT_SEVENTH) == "G7"
    assert chord_name(6, "m") == "F#m"
    assert len({c.name for c in ALL_CHORDS}) == 48


@pytest.mark.parametrize("bad", ["", "H", "Cmaj9", "X7", "G sus"])
def test_bad_chord_name_refused_with_a_sentence(bad: str) -> None:
    with pytest.raises(InvalidSettingError, match=r"chord.* "):
        parse_chord(bad)


# ---------------------------------------------------------------- suggested charts


def test_c_major_scale_gets_primary_chords() -> None:
    chords = suggest_chords(line(C_SCALE))
    assert chords
    assert {c.name for c in chords} <= {"C", "F", "G", "G7", "Am", "Dm", "Em"}
    assert chords[-1].name == "C"


def test_d_major_tune_gets_d_g_a_spelled_right() -> None:
    melody = line(TWINKLE_D, TWINKLE_LENGTHS)
    assert melody.piece.key == "D major"
    names = {c.name for c in suggest_chords(melody, pickup_steps=0)}
    assert names <= {"D", "G", "A", "A7", "Bm", "Em", "F#m"}
    assert {"D", "G"} <= names and names & {"A", "A7"}


def test_chart_covers_the_tune_in_order_on_the_grid() -> None:
    melody = line(C_SCALE)
    chords = suggest_chords(melody, pickup_steps=0)
    assert chords[0].onset_step == 0
    for a, b in itertools.pairwise(chords):
        assert a.end_step == b.onset_step
    assert chords[-1].end_step == melody.piece.length_steps


def test_a_hymn_opens_and_closes_on_its_keys_chord() -> None:
    # G G F# E | D- G A | B B B A | G- ... | E F# G-: the last bar's downbeat E fits C, but a
    # person ends a tune in G on G
    pitches = (67, 67, 66, 64, 62, 67, 69, 71, 71, 71, 69, 67, 72, 71, 69, 67, 64, 66, 67)
    lengths = (4, 4, 4, 4, 8, 4, 4, 4, 4, 4, 4, 8, 4, 4, 4, 4, 4, 4, 8)
    chart = suggest_chords(line(pitches, lengths), pickup_steps=0)
    assert chart[0].name == "G" and chart[-1].name == "G"


def test_six_eight_at_most_two_chords_per_bar() -> None:
    melody = jig()
    chords = suggest_chords(melody, pickup_steps=0)
    per_bar: dict[int, int] = {}
    for chord in chords:
        assert chord.onset_step % 6 == 0  # on a dotted-quarter beat
        per_bar[chord.onset_step // 12] = per_bar.get(chord.onset_step // 12, 0) + 1
    assert max(per_bar.values()) <= 2
    assert len(suggest_chords(melody, per="bar", pickup_steps=0)) <= 4


@pytest.mark.parametrize("meter", ["2/4", "3/4", "4/4", "6/8", "9/8", "", "2/2", "5/4"])
def test_any_meter_rests_and_one_bar(meter: str) -> None:
    notes = (Note(0, 67, 2), Note(4, 71, 2), Note(10, 74, 3))  # rests between
    melody = melody_from_piece(Piece("short", notes, meter=meter))
    harmonization = harmonize_with_chords(melody)
    assert harmonization.chords
    assert harmonization.voices[0] == melody.piece


def test_same_seed_same_chart_and_seeds_differ() -> None:
    melody = jig()
    assert suggest_chords(melody, seed=3) == suggest_chords(melody, seed=3)
    tunes = [line(C_SCALE), line(TWINKLE_D, TWINKLE_LENGTHS), jig()]
    assert any(suggest_chords(m, seed=s) != suggest_chords(m) for m in tunes for s in (1, 2, 3))


def test_bad_per_and_seed_refused() -> None:
    with pytest.raises(InvalidSettingError, match="per 'bar'"):
        suggest_chords(jig(), per="beat")
    with pytest.raises(InvalidSettingError, match="seed"):
        suggest_chords(jig(), seed=-1)


def test_pickup_found_for_an_upbeat_tune() -> None:
    # The C scale tune behind a two-eighth upbeat (G A): bars then start at step 4.
    upbeat = line((67, 69, *C_SCALE), (2, 2, *(4,) * len(C_SCALE)))
    assert estimate_pickup_steps(upbeat) % 4 == 0
    chords = suggest_chords(upbeat)
    assert (
        chords[0].onset_step
        == chord_grid(upbeat, pickup_steps=estimate_pickup_steps(upbeat)).pickup_steps
    )


# ---------------------------------------------------------------- accompaniment


def test_melody_kept_and_accompaniment_below() -> None:
    melody = line(TWINKLE_D, TWINKLE_LENGTHS)
    for pattern in ("piano", "guitar"):
        result = accompany(melody, suggest_chords(melody), pattern=pattern)
        assert result.style is HarmonyStyle.CHORDS
        assert result.voices[0] is melody.piece
        assert result.voice_names == ("Melody", "Bass", "Chords")
        lowest = melody.piece.pitch_range[0]
        bass, upper = result.voices[1], result.voices[2]
        assert bass.notes and upper.notes
        assert max(n.pitch for n in upper.notes) < lowest
        assert max(n.pitch for n in bass.notes) < min(n.pitch for n in upper.notes)
        for voice in result.voices[1:]:
            assert (voice.tempo_bpm, voice.meter, voice.key, voice.steps_per_quarter) == (
                melody.piece.tempo_bpm,
                melody.piece.meter,
                melody.piece.key,
                melody.piece.steps_per_quarter,
            )
            assert voice.length_steps <= melody.piece.length_steps


def test_six_eight_pattern_in_dotted_quarter_groups() -> None:
    melody = jig()
    _, groups = bar_groups(melody)
    assert groups == [[0, 2, 4, 6], [6, 8, 10, 12]]
    result = accompany(melody, suggest_chords(melody, pickup_steps=0))
    assert {n.onset_step % 6 for n in result.voices[1].notes} == {0}  # bass on each beat
    assert {n.onset_step % 6 for n in result.voices[2].notes} == {2, 4}  # chord, chord


def test_four_four_oom_pah() -> None:
    melody = line(C_SCALE)
    result = accompany(melody, suggest_chords(melody, pickup_steps=0, per=ChordsPer.BAR))
    assert {n.onset_step % 8 for n in result.voices[1].notes} == {0}
    assert {n.onset_step % 8 for n in result.voices[2].notes} == {4}
    first_bar_bass = [n.pitch for n in result.voices[1].notes if n.onset_step < 16]
    assert [p % 12 for p in first_bar_bass] == [0, 7]  # C chord: root, then fifth


def test_unknown_pattern_refused() -> None:
    with pytest.raises(InvalidSettingError, match="pattern"):
        accompany(jig(), suggest_chords(jig()), pattern="polka")


# ---------------------------------------------------------------- changing a chord


def test_with_chord_changes_exactly_one() -> None:
    melody = line(TWINKLE_D, TWINKLE_LENGTHS)
    chords = suggest_chords(melody)
    changed = with_chord(chords, 1, "em")
    assert changed[1].name == "Em"
    assert changed[1].onset_step == chords[1].onset_step
    assert [c for i, c in enumerate(changed) if i != 1] == [
        c for i, c in enumerate(chords) if i != 1
    ]
    again = accompany(melody, changed)
    assert again.chords == changed


def test_with_chord_refuses_bad_name_and_index() -> None:
    chords = suggest_chords(jig())
    with pytest.raises(InvalidSettingError, match="not a chord"):
        with_chord(chords, 0, "Q7")
    with pytest.raises(InvalidSettingError, match="no chord number"):
        with_chord(chords, len(chords), "G")


def test_chord_choices_key_chords_first() -> None:
    melody = line(TWINKLE_D, TWINKLE_LENGTHS)
    chords = suggest_chords(melody, pickup_steps=0)
    choices = chord_choices(melody, chords, 0)
    assert choices[0] == "D"
    assert set(choices[:11]) == {"D", "G", "A", "A7", "Em", "F#m", "Bm", "E7", "F#7", "B7", "C"}
    assert len(choices) == len(set(choices)) == len(ALL_CHORDS)
    with pytest.raises(InvalidSettingError, match="no chord number"):
        chord_choices(melody, chords, -1)


def test_bundled_tables_are_probabilities_of_the_key_chords() -> None:
    tables = read_tables(FOLK_CHORDS_PATH)
    assert set(tables) == set(folk_tables()) == {"major", "minor"}
    for mode, table in tables.items():
        assert table.chords == KEY_CHORDS[mode]
        for row in (table.start, table.end, *table.into_bar, *table.within_bar):
            assert row.min() > 0
            assert abs(row.sum() - 1) < 1e-4


def test_a_twenty_second_tune_is_fast() -> None:
    melody = line(C_SCALE * 3 + TWINKLE_D, (4,) * 48 + TWINKLE_LENGTHS)
    assert 15 < melody.piece.duration_s < 40
    harmonize_with_chords(melody)  # warm
    start = time.perf_counter()
    harmonize_with_chords(melody, seed=1)
    assert time.perf_counter() - start < 0.2
