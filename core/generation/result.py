"""What a generation gives back: `GenerationResult`, the piece with its tokens, MIDI and recipe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.generation.primers import Primer
from core.generation.settings import SamplingSettings
from core.music.piece import Piece
from core.music.scales import key_label, tonic_name
from core.tokens.scheme import EOS, TokenKind, token_kind, token_value


@dataclass(frozen=True)
class GenerationResult:
    """A generated piece: its tokens (BOS, primer, new tokens, EOS), the decoded piece and MIDI.

    Tokens are in the model's key; the piece and MIDI are moved by `transpose_semitones` into the
    key heard (`tonic`, `scale`: what was asked for or the tune's key; None when neither).
    """

    tokens: tuple[str, ...]
    primer_length: int  # tokens after BOS that came from the primer
    piece: Piece
    midi_bytes: bytes
    seed: int
    settings: SamplingSettings
    model_name: str = ""
    primer: Primer | None = None
    transpose_semitones: int = 0  # output pitch = token pitch + this
    tonic: int | None = None
    scale: str | None = None
    # The rules that followed the training music (`SamplingSettings.follow_training_music` and
    # what the model folder records): one note at a time; new notes within this pitch range.
    one_line: bool = False
    pitch_limits: tuple[int, int] | None = None

    @property
    def new_tokens(self) -> tuple[str, ...]:
        return tuple(t for t in self.tokens[1 + self.primer_length :] if t != EOS)

    @property
    def seam_step(self) -> int:
        """The time step where the new music starts (0 without a primer)."""
        primer = self.tokens[1 : 1 + self.primer_length]
        return sum(token_value(t) for t in primer if token_kind(t) is TokenKind.SHIFT)

    @property
    def seam_s(self) -> float:
        """`seam_step` in seconds at the piece's tempo."""
        return self.seam_step / self.piece.steps_per_quarter * 60.0 / self.piece.tempo_bpm

    @property
    def key_label(self) -> str:
        """The key heard, e.g. "D major" or "F# blues"; "" when it is unknown."""
        if self.tonic is None:
            return ""
        return key_label(self.tonic, self.scale) if self.scale else tonic_name(self.tonic)

    def summary(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "seed": self.seed,
            "tokens": len(self.tokens),
            "primer_tokens": self.primer_length,
            "new_tokens": len(self.new_tokens),
            "notes": len(self.piece.notes),
            "duration_s": round(self.piece.duration_s, 3),
            "key": self.key_label,
            "scale_locked": self.settings.lock_scale,
            "transpose_semitones": self.transpose_semitones,
            "one_line": self.one_line,
            "pitch_limits": list(self.pitch_limits) if self.pitch_limits else None,
            "settings": self.settings.to_dict(),
        }
