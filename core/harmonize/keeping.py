"""A harmonization as the library keeps a piece: a `GenerationResult` of the merged voices.

The library keeps, plays and shares `GenerationResult`s; a harmonization becomes one whose
piece is every voice merged, whose MIDI keeps one track per voice (each its instrument), and
whose tokens are the merged piece's, with no primer: nothing of it came from a model's prompt.
Its `model_name` is `HARMONIZER_NAME`, which says that no generating model made it, so "keep
the good bars" and "make it longer" (which need one) are not offered for it.
"""

from __future__ import annotations

from core.errors import MusicLimitError
from core.generation import GenerationResult, SamplingSettings
from core.generation.settings import MAX_TEMPO_BPM, MIN_TEMPO_BPM
from core.harmonize.result import Harmonization
from core.library.records import MAX_STORED_NOTES, MAX_STORED_TOKENS
from core.music.scales import mode_to_scale
from core.tokens import EncodingConfig
from core.tokens.scheme import piece_to_tokens

HARMONIZER_NAME = "harmonizer"  # the model_name of every kept harmonization


def is_harmonized(result: GenerationResult) -> bool:
    """Whether the piece is a harmonization (no generating model made it)."""
    return result.model_name == HARMONIZER_NAME


def harmonization_to_result(harmonization: Harmonization) -> GenerationResult:
    """The harmonization as a kept piece: merged voices, one MIDI track per voice, its seed.

    Raises:
        MusicLimitError: it holds more notes or tokens than a kept piece may.
    """
    piece = harmonization.piece
    tokens = tuple(
        piece_to_tokens(piece, EncodingConfig(steps_per_quarter=piece.steps_per_quarter))
    )
    if len(tokens) > MAX_STORED_TOKENS or len(piece.notes) > MAX_STORED_NOTES:
        raise MusicLimitError(
            f"{harmonization.melody.name}: harmonized, it is longer than a piece your pieces "
            "keep; download it instead"
        )
    tonic, mode = harmonization.melody.tonic_and_mode
    settings = SamplingSettings(
        tempo_bpm=min(max(piece.tempo_bpm, MIN_TEMPO_BPM), MAX_TEMPO_BPM),
        program=harmonization.voice_programs()[0],
    )
    return GenerationResult(
        tokens=tokens,
        primer_length=0,
        piece=piece,
        midi_bytes=harmonization.midi_bytes,
        seed=harmonization.seed,
        settings=settings,
        model_name=HARMONIZER_NAME,
        tonic=tonic,
        scale=mode_to_scale(mode).value,
    )
