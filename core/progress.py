"""The one progress callback: `on_progress(done, total, info)`.

`info` is a short sentence for people (reading a file, generating a piece) or, for training, a
`core.training.records.TrainingProgress` record; the callback's type names which.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

Info = TypeVar("Info")

ProgressCallback = Callable[[int, int, Info], None]  # ProgressCallback[str], ...[TrainingProgress]
