"""A workspace's kept pieces ("Your pieces"): every piece made is kept, named, renamed,
deleted with undo, and shared.

Each piece is a folder `<workspace>/pieces/<id>/`, written whole (`atomic_dir`):

- `record.json`: what the list shows (title, style, key, length, seed, when, how it was made,
  its published id) — small, so listing a full library reads little;
- `result.json`: the rest of the generation (tokens, notes, settings), for "keep the good bars",
  "make it longer" and sharing after a reload (core.library.records);
- `piece.mid`, and `audio.ogg` once it has been played (rendered again when missing).

Deleting moves the folder to `pieces/.trash/`, where "undo" finds it; the trash is emptied of
pieces deleted more than `TRASH_KEEP_DAYS` ago whenever the library is listed. A kept piece
counts against the workspace quota (core.storage.quotas.check_room) and against
`TUNESMITH_MAX_PIECES_PER_WORKSPACE`; when either is full, `room_for` names the oldest pieces
whose removal makes room.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import time
from dataclasses import asdict, dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any

import core.library.published as published
from core.audio import audio_to_ogg_bytes, midi_to_audio
from core.errors import InvalidSettingError, QuotaError, StorageError
from core.generation import GenerationResult
from core.library.records import dict_to_result, is_of, result_to_dict
from core.library.titles import clean_title, piece_title, unique_title
from core.model.bundled import STYLES
from core.music.keys import estimate_key
from core.music.scales import key_label, mode_to_scale
from core.settings import setting_count
from core.storage.files import atomic_dir, atomic_write_bytes, atomic_write_json, saving
from core.storage.quotas import check_room, folder_bytes

log = logging.getLogger(__name__)

PIECES_DIR = "pieces"
TRASH_DIR = ".trash"
RECORD_FILE = "record.json"
RESULT_FILE = "result.json"
MIDI_FILE = "piece.mid"
AUDIO_FILE = "audio.ogg"
RECORD_FORMAT = 1
ID_PATTERN = re.compile(r"^[0-9a-f]{16}$")
MAX_RECORD_BYTES = 64_000  # a title and a dozen short fields
# result.json of the longest piece (40,000 tokens and their notes) is about 1.5 MB.
MAX_RESULT_BYTES = 8_000_000
MAX_MIDI_BYTES = 4_000_000  # the longest piece's MIDI is about 200 kB
MAX_PIECES_ENV = "TUNESMITH_MAX_PIECES_PER_WORKSPACE"
DEFAULT_MAX_PIECES = 200  # about 80 MB of audio at 20 s a piece: a sixth of the default quota
TRASH_KEEP_DAYS = 7.0  # long enough to change one's mind, short enough not to fill the quota
SECONDS_PER_DAY = 86_400
PLAYBACK_SAMPLE_RATE_HZ = 44_100  # the pages' players and downloads


class Kind(Enum):
    """How a piece was made, in the words the list shows."""

    NEW = "new"
    CONTINUED = "continues a tune"
    KEPT_BARS = "new ending"
    LONGER = "longer"
    HOME = "played on Home"
    HARMONIZED = "harmonized"  # a tune of the visitor's with voices or chords under it


# A harmonized piece's shared copy names no model: this `style_name` tells the listen page it was
# harmonized, so "make one like it" opens the Harmonize page.
HARMONIZED_STYLE_NAME = Kind.HARMONIZED.value

# The title a piece made from another gets: its own piece's title and this.
DERIVED_SUFFIX = {Kind.KEPT_BARS: ", new ending", Kind.LONGER: ", longer"}


@dataclass(frozen=True)
class PieceRecord:
    """What the list shows of one kept piece (record.json)."""

    id: str
    title: str
    made_at: float  # seconds since the epoch
    kind: Kind
    style: str  # as the page names the model: "Irish folk tunes", "My model: reels"
    style_name: str  # the bundled style's name ("folk-tunes"); "" for a model of one's own
    model_folder: str  # the own model's folder name under the workspace's models/; or ""
    key: str  # "D major"
    duration_s: float
    notes: int
    tempo_bpm: float
    seed: int
    published_id: str = ""  # the published copy's id; "" when not shared
    parent_id: str = ""  # the piece it was made from (kept bars, longer); or ""
    soundfont: str = ""  # a soundfont of the workspace (soundfonts/<hash>.sf2); "" the default

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kind": self.kind.value, "format": RECORD_FORMAT}

    @classmethod
    def from_dict(cls, data: Any) -> PieceRecord:
        """Raises ValueError when a field is missing or of the wrong type."""
        if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
            raise ValueError("not a piece record this app wrote")
        values: dict[str, Any] = {}
        for field, kind in (
            ("id", str),
            ("title", str),
            ("made_at", (int, float)),
            ("style", str),
            ("style_name", str),
            ("model_folder", str),
            ("key", str),
            ("duration_s", (int, float)),
            ("notes", int),
            ("tempo_bpm", (int, float)),
            ("seed", int),
            ("published_id", str),
            ("parent_id", str),
            ("soundfont", str),
        ):
            if not is_of(data.get(field), kind):
                raise ValueError(f"{field} is not what it should be")
            values[field] = data[field]
        if not ID_PATTERN.match(values["id"]):
            raise ValueError("id is not a piece id")
        return cls(kind=Kind(data.get("kind")), **values)


def _shared_style(record: PieceRecord) -> str:
    """What a shared copy says made it: a bundled style, or how a tune was harmonized; never
    the name of a model folder of one's own (it may say more than its owner means to share)."""
    if record.style_name in STYLES:
        return STYLES[record.style_name].title
    return record.style if record.kind is Kind.HARMONIZED else ""


def max_pieces() -> int:
    return setting_count(MAX_PIECES_ENV)


def check_piece_id(piece_id: str) -> str:
    """Raises StorageError when `piece_id` is not an id this module makes."""
    if not isinstance(piece_id, str) or not ID_PATTERN.match(piece_id):
        raise StorageError("This piece is not in your pieces")
    return piece_id


def key_of(result: GenerationResult) -> str:
    """The key heard: the one asked for or the tune's, else estimated from the notes."""
    if result.key_label:
        return result.key_label
    if not result.piece.notes:
        return ""
    tonic, mode = estimate_key(result.piece.notes)
    return key_label(tonic, mode_to_scale(mode))


def render_ogg(midi_bytes: bytes, soundfont: Path | None = None) -> bytes:
    """The piece's audio as the pages play it."""
    audio = midi_to_audio(midi_bytes, sample_rate_hz=PLAYBACK_SAMPLE_RATE_HZ, soundfont=soundfont)
    return audio_to_ogg_bytes(audio, PLAYBACK_SAMPLE_RATE_HZ)


@dataclass(frozen=True)
class Room:
    """What must go for one more piece to fit: the trash, the oldest kept pieces, and whether
    that suffices (models and music files use the quota too)."""

    trash: list[PieceRecord]
    oldest: list[PieceRecord]
    enough: bool


class Library:
    """The kept pieces of one workspace."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = Path(workspace)
        self.root = self.workspace / PIECES_DIR
        self.trash_root = self.root / TRASH_DIR

    # ------------------------------------------------------------ reading

    def _folder(self, piece_id: str, *, trash: bool = False) -> Path:
        return (self.trash_root if trash else self.root) / check_piece_id(piece_id)

    def _read_record(self, folder: Path) -> PieceRecord:
        path = folder / RECORD_FILE
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise ValueError("record.json is too large")
        record = PieceRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))
        if record.id != folder.name:
            raise ValueError("record.json names another piece")
        return record

    def _records(self, parent: Path) -> list[PieceRecord]:
        records = []
        try:
            folders = [f for f in parent.iterdir() if ID_PATTERN.match(f.name)]
        except OSError:  # no pieces yet, or the workspace has gone
            return []
        for folder in folders:
            try:
                records.append(self._read_record(folder))
            except (OSError, ValueError) as error:  # half a folder never exists: atomic_dir
                log.warning("piece %s cannot be read: %s", folder.name, error)
        return sorted(records, key=lambda r: r.made_at, reverse=True)

    def pieces(self) -> list[PieceRecord]:
        """The kept pieces, newest first (the trash is emptied of old pieces first)."""
        try:
            self.empty_trash()
        except OSError:  # a read-only disk: the trash waits
            log.exception("emptying the trash failed")
        return self._records(self.root)

    def trash(self) -> list[PieceRecord]:
        """The deleted pieces "undo" can still bring back, most recently deleted first."""
        records = self._records(self.trash_root)
        return sorted(records, key=lambda r: self._deleted_at(r.id), reverse=True)

    def get(self, piece_id: str) -> PieceRecord:
        """Raises StorageError when the piece is not kept (deleted in another tab)."""
        try:
            return self._read_record(self._folder(piece_id))
        except (OSError, ValueError):
            raise StorageError("This piece is not in your pieces any more") from None

    def result(self, piece_id: str) -> GenerationResult:
        """The piece as it was generated.

        Raises:
            StorageError: it is not kept, or its files cannot be read.
        """
        folder = self._folder(piece_id)
        try:
            midi = _read_limited(folder / MIDI_FILE, MAX_MIDI_BYTES)
            data = json.loads(_read_limited(folder / RESULT_FILE, MAX_RESULT_BYTES))
            return dict_to_result(data, midi)
        except FileNotFoundError:
            raise StorageError("This piece is not in your pieces any more") from None
        except (OSError, ValueError) as error:
            log.warning("piece %s cannot be read: %s", piece_id, error)
            raise StorageError("This piece's files cannot be read") from None

    def audio(self, piece_id: str) -> bytes:
        """Its audio: the kept file, or rendered again (and kept when there is room)."""
        folder = self._folder(piece_id)
        try:
            return (folder / AUDIO_FILE).read_bytes()
        except FileNotFoundError:
            pass
        record = self.get(piece_id)
        ogg = render_ogg(self.result(piece_id).midi_bytes, self.soundfont_path(record))
        try:
            check_room(self.workspace, incoming_bytes=len(ogg))
            atomic_write_bytes(folder / AUDIO_FILE, ogg)
        except (QuotaError, OSError):  # plays all the same; rendered again next time
            pass
        return ogg

    def soundfont_path(self, record: PieceRecord) -> Path | None:
        """The workspace's soundfont the piece plays with, while it is there."""
        if not record.soundfont:
            return None
        path = self.workspace / record.soundfont
        inside = path.resolve().is_relative_to((self.workspace / "soundfonts").resolve())
        return path if inside and path.is_file() else None

    def model_path(self, record: PieceRecord) -> Path | None:
        """The model that made the piece, while it is there ("keep the good bars")."""
        if record.style_name in STYLES:
            return STYLES[record.style_name].path
        if not record.model_folder or "/" in record.model_folder or ".." in record.model_folder:
            return None
        path = self.workspace / "models" / record.model_folder
        return path if path.is_dir() else None

    # ------------------------------------------------------------ keeping

    def room_for(self, incoming_bytes: int) -> Room:
        """What to remove for one more piece of `incoming_bytes`: the trash first (deleted
        pieces still use the quota), then the oldest kept pieces."""
        from core.storage.quotas import workspace_quota_mb

        kept = self.pieces()
        over_count = max(len(kept) + 1 - max_pieces(), 0)
        over_bytes = folder_bytes(self.workspace) + incoming_bytes - int(workspace_quota_mb() * 1e6)
        trash: list[PieceRecord] = []
        for record in self.trash():
            if over_bytes <= 0:
                break
            trash.append(record)
            over_bytes -= folder_bytes(self._folder(record.id, trash=True))
        oldest: list[PieceRecord] = []
        for record in reversed(kept):
            if len(oldest) >= over_count and over_bytes <= 0:
                break
            oldest.append(record)
            over_bytes -= folder_bytes(self._folder(record.id))
        return Room(trash, oldest, enough=len(oldest) >= over_count and over_bytes <= 0)

    def add(
        self,
        result: GenerationResult,
        *,
        kind: Kind,
        style: str,
        style_name: str = "",
        model_folder: str = "",
        parent_id: str = "",
        soundfont: str = "",
        audio: bytes | None = None,
        title: str = "",
    ) -> PieceRecord:
        """Keep a new piece, titled from its seed, style and key (or after the piece it was
        made from, or `title` when given), under a title no other kept piece has.

        Raises:
            QuotaError: the workspace holds `max_pieces()` pieces, or the piece does not fit
                in its quota (`room_for` says what to remove).
            StorageError: it cannot be written; nothing is left half-written.
        """
        kept = self.pieces()
        if len(kept) >= max_pieces():
            raise QuotaError(
                f"This piece is not kept: you keep {len(kept)} pieces, the most this server "
                "keeps. Delete some you no longer need"
            )
        key = key_of(result)
        made_title = piece_title(
            seed=result.seed, style=style_name or style, key=key, meter=result.piece.meter
        )
        parent = next((r for r in kept if r.id == parent_id), None)
        if parent is not None and kind in DERIVED_SUFFIX:
            made_title = parent.title + DERIVED_SUFFIX[kind]
        with contextlib.suppress(InvalidSettingError):  # nothing readable: the made title
            made_title = clean_title(title) if title else made_title
        record = PieceRecord(
            id=secrets.token_hex(8),
            title=unique_title(clean_title(made_title), [r.title for r in kept]),
            made_at=time.time(),
            kind=kind,
            style=style,
            style_name=style_name if style_name in STYLES else "",
            model_folder=model_folder,
            key=key,
            duration_s=round(result.piece.duration_s, 3),
            notes=len(result.piece.notes),
            tempo_bpm=result.piece.tempo_bpm,
            seed=result.seed,
            parent_id=parent_id,
            soundfont=soundfont,
        )
        details = json.dumps(result_to_dict(result)).encode("utf-8")
        size = len(details) + len(result.midi_bytes) + len(audio or b"") + MAX_RECORD_BYTES // 8
        check_room(self.workspace, incoming_bytes=size, what="This piece")
        with saving("This piece"), atomic_dir(self.root / record.id) as folder:
            (folder / RESULT_FILE).write_bytes(details)
            (folder / MIDI_FILE).write_bytes(result.midi_bytes)
            if audio is not None:
                (folder / AUDIO_FILE).write_bytes(audio)
            atomic_write_json(folder / RECORD_FILE, record.to_dict())
        return record

    def _write(self, record: PieceRecord, *, trash: bool = False) -> None:
        folder = self._folder(record.id, trash=trash)
        if not folder.is_dir():
            raise StorageError("This piece is not in your pieces any more")
        atomic_write_json(folder / RECORD_FILE, record.to_dict())

    def rename(self, piece_id: str, title: str) -> PieceRecord:
        """Give a piece a name of one's own (numbered when another piece has it).

        Raises:
            InvalidSettingError: the name holds no letter or digit.
            StorageError: the piece is gone, or the record cannot be written.
        """
        record = self.get(piece_id)
        others = [r.title for r in self.pieces() if r.id != piece_id]
        renamed = replace(record, title=unique_title(clean_title(title), others))
        with saving("The new name"):
            self._write(renamed)
            if renamed.published_id:
                try:
                    published.retitle(renamed.published_id, renamed.title)
                except (OSError, ValueError):  # the copy keeps its old title
                    log.exception("the published copy of %s keeps its title", piece_id)
        return renamed

    # ------------------------------------------------------------ deleting

    def _deleted_at(self, piece_id: str) -> float:
        try:
            return self._folder(piece_id, trash=True).stat().st_mtime
        except OSError:
            return 0.0

    def delete(self, piece_id: str) -> PieceRecord:
        """Move a piece to the trash ("undo": `restore`); its share link pauses meanwhile.

        Raises:
            StorageError: the piece is gone, or cannot be moved.
        """
        record = self.get(piece_id)
        target = self._folder(piece_id, trash=True)
        with saving("Deleting this piece"):
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._folder(piece_id), target)
            os.utime(target)  # when it was deleted: the trash is emptied by this
            if record.published_id:
                published.withdraw(record.published_id)
        return record

    def restore(self, piece_id: str) -> PieceRecord:
        """Bring a piece back from the trash, its share link with it.

        Raises:
            StorageError: it is not in the trash any more (emptied), or cannot be moved.
        """
        source = self._folder(piece_id, trash=True)
        try:
            record = self._read_record(source)
        except (OSError, ValueError):
            raise StorageError("This piece is not in the trash any more") from None
        others = [r.title for r in self.pieces()]
        with saving("Bringing this piece back"):
            os.replace(source, self._folder(piece_id))
            if record.published_id:
                published.reinstate(record.published_id)
            if unique_title(record.title, others) != record.title:
                record = replace(record, title=unique_title(record.title, others))
                self._write(record)
        return record

    def _remove(self, folder: Path, record: PieceRecord | None) -> None:
        if record is not None and record.published_id:
            published.remove_copy(record.published_id)
        shutil.rmtree(folder)

    def empty_trash(self, *, older_than_days: float = TRASH_KEEP_DAYS) -> int:
        """Delete for good the pieces deleted more than `older_than_days` ago (their share
        links end). Returns how many went."""
        if not self.trash_root.is_dir():
            return 0
        cutoff = time.time() - older_than_days * SECONDS_PER_DAY
        removed = 0
        for folder in list(self.trash_root.iterdir()):
            if not ID_PATTERN.match(folder.name) or folder.stat().st_mtime > cutoff:
                continue
            try:
                record: PieceRecord | None = self._read_record(folder)
            except (OSError, ValueError):
                record = None
            self._remove(folder, record)
            removed += 1
        return removed

    def delete_for_good(self, piece_ids: list[str]) -> None:
        """Remove pieces (kept or in the trash) and end their share links: no undo.

        Raises:
            StorageError: one cannot be removed (those before it are gone).
        """
        with saving("Removing pieces"):
            for piece_id in piece_ids:
                for trash in (False, True):
                    folder = self._folder(piece_id, trash=trash)
                    if folder.is_dir():
                        try:
                            record: PieceRecord | None = self._read_record(folder)
                        except (OSError, ValueError):
                            record = None
                        self._remove(folder, record)

    # ------------------------------------------------------------ sharing

    def publish(self, piece_id: str) -> PieceRecord:
        """A listen-only copy of the piece under a new unguessable id (or the live one it has).

        Raises:
            QuotaError: the workspace shares `max_published()` pieces already, or the server's
                storage is full.
            NotShareableError: the piece is larger than a shared piece may be.
            StorageError: the copy or the record cannot be written; nothing is left behind.
        """
        record = self.get(piece_id)
        live = published.CopyState.LIVE
        if record.published_id and published.copy_state(record.published_id) is live:
            return record
        sharing = [
            r
            for r in self.pieces()
            if r.published_id
            and r.id != piece_id
            and published.copy_state(r.published_id) is published.CopyState.LIVE
        ]
        if len(sharing) >= published.max_published():
            raise QuotaError(
                f"you share {len(sharing)} pieces already, the most this server allows: stop "
                "sharing one first"
            )
        result = self.result(piece_id)
        with saving("Sharing this piece"):
            published_id = published.write_copy(
                title=record.title,
                style=_shared_style(record),
                style_name=(
                    HARMONIZED_STYLE_NAME if record.kind is Kind.HARMONIZED else record.style_name
                ),
                key=record.key,
                piece=result.piece,
                midi_bytes=result.midi_bytes,
                audio_bytes=self.audio(piece_id),
            )
            shared = replace(record, published_id=published_id)
            try:
                self._write(shared)
            except BaseException:
                published.remove_copy(published_id)
                raise
        return shared

    def unpublish(self, piece_id: str) -> PieceRecord:
        """End the piece's share link for good (whoever opens it reads that it has stopped)."""
        record = self.get(piece_id)
        if not record.published_id:
            return record
        with saving("Stopping the sharing"):
            published.remove_copy(record.published_id)
            stopped = replace(record, published_id="")
            self._write(stopped)
        return stopped


def _read_limited(path: Path, limit: int) -> bytes:
    if path.stat().st_size > limit:
        raise ValueError(f"{path.name} is larger than any piece this app makes")
    return path.read_bytes()
