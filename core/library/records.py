"""A generated piece as JSON and back: what the library keeps of a `GenerationResult` (its
tokens, the decoded piece, the recipe, the key), so that after a reload "keep the good bars",
"make it longer" and sharing work on it as on a piece just made.

The files live in the visitor's workspace, where only this module writes them; they are read
back checked all the same (types, ranges, sizes), and anything wrong is one `ValueError`.
"""

from __future__ import annotations

from typing import Any

from core.generation import GenerationResult, Primer, SamplingSettings
from core.generation.continuation import MAX_CONTINUED_TOKENS
from core.generation.generator import FINAL_CHORD_TOKENS
from core.generation.settings import MAX_LENGTH_TOKENS
from core.music import Piece

RESULT_FORMAT = 1
# The longest piece the app makes: "make it longer" continues up to MAX_CONTINUED_TOKENS by up
# to MAX_LENGTH_TOKENS new ones (and a last chord), with BOS and EOS.
MAX_STORED_TOKENS = MAX_CONTINUED_TOKENS + MAX_LENGTH_TOKENS + FINAL_CHORD_TOKENS + 2
MAX_TOKEN_CHARS = 12  # "T48", "P127", "D64", "<BOS>": a token is a few characters
MAX_STORED_NOTES = MAX_STORED_TOKENS  # a note takes at least two tokens


def _primer_to_dict(primer: Primer | None) -> dict[str, Any] | None:
    if primer is None:
        return None
    return {
        "tokens": list(primer.tokens),
        "transpose_semitones": primer.transpose_semitones,
        "tempo_bpm": primer.tempo_bpm,
        "name": primer.name,
        "tonic": primer.tonic,
        "scale": primer.scale,
        "meter": primer.meter,
        "pickup_steps": primer.pickup_steps,
        "from_training": primer.from_training,
    }


def result_to_dict(result: GenerationResult) -> dict[str, Any]:
    """Everything of `result` but its MIDI bytes (kept beside it as a file), as JSON values."""
    return {
        "format": RESULT_FORMAT,
        "tokens": list(result.tokens),
        "primer_length": result.primer_length,
        "piece": result.piece.to_dict(),
        "seed": result.seed,
        "settings": result.settings.to_dict(),
        "model_name": result.model_name,
        "primer": _primer_to_dict(result.primer),
        "transpose_semitones": result.transpose_semitones,
        "tonic": result.tonic,
        "scale": result.scale,
        "one_line": result.one_line,
        "pitch_limits": list(result.pitch_limits) if result.pitch_limits else None,
    }


def is_of(value: Any, kind: type | tuple[type, ...]) -> bool:
    """isinstance, except that True and False are not numbers here."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return isinstance(value, kinds) and (bool in kinds or not isinstance(value, bool))


def _get(data: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(key)
    if not is_of(value, kind):
        raise ValueError(f"{key} is not what it should be")
    return value


def _optional(data: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    return None if data.get(key) is None else _get(data, key, kind)


def _tokens(value: Any, *, limit: int) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > limit:
        raise ValueError("the tokens are not a list of at most the longest piece")
    if not all(isinstance(t, str) and 0 < len(t) <= MAX_TOKEN_CHARS for t in value):
        raise ValueError("a token is not a short text")
    return tuple(value)


def _tonic(data: dict[str, Any], key: str) -> int | None:
    tonic = _optional(data, key, int)
    if tonic is not None and not 0 <= tonic <= 11:
        raise ValueError(f"{key} is not a pitch class")
    return tonic


def _primer_from_dict(data: Any) -> Primer | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ValueError("the primer is not a record")
    tempo = _optional(data, "tempo_bpm", (int, float))
    return Primer(
        _tokens(data.get("tokens"), limit=MAX_STORED_TOKENS),
        transpose_semitones=_get(data, "transpose_semitones", int),
        tempo_bpm=float(tempo) if tempo is not None else None,
        name=str(_get(data, "name", str))[:200],
        tonic=_tonic(data, "tonic"),
        scale=_optional(data, "scale", str),
        # records from before meters hold none: "" (4/4) from a bar line, as they were made
        meter=_optional(data, "meter", str) or "",
        pickup_steps=_optional(data, "pickup_steps", int) or 0,
        from_training=_optional(data, "from_training", bool) or False,
    )


def _piece_from_dict(data: Any) -> Piece:
    if not isinstance(data, dict) or not isinstance(data.get("notes"), list):
        raise ValueError("the piece is not a record of notes")
    if len(data["notes"]) > MAX_STORED_NOTES:
        raise ValueError("the piece holds more notes than the longest piece")
    try:
        return Piece.from_dict(data)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"the piece cannot be read ({error})") from error


def dict_to_result(data: Any, midi_bytes: bytes) -> GenerationResult:
    """The result `result_to_dict` wrote, with its MIDI.

    Raises:
        ValueError: a field is missing, of the wrong type or out of range.
    """
    if not isinstance(data, dict) or data.get("format") != RESULT_FORMAT:
        raise ValueError("not a piece this app wrote")
    tokens = _tokens(data.get("tokens"), limit=MAX_STORED_TOKENS)
    primer_length = _get(data, "primer_length", int)
    if not 0 <= primer_length <= len(tokens):
        raise ValueError("primer_length is out of range")
    settings_data = _get(data, "settings", dict)
    try:
        settings = SamplingSettings.from_dict(settings_data)
    except (TypeError, ValueError) as error:
        raise ValueError(f"the settings cannot be used ({error})") from error
    limits = _optional(data, "pitch_limits", list)
    if limits is not None and not (len(limits) == 2 and all(is_of(p, int) for p in limits)):
        raise ValueError("pitch_limits is not two pitches")
    return GenerationResult(
        tokens=tokens,
        primer_length=primer_length,
        piece=_piece_from_dict(data.get("piece")),
        midi_bytes=midi_bytes,
        seed=_get(data, "seed", int),
        settings=settings,
        model_name=_get(data, "model_name", str),
        primer=_primer_from_dict(data.get("primer")),
        transpose_semitones=_get(data, "transpose_semitones", int),
        tonic=_tonic(data, "tonic"),
        scale=_optional(data, "scale", str),
        one_line=_get(data, "one_line", bool),
        pitch_limits=(limits[0], limits[1]) if limits else None,
    )
