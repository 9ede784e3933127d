"""Published pieces: read-only copies anyone with the link may listen to.

A copy lives in `<data dir>/published/<id>/` under an unguessable id (`secrets.token_urlsafe`,
128 bits): its MIDI, its audio, its notes (for the piano roll and the sheet music) and
`info.json` (its title, the style it came from, its key and length, when it was published).
Nothing in it leads to the workspace it came from: the workspace's own record of the piece
remembers the id (core.library.pieces), the copy does not know the workspace.

A copy ends when its owner stops sharing it, when the piece is deleted for good, or when it is
older than `TUNESMITH_PUBLISHED_DAYS`. Its id is then kept as a small marker in
`published/.ended/`, so an old link says why it plays no more. A piece in its owner's trash is
withdrawn (`published/.withdrawn/<id>`), and "undo" puts it back under the same id.

Every id that arrives in a link is checked before any file is touched, and every way a link can
fail is one sentence (`InvalidLinkError`), never an exception a page would show.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from core.errors import InvalidLinkError, NotShareableError, QuotaError
from core.library.records import is_of
from core.music import Piece
from core.settings import number_text, setting_count, setting_value
from core.storage.files import atomic_dir, atomic_write_bytes, atomic_write_json, data_dir
from core.storage.quotas import data_dir_bytes, data_dir_limit_mb

log = logging.getLogger(__name__)

PUBLISHED_DIR = "published"
WITHDRAWN_DIR = ".withdrawn"  # copies of pieces in their owner's trash
ENDED_DIR = ".ended"  # one small marker per id that played once: why it plays no more
INFO_FILE = "info.json"
NOTES_FILE = "piece.json"
MIDI_FILE = "piece.mid"
AUDIO_FILE = "audio.ogg"
INFO_FORMAT = 1
ID_BYTES = 16  # 128 bits: guessing a published id is out of reach
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22}$")  # what token_urlsafe(ID_BYTES) writes
MAX_INFO_BYTES = 16_000  # a title, a style, a few numbers
MAX_TITLE_CHARS = 200

MAX_PUBLISHED_ENV = "TUNESMITH_MAX_PUBLISHED_PER_WORKSPACE"
DEFAULT_MAX_PUBLISHED = 20
MAX_PUBLISHED_PIECE_MB_ENV = "TUNESMITH_MAX_PUBLISHED_PIECE_MB"
DEFAULT_MAX_PUBLISHED_PIECE_MB = 10.0
PUBLISHED_DAYS_ENV = "TUNESMITH_PUBLISHED_DAYS"
DEFAULT_PUBLISHED_DAYS = 90.0
SECONDS_PER_DAY = 86_400
# An ended id's marker is kept this long after the copy itself is gone: a link from last
# year still says why it plays no more. Markers are empty files.
ENDED_MARKER_DAYS = 365.0
# Expired copies are swept when a piece is published, at most this often per process.
SWEEP_EVERY_S = 3_600.0

# The sentences a listener reads; each is the whole message of an InvalidLinkError.
CHANGED = (
    "No piece is shared under this link: it may have been cut short or changed, so ask "
    "whoever sent it for the link again."
)
STOPPED = "This piece is not shared any more: whoever shared it has stopped sharing it."
DAMAGED = "This shared piece cannot be played: its copy on the server is damaged."
UNREADABLE = (
    "This shared piece cannot be opened now: the server's storage cannot be read; please "
    "try again later."
)


class Ending(Enum):
    """Why a published id plays no more (the marker's text)."""

    STOPPED = "stopped"
    EXPIRED = "expired"


def max_published() -> int:
    return setting_count(MAX_PUBLISHED_ENV)


def max_published_bytes() -> int:
    return int(setting_value(MAX_PUBLISHED_PIECE_MB_ENV) * 1e6)


def published_days() -> float:
    return setting_value(PUBLISHED_DAYS_ENV)


def expired_sentence() -> str:
    return (
        f"This shared piece has expired (shared pieces stay {number_text(published_days())} "
        "days): ask whoever sent it to share it again."
    )


@dataclass(frozen=True)
class PublishedPiece:
    """One published copy, as a listener gets it."""

    id: str
    title: str
    style: str  # the bundled style's title ("Irish folk tunes"); "" for a model of one's own
    style_name: str  # the bundled style's name ("folk-tunes"), for "make one like it"; or ""
    key: str
    duration_s: float
    published_at: float
    piece: Piece
    midi_bytes: bytes
    audio_bytes: bytes

    @property
    def expires_at(self) -> float:
        return self.published_at + published_days() * SECONDS_PER_DAY


def _root() -> Path:
    return data_dir() / PUBLISHED_DIR


def check_id(published_id: str) -> str:
    """The id as it came in a link, when it is one this module could have made.

    Raises:
        InvalidLinkError: CHANGED.
    """
    if not isinstance(published_id, str) or not ID_PATTERN.match(published_id):
        raise InvalidLinkError(CHANGED)
    return published_id


def _end(published_id: str, ending: Ending) -> None:
    marker = _root() / ENDED_DIR / published_id
    atomic_write_bytes(marker, ending.value.encode("ascii"))


def _ending(published_id: str) -> Ending | None:
    marker = _root() / ENDED_DIR / published_id
    try:
        return Ending(marker.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def write_copy(
    *,
    title: str,
    style: str,
    style_name: str,
    key: str,
    piece: Piece,
    midi_bytes: bytes,
    audio_bytes: bytes,
) -> str:
    """A new published copy; returns its id.

    Raises:
        NotShareableError: the piece is larger than `TUNESMITH_MAX_PUBLISHED_PIECE_MB`.
        QuotaError: the data directory is full.
        OSError: the copy cannot be written (nothing is left half-written).
    """
    notes = json.dumps(piece.to_dict()).encode("utf-8")
    size = len(notes) + len(midi_bytes) + len(audio_bytes)
    limit = max_published_bytes()
    if size > limit:
        raise NotShareableError(
            f"this piece is too long to share: it takes {size / 1e6:.1f} MB and a shared piece "
            f"may take at most {limit / 1e6:g} MB; share a shorter one, or download it"
        )
    if data_dir_bytes() + size > data_dir_limit_mb() * 1e6:
        raise QuotaError("this piece cannot be shared now: the server's storage is full")
    _sweep_now_and_then()
    published_id = secrets.token_urlsafe(ID_BYTES)
    info = {
        "format": INFO_FORMAT,
        "title": title[:MAX_TITLE_CHARS],
        "style": style,
        "style_name": style_name,
        "key": key,
        "duration_s": round(piece.duration_s, 3),
        "published_at": time.time(),
    }
    with atomic_dir(_root() / published_id) as folder:
        (folder / NOTES_FILE).write_bytes(notes)
        (folder / MIDI_FILE).write_bytes(midi_bytes)
        (folder / AUDIO_FILE).write_bytes(audio_bytes)
        atomic_write_json(folder / INFO_FILE, info)
    log.info("published a piece (%d bytes)", size)
    return published_id


def _read_info(folder: Path) -> dict[str, Any]:
    path = folder / INFO_FILE
    if path.stat().st_size > MAX_INFO_BYTES:
        raise ValueError("info.json is too large")
    info = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(info, dict) or info.get("format") != INFO_FORMAT:
        raise ValueError("info.json is not a record this app wrote")
    for field, kind in (
        ("title", str),
        ("style", str),
        ("style_name", str),
        ("key", str),
        ("duration_s", (int, float)),
        ("published_at", (int, float)),
    ):
        if not is_of(info.get(field), kind):
            raise ValueError(f"info.json's {field} is not what it should be")
    return info


def _read_file(path: Path) -> bytes:
    # A copy made under a higher limit still plays after the operator lowers it; the default
    # is the floor, so a lowered setting never breaks the links made under the default.
    if path.stat().st_size > max(max_published_bytes(), DEFAULT_MAX_PUBLISHED_PIECE_MB * 1e6):
        raise ValueError(f"{path.name} is larger than a shared piece may be")
    return path.read_bytes()


def _live_folder(published_id: str, *, now: float | None) -> tuple[Path, dict[str, Any]]:
    """The copy's folder and its info, when the link plays; else its sentence.

    Raises:
        InvalidLinkError: CHANGED, STOPPED, `expired_sentence()`, DAMAGED or UNREADABLE.
    """
    check_id(published_id)
    try:
        folder = _root() / published_id
        if not folder.is_dir():
            ending = _ending(published_id)
            if ending is Ending.EXPIRED:
                raise InvalidLinkError(expired_sentence())
            if ending is Ending.STOPPED or (_root() / WITHDRAWN_DIR / published_id).is_dir():
                raise InvalidLinkError(STOPPED)
            raise InvalidLinkError(CHANGED)
        info = _read_info(folder)
    except InvalidLinkError:
        raise
    except FileNotFoundError:  # unpublished while it was read
        raise InvalidLinkError(STOPPED) from None
    except OSError as error:
        log.warning("a published piece cannot be read: %s", error)
        raise InvalidLinkError(UNREADABLE) from None
    except ValueError as error:
        log.warning("published piece %s is damaged: %s", published_id, error)
        raise InvalidLinkError(DAMAGED) from None
    expires_at = float(info["published_at"]) + published_days() * SECONDS_PER_DAY
    if expires_at < (time.time() if now is None else now):
        raise InvalidLinkError(expired_sentence())
    return folder, info


def read_copy(published_id: str, *, now: float | None = None) -> PublishedPiece:
    """The published piece under `published_id`, as a link opens it.

    Raises:
        InvalidLinkError: the id is malformed or unknown (CHANGED), the copy has ended
            (STOPPED, `expired_sentence()`), is damaged (DAMAGED) or cannot be read now
            (UNREADABLE); the message is the whole sentence to show.
    """
    folder, info = _live_folder(published_id, now=now)
    try:
        return PublishedPiece(
            id=published_id,
            title=info["title"][:MAX_TITLE_CHARS],
            style=info["style"],
            style_name=info["style_name"],
            key=info["key"],
            duration_s=float(info["duration_s"]),
            published_at=float(info["published_at"]),
            piece=Piece.from_dict(json.loads(_read_file(folder / NOTES_FILE))),
            midi_bytes=_read_file(folder / MIDI_FILE),
            audio_bytes=_read_file(folder / AUDIO_FILE),
        )
    except FileNotFoundError:  # unpublished while it was read
        raise InvalidLinkError(STOPPED) from None
    except OSError as error:
        log.warning("a published piece cannot be read: %s", error)
        raise InvalidLinkError(UNREADABLE) from None
    except (ValueError, KeyError, TypeError) as error:
        log.warning("published piece %s is damaged: %s", published_id, error)
        raise InvalidLinkError(DAMAGED) from None


class CopyState(Enum):
    """What the owner's record of a published id finds."""

    LIVE = "live"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    GONE = "gone"


def copy_state(published_id: str, *, now: float | None = None) -> CopyState:
    """Whether the copy still plays: what the owner's page says about its link (its info is
    read, not its audio)."""
    try:
        _live_folder(published_id, now=now)
    except InvalidLinkError as error:
        if str(error) == expired_sentence():
            return CopyState.EXPIRED
        if (_root() / WITHDRAWN_DIR / published_id).is_dir():
            return CopyState.WITHDRAWN
        return CopyState.GONE
    return CopyState.LIVE


def retitle(published_id: str, title: str) -> None:
    """The owner renamed the piece: its copy takes the new title. A copy that has ended (or
    is withdrawn) is left as it is."""
    for folder in (_root() / check_id(published_id), _root() / WITHDRAWN_DIR / published_id):
        if folder.is_dir():
            info = _read_info(folder)
            atomic_write_json(folder / INFO_FILE, {**info, "title": title[:MAX_TITLE_CHARS]})


def remove_copy(published_id: str, *, ending: Ending = Ending.STOPPED) -> None:
    """End a copy for good (withdrawn or not): the files go, the id's marker stays."""
    check_id(published_id)
    _end(published_id, ending)
    for folder in (_root() / published_id, _root() / WITHDRAWN_DIR / published_id):
        shutil.rmtree(folder, ignore_errors=True)


def withdraw(published_id: str) -> None:
    """Its piece went to the owner's trash: the link plays no more until `reinstate`."""
    source = _root() / check_id(published_id)
    if source.is_dir():
        target = _root() / WITHDRAWN_DIR / published_id
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)


def reinstate(published_id: str) -> None:
    """Its piece came back from the trash: the same link plays again."""
    source = _root() / WITHDRAWN_DIR / check_id(published_id)
    if source.is_dir():
        os.replace(source, _root() / published_id)


_last_sweep = [0.0]


def _sweep_now_and_then() -> None:
    if time.monotonic() - _last_sweep[0] > SWEEP_EVERY_S:
        _last_sweep[0] = time.monotonic()
        try:
            delete_expired()
        except OSError:  # a sweep that fails costs only disk space until the next one
            log.exception("sweeping expired published pieces failed")


def delete_expired(*, now: float | None = None) -> int:
    """Delete the copies (withdrawn ones too) older than `TUNESMITH_PUBLISHED_DAYS`, and the
    markers of ids ended more than `ENDED_MARKER_DAYS` ago. Returns how many copies went."""
    now = time.time() if now is None else now
    root = _root()
    deleted = 0
    for parent in (root, root / WITHDRAWN_DIR):
        if not parent.is_dir():
            continue
        for folder in parent.iterdir():
            if not ID_PATTERN.match(folder.name) or not folder.is_dir():
                continue
            try:
                published_at = float(_read_info(folder)["published_at"])
            except (OSError, ValueError):
                published_at = folder.stat().st_mtime  # damaged: its age is the folder's
            if published_at + published_days() * SECONDS_PER_DAY < now:
                remove_copy(folder.name, ending=Ending.EXPIRED)
                deleted += 1
    markers = root / ENDED_DIR
    if markers.is_dir():
        for marker in markers.iterdir():
            if marker.stat().st_mtime + ENDED_MARKER_DAYS * SECONDS_PER_DAY < now:
                marker.unlink(missing_ok=True)
    if deleted:
        log.info("deleted %d expired published pieces", deleted)
    return deleted
