"""The encoding config: everything that decides how music becomes tokens. Saved beside every
dataset and model."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config
from core.errors import InvalidSettingError
from core.music.piece import DEFAULT_STEPS_PER_QUARTER, GRIDS, PIANO_MAX_PITCH, PIANO_MIN_PITCH

DEFAULT_MAX_SHIFT_QUARTERS = 4  # one 4/4 bar; longer silences take several shift tokens

DEFAULT_MAX_DURATION_QUARTERS = 16  # longer notes are cut to four 4/4 bars


@dataclass(frozen=True)
class EncodingConfig(Config):
    """Everything that decides how music becomes tokens. Saved beside every dataset and model."""

    steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER
    max_shift_quarters: int = DEFAULT_MAX_SHIFT_QUARTERS
    max_duration_quarters: int = DEFAULT_MAX_DURATION_QUARTERS
    min_pitch: int = PIANO_MIN_PITCH
    max_pitch: int = PIANO_MAX_PITCH
    normalize_key: bool = False  # transpose every piece to C major / A minor
    # Training augmentation: every piece is also seen transposed by -n..+n semitones. The
    # vocabulary is built over those transpositions so the model can name every pitch it sees.
    transpose_semitones: int = 0

    def __post_init__(self) -> None:
        if self.steps_per_quarter not in GRIDS.values():
            raise InvalidSettingError(
                f"steps_per_quarter must be one of {sorted(set(GRIDS.values()))}"
            )
        if not 0 <= self.min_pitch <= self.max_pitch <= 127:
            raise InvalidSettingError("pitch range must lie within 0..127")
        if self.max_shift_quarters < 1 or self.max_duration_quarters < 1:
            raise InvalidSettingError("max shift and duration must be at least one quarter note")
        if not 0 <= self.transpose_semitones <= 12:
            raise InvalidSettingError("transpose_semitones must be within 0..12")

    @property
    def max_shift_steps(self) -> int:
        return self.max_shift_quarters * self.steps_per_quarter

    @property
    def max_duration_steps(self) -> int:
        return self.max_duration_quarters * self.steps_per_quarter
