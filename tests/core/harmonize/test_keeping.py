"""A harmonization kept as a piece: written to the library and read back whole, under the title
asked for, marked as harmonized, and shared saying how it was harmonized."""

from __future__ import annotations

from dataclasses import replace

from core.harmonize import Harmonization, HarmonyStyle, melody_from_piece
from core.harmonize.keeping import HARMONIZER_NAME, harmonization_to_result, is_harmonized
from core.library import Kind, Library
from core.library.published import read_copy
from core.music.midi import read_midi
from core.music.piece import DEFAULT_STEPS_PER_QUARTER, Note, Piece
from core.tokens.scheme import BOS

SPQ = DEFAULT_STEPS_PER_QUARTER


def _harmonization() -> Harmonization:
    tune = Piece("hymn", tuple(Note(i * SPQ, p, SPQ) for i, p in enumerate((64, 62, 60, 62))))
    melody = melody_from_piece(tune)
    lower = [replace(melody.piece, notes=tuple(replace(n, pitch=n.pitch - s) for n in melody.notes))
             for s in (4, 9, 16)]  # fmt: skip
    return Harmonization(melody=melody, style=HarmonyStyle.CHORALE, seed=3,
                         voices=(melody.piece, *lower),
                         voice_names=("Soprano", "Alto", "Tenor", "Bass"))  # fmt: skip


def test_a_harmonization_becomes_a_result_of_its_merged_voices() -> None:
    h = _harmonization()
    result = harmonization_to_result(h)
    assert is_harmonized(result) and result.model_name == HARMONIZER_NAME
    assert result.piece.notes == h.piece.notes and len(result.piece.notes) == 16
    assert result.primer_length == 0 and result.seed == 3
    assert result.tokens[0] == BOS and len(result.tokens) > 16
    assert len(read_midi(result.midi_bytes).instruments) == 4  # a track per voice
    assert result.key_label == "D natural minor"  # the key estimated from the tune: E D C D


def test_a_kept_harmonization_reads_back_and_is_shared_with_its_style(tmp_path, isolated_data_dir):
    shelf = Library(tmp_path / "ws")
    result = harmonization_to_result(_harmonization())
    record = shelf.add(result, kind=Kind.HARMONIZED, style="Four voices (chorale)",
                       title="hymn, harmonized")  # fmt: skip
    assert record.title == "hymn, harmonized" and record.kind is Kind.HARMONIZED
    again = shelf.result(record.id)
    assert again == result
    assert shelf.pieces()[0].kind is Kind.HARMONIZED
    shared = shelf.publish(record.id)
    copy = read_copy(shared.published_id)
    assert copy.style == "Four voices (chorale)" and copy.midi_bytes == result.midi_bytes


def test_a_title_with_nothing_readable_gives_way_to_a_made_one(tmp_path) -> None:
    shelf = Library(tmp_path / "ws")
    record = shelf.add(harmonization_to_result(_harmonization()), kind=Kind.HARMONIZED,
                       style="Four voices (chorale)", title="  \x00 ")  # fmt: skip
    assert record.title.strip()
