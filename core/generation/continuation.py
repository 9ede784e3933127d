"""A new piece from part of another: "keep the good bars" (the first bars stay, the rest is
generated again) and "make it longer" (the whole piece goes on).

Both hand the generator the original's own tokens as a primer, in the model's key and moved back
by the original's transposition, so what is kept sounds exactly as before. Bars are the piece's
own (`core.music.piece.bar_grid`: its meter's, from its pickup; 4/4 bars of `BEATS_PER_BAR`
quarter notes when it states none), counted from its first: a pickup is a short bar 1. The new
piece keeps the original's meter and bar lines.
"""

from __future__ import annotations

from dataclasses import replace

from core.errors import InvalidSettingError
from core.generation.generator import Generator
from core.generation.primers import Primer
from core.generation.result import GenerationResult
from core.generation.settings import MAX_LENGTH_S, MAX_LENGTH_TOKENS, SamplingSettings
from core.music.piece import BEATS_PER_BAR, Piece, bar_grid, steps_per_bar
from core.tokens.scheme import BOS, EOS, TokenKind, shift_token, token_kind, token_value

MAX_KEEP_BARS_VARIATIONS = 4
# A piece is continued from all of its tokens. Its own music is not an upload, so the upload
# limit (core.generation.primers.MAX_PRIMER_TOKENS) does not apply; reading it costs what
# generating it did, so the limit is the longest piece the sampler makes.
MAX_CONTINUED_TOKENS = MAX_LENGTH_TOKENS

__all__ = [
    "BEATS_PER_BAR",
    "MAX_CONTINUED_TOKENS",
    "MAX_KEEP_BARS_VARIATIONS",
    "bar_count",
    "first_bars",
    "keep_bars",
    "keep_bars_primer",
    "make_longer",
    "steps_per_bar",
]


def bar_count(music: GenerationResult | Piece) -> int:
    """Bars in which notes start: up to the bar of the last onset (0 without notes).

    A last chord held over the bar line adds no bar: nothing new could start there.
    """
    piece = music.piece if isinstance(music, GenerationResult) else music
    if not piece.notes:
        return 0
    return bar_grid(piece).bar_of(max(n.onset_step for n in piece.notes)) + 1


def first_bars(piece: Piece, bars: int) -> Piece:
    """The notes that start in bars 1..`bars`, with their durations untouched.

    Raises:
        ValueError: `bars` is not within 1..bar_count(piece).
    """
    total = bar_count(piece)
    if not 1 <= bars <= total:
        raise InvalidSettingError(
            f"keep between 1 and {total} bars (the piece has {total}), not {bars}"
        )
    end_step = bar_grid(piece).bar_start(bars)
    return replace(piece, notes=tuple(n for n in piece.notes if n.onset_step < end_step))


def keep_bars_primer(result: GenerationResult, bars: int) -> Primer:
    """The first `bars` bars of a generated piece as a primer that continues it unchanged.

    The tokens are cut before the first time shift that reaches the end of bar `bars`, and a
    shift up to that bar line is added, so every note starting in those bars is kept exactly and
    nothing new starts before the bar line. At least the last bar (`bar_count`) is new.

    Raises:
        ValueError: `bars` is not within 1..bar_count(result) - 1.
    """
    total = bar_count(result)
    if total < 2:
        raise InvalidSettingError(
            f"the piece is {total} bar(s) long: there is no bar to keep and vary"
        )
    if not 1 <= bars < total:
        raise InvalidSettingError(
            f"keep between 1 and {total - 1} bars (the piece has {total}), not {bars}"
        )
    end_step = bar_grid(result.piece).bar_start(bars)
    body = [t for t in result.tokens if t not in (BOS, EOS)]
    kept: list[str] = []
    time_step = 0
    for token in body:
        if token_kind(token) is TokenKind.SHIFT:
            if time_step + token_value(token) >= end_step:
                break
            time_step += token_value(token)
        kept.append(token)
    # A later bar holds a note, so a shift did reach the bar line: the rest is shorter than it.
    kept.append(shift_token(end_step - time_step))
    return _own_primer(result, kept, name=f"{result.piece.name}, bars 1-{bars}")


def keep_bars(
    generator: Generator,
    result: GenerationResult,
    bars: int,
    *,
    seed: int,
    count: int,
    settings: SamplingSettings | None = None,
) -> list[GenerationResult]:
    """`count` new pieces (seeds seed, seed + 1, ...) that keep bars 1..`bars` of `result` and
    go on for the rest of its length (at least a bar), in its key.

    `settings` default to the original's; the key is always the original's, so nothing moves.

    Raises:
        ValueError: `bars` or `count` out of range, or the piece is too long to continue.
    """
    if not 1 <= count <= MAX_KEEP_BARS_VARIATIONS:
        raise InvalidSettingError(f"make 1 to {MAX_KEEP_BARS_VARIATIONS} variations, not {count}")
    primer = keep_bars_primer(result, bars)
    _check_length(primer)
    base = settings or result.settings
    bars_of = bar_grid(result.piece)
    rest_steps = max(result.piece.length_steps - bars_of.bar_start(bars), bars_of.bar_steps)
    rest_s = rest_steps / result.piece.steps_per_quarter * 60.0 / base.tempo_bpm
    continued = replace(base, length_s=min(rest_s, MAX_LENGTH_S), key=result.tonic)
    return generator.generate_variations(continued, seed=seed, count=count, primer=primer)


def make_longer(
    generator: Generator, result: GenerationResult, seconds: float, *, seed: int
) -> GenerationResult:
    """The whole piece, continued by `seconds` more of new music with its own settings.

    Raises:
        ValueError: `seconds` not within (0, MAX_LENGTH_S], or the piece holds more than
            MAX_CONTINUED_TOKENS tokens (too long to continue).
    """
    if not 0.0 < seconds <= MAX_LENGTH_S:
        raise InvalidSettingError(f"add between 0 and {MAX_LENGTH_S:g} seconds, not {seconds:g}")
    body = [t for t in result.tokens if t not in (BOS, EOS)]
    primer = _own_primer(result, body, name=f"{result.piece.name}, longer")
    _check_length(primer)
    settings = replace(result.settings, length_s=seconds, key=result.tonic)
    return generator.generate(settings, seed=seed, primer=primer)


def _own_primer(result: GenerationResult, tokens: list[str], *, name: str) -> Primer:
    """Tokens of `result` (model space) as a primer that sounds where `result` did, in its
    meter with its bar lines."""
    return Primer(
        tuple(tokens),
        transpose_semitones=-result.transpose_semitones,
        tempo_bpm=result.piece.tempo_bpm,
        name=name,
        tonic=result.tonic,
        scale=result.scale,
        meter=result.piece.meter,
        pickup_steps=result.piece.pickup_steps,
    )


def _check_length(primer: Primer) -> None:
    if len(primer.tokens) > MAX_CONTINUED_TOKENS:
        raise InvalidSettingError(
            f"the piece is too long to continue: {len(primer.tokens)} tokens, "
            f"the limit is {MAX_CONTINUED_TOKENS}"
        )
