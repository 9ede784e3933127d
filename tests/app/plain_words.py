"""What a page says before anyone opens a "details" expander or popover, for the tests that
machine-learning words stay behind them (issue 25)."""

from __future__ import annotations

from typing import Any

from tests.app.shown import shown

# Words a person who cannot read music (or machine learning) should not meet first.
LAB_WORDS = ("perplexity", "n-gram", "nats", "bits", "held-out", "% of the overlap", "baseline",
             "epoch", "loss", "lstm", "token")
_TEXT_TYPES = {"markdown", "success", "warning", "info", "error", "caption"}


def words_in_view(at: Any) -> list[str]:
    """Every sentence outside expanders and popovers (and the titles of those)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        kind = getattr(node, "type", None)
        if kind in ("expander", "popover"):
            return
        if kind in _TEXT_TYPES and isinstance(getattr(node, "value", None), str):
            found.append(shown(node))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    return found


def lab_words_in_view(at: Any) -> list[str]:
    """The sentences in view that use a machine-learning word."""
    return [s for s in words_in_view(at) if any(w in s.lower() for w in LAB_WORDS)]
