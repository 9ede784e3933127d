"""What a message element shows: pages escape user text for Markdown (ui.text.plain), so the
element's raw value holds backslashes the reader never sees."""

from __future__ import annotations

import re
from typing import Any

_ESCAPE = re.compile(r"\\(.)")


def shown(element: Any) -> str:
    return _ESCAPE.sub(r"\1", str(element.value))


def shown_all(elements: Any) -> list[str]:
    return [shown(e) for e in elements]
