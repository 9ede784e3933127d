"""The token grammar as a state machine: which token kinds may come next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.tokens.scheme import BOS, PAD, UNK, TokenKind, token_kind, token_value

# What may follow, made once: the sampler asks for every token.
_NOTHING: frozenset[TokenKind] = frozenset()
_AFTER_PITCH = frozenset({TokenKind.DURATION})
_AFTER_DURATION = frozenset({TokenKind.SHIFT, TokenKind.PITCH, TokenKind.SPECIAL})
_AFTER_SHIFT = frozenset({TokenKind.SHIFT, TokenKind.PITCH})  # and after BOS


@dataclass
class GrammarState:
    """Which token kinds may come next; the sampler masks everything else.

    After BOS or a shift: a shift or a pitch. After a pitch: its duration. After a duration: a
    shift, a higher pitch in the same chord, or EOS. EOS is only allowed after a whole note.
    """

    last_kind: TokenKind | None = None  # None: just after BOS
    last_pitch_in_chord: int = -1
    finished: bool = False

    def allowed_kinds(self) -> frozenset[TokenKind]:
        if self.finished:
            return _NOTHING
        if self.last_kind is TokenKind.PITCH:
            return _AFTER_PITCH
        if self.last_kind is TokenKind.DURATION:
            return _AFTER_DURATION
        return _AFTER_SHIFT

    def allows(self, token: str) -> bool:
        if token in (PAD, UNK, BOS):
            return False
        kind = token_kind(token)
        if kind not in self.allowed_kinds():
            return False
        return not (kind is TokenKind.PITCH and token_value(token) <= self.last_pitch_in_chord)

    def advance(self, token: str) -> None:
        if not self.allows(token):
            raise ValueError(f"token {token!r} breaks the grammar here")
        kind = token_kind(token)
        if kind is TokenKind.SPECIAL:  # EOS
            self.finished = True
        elif kind is TokenKind.SHIFT:
            self.last_pitch_in_chord = -1
        elif kind is TokenKind.PITCH:
            self.last_pitch_in_chord = token_value(token)
        self.last_kind = kind

    @classmethod
    def after(cls, tokens: Sequence[str]) -> GrammarState:
        """The state after a valid prefix (which may start with BOS)."""
        state = cls()
        for token in tokens:
            if token != BOS:
                state.advance(token)
        return state
