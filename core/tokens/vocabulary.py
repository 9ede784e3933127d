"""The vocabulary: token strings and their ids, built from data or for a whole grid."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from core.storage.files import atomic_write_json
from core.tokens.config import EncodingConfig
from core.tokens.scheme import (
    BOS,
    EOS,
    PAD,
    SPECIAL_TOKENS,
    UNK,
    duration_token,
    pitch_token,
    shift_token,
    token_value,
)


@dataclass(frozen=True)
class Vocabulary:
    """Token strings and their ids; special tokens first (PAD=0, UNK=1, BOS=2, EOS=3)."""

    tokens: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tokens[: len(SPECIAL_TOKENS)] != SPECIAL_TOKENS:
            raise ValueError("a vocabulary starts with the special tokens")
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("a vocabulary has no repeated tokens")
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.tokens)})

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index

    @property
    def pad_id(self) -> int:
        return self._index[PAD]

    @property
    def unk_id(self) -> int:
        return self._index[UNK]

    @property
    def bos_id(self) -> int:
        return self._index[BOS]

    @property
    def eos_id(self) -> int:
        return self._index[EOS]

    def id_of(self, token: str) -> int:
        return self._index.get(token, self.unk_id)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        unk = self.unk_id
        return [self._index.get(t, unk) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[int(i)] for i in ids]

    def coverage(self, tokens: Iterable[str]) -> float:
        """Fraction of `tokens` that the vocabulary knows (1.0 for an empty input)."""
        seen = known = 0
        for token in tokens:
            seen += 1
            known += token in self._index
        return known / seen if seen else 1.0

    @classmethod
    def build(cls, sequences: Iterable[Iterable[str]], *, min_count: int = 1) -> Vocabulary:
        """Every token seen at least `min_count` times, sorted by kind and value."""
        counts: Counter[str] = Counter()
        for sequence in sequences:
            counts.update(sequence)
        kept = [t for t, c in counts.items() if c >= min_count and t not in SPECIAL_TOKENS]
        kept.sort(key=lambda t: ("TPD".index(t[0]), token_value(t)))
        return cls(SPECIAL_TOKENS + tuple(kept))

    @classmethod
    def for_grid(cls, config: EncodingConfig) -> Vocabulary:
        """Every token the config can write: all shifts, pitches and durations of its grid.

        Music on this grid can never hold a token outside it, so a model with this vocabulary
        (the pretrained base) can be fine-tuned on anyone's music without changing its shape.
        """
        shifts = [shift_token(n) for n in range(1, config.max_shift_steps + 1)]
        pitches = [pitch_token(p) for p in range(config.min_pitch, config.max_pitch + 1)]
        durations = [duration_token(n) for n in range(1, config.max_duration_steps + 1)]
        return cls(SPECIAL_TOKENS + tuple(shifts + pitches + durations))

    def to_dict(self) -> dict[str, int]:
        """Token string → id: the format of `vocab.json` everywhere."""
        return dict(self._index)

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> Vocabulary:
        ordered = sorted(data.items(), key=lambda item: item[1])
        if [i for _, i in ordered] != list(range(len(ordered))):
            raise ValueError("vocabulary ids must be 0..n-1")
        return cls(tuple(t for t, _ in ordered))

    def save(self, path: Path) -> None:
        atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        return cls.from_dict(json.loads(Path(path).read_text()))
