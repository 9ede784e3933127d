"""The one base of every settings record: a frozen dataclass that goes to a dict, to JSON and back.

`to_dict` gives plain JSON values (enums as their values, tuples as lists); `from_dict` drops
keys the class does not know (a file written by a newer version still loads) and turns the
values back through `_from_plain`, the one hook a subclass overrides when a field needs more
than the dataclass constructor (an enum, a tuple, infinity stored as null).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from enum import Enum
from pathlib import Path
from typing import Any, Self

from core.storage.files import atomic_write_json


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Config):
        return value.to_dict()
    return value


class Config:
    """Mixin for frozen dataclasses: `to_dict`, `from_dict`, `save` and `load` (JSON)."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        known = {f.name for f in fields(cls) if f.init}  # type: ignore[arg-type]
        return cls(**cls._from_plain({k: v for k, v in data.items() if k in known}))

    @classmethod
    def _from_plain(cls, values: dict[str, Any]) -> dict[str, Any]:
        """The constructor's arguments from JSON values; the identity unless a field needs more."""
        return values

    def save(self, path: Path | str) -> None:
        atomic_write_json(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: Path | str) -> Self:
        return cls.from_dict(json.loads(Path(path).read_text()))
