"""Music as tokens: the encoding config, the token scheme, its grammar and the vocabulary."""

from core.tokens.config import EncodingConfig

__all__ = [
    "EncodingConfig",
]
