"""A workspace's kept pieces (its library), their titles, and the read-only copies published
for anyone with the link. Sits above generation: it keeps what generation makes."""

from core.library.pieces import (
    PLAYBACK_SAMPLE_RATE_HZ,
    Kind,
    Library,
    PieceRecord,
    Room,
    key_of,
    max_pieces,
    render_ogg,
)
from core.library.published import (
    CopyState,
    PublishedPiece,
    copy_state,
    delete_expired,
    max_published,
    published_days,
    read_copy,
)
from core.library.titles import (
    clean_title,
    piece_title,
    spoken_key,
    title_to_stem,
    unique_title,
)

__all__ = [
    "PLAYBACK_SAMPLE_RATE_HZ",
    "CopyState",
    "Kind",
    "Library",
    "PieceRecord",
    "PublishedPiece",
    "Room",
    "clean_title",
    "copy_state",
    "delete_expired",
    "key_of",
    "max_pieces",
    "max_published",
    "piece_title",
    "published_days",
    "read_copy",
    "render_ogg",
    "spoken_key",
    "title_to_stem",
    "unique_title",
]
