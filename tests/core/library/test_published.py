"""core/library/published: a read-only copy under an unguessable id that leads nothing back to
its workspace; stopped, withdrawn, expired and changed ids each one sentence; named limits."""

from __future__ import annotations

import json
import time

import pytest

from core.errors import InvalidLinkError, NotShareableError, QuotaError
from core.library import Library, copy_state, read_copy
from core.library import published as pub
from core.library.published import CHANGED, DAMAGED, STOPPED, CopyState, expired_sentence
from core.settings import SETTINGS
from tests.core.library.conftest import FAKE_AUDIO, FOLK, keep, make_piece


def _shared(library: Library, folk, seed: int = 1) -> tuple[str, str]:
    record = keep(library, make_piece(folk, seed))
    return record.id, library.publish(record.id).published_id


def test_a_published_copy_plays_and_knows_nothing_of_its_workspace(library, folk) -> None:
    piece_id, published_id = _shared(library, folk)
    assert pub.ID_PATTERN.match(published_id)
    copy = read_copy(published_id)
    record = library.get(piece_id)
    assert (copy.title, copy.style, copy.style_name) == (record.title, FOLK.title, FOLK.name)
    assert copy.midi_bytes == library.result(piece_id).midi_bytes
    assert copy.audio_bytes == FAKE_AUDIO and copy.piece == library.result(piece_id).piece
    folder = pub._root() / published_id
    workspace_id = library.workspace.name
    for path in folder.rglob("*"):
        assert workspace_id.encode() not in path.read_bytes()
        assert piece_id.encode() not in path.read_bytes()
    assert library.publish(piece_id).published_id == published_id  # once is enough


def test_a_copy_of_ones_own_model_names_no_model(library, folk) -> None:
    record = keep(library, make_piece(folk, 1), style="My model: Ana's reels", style_name="",
                  model_folder="Ana's reels")
    copy = read_copy(library.publish(record.id).published_id)
    assert copy.style == "" and copy.style_name == ""
    info = (pub._root() / copy.id / pub.INFO_FILE).read_text()
    assert "Ana" not in info


def test_stopping_ends_the_link_with_a_sentence(library, folk) -> None:
    piece_id, published_id = _shared(library, folk)
    library.unpublish(piece_id)
    assert not library.get(piece_id).published_id
    with pytest.raises(InvalidLinkError) as refused:
        read_copy(published_id)
    assert str(refused.value) == STOPPED
    assert not (pub._root() / published_id).exists()


@pytest.mark.parametrize(
    "changed",
    ["", "x", "a" * 21, "a" * 23, "../../workspaces/x", "abc def ghi jkl mno pqr", "é" * 22],
)
def test_a_changed_or_made_up_id_is_one_sentence(isolated_data_dir, changed) -> None:
    with pytest.raises(InvalidLinkError) as refused:
        read_copy(changed)
    assert str(refused.value) == CHANGED


def test_a_well_formed_id_never_published_is_the_same_sentence(isolated_data_dir) -> None:
    with pytest.raises(InvalidLinkError, match=r"^No piece is shared under this link"):
        read_copy("A" * 22)


def test_a_piece_in_the_trash_pauses_its_link_and_undo_resumes_it(library, folk) -> None:
    piece_id, published_id = _shared(library, folk)
    library.delete(piece_id)
    assert copy_state(published_id) is CopyState.WITHDRAWN
    with pytest.raises(InvalidLinkError, match=STOPPED):
        read_copy(published_id)
    library.restore(piece_id)
    assert read_copy(published_id).title == library.get(piece_id).title
    library.delete(piece_id)
    library.delete_for_good([piece_id])  # emptied from the trash: the link ends for good
    with pytest.raises(InvalidLinkError, match=STOPPED):
        read_copy(published_id)
    assert not (pub._root() / pub.WITHDRAWN_DIR / published_id).exists()


def test_a_copy_expires_after_the_named_days_and_is_swept(library, folk, monkeypatch) -> None:
    assert SETTINGS[pub.PUBLISHED_DAYS_ENV].default_value() == pub.published_days() == 90
    piece_id, published_id = _shared(library, folk)
    later = time.time() + 91 * pub.SECONDS_PER_DAY
    with pytest.raises(InvalidLinkError) as refused:
        read_copy(published_id, now=later)
    assert str(refused.value) == expired_sentence() and "90 days" in str(refused.value)
    assert copy_state(published_id, now=later) is CopyState.EXPIRED
    assert pub.delete_expired(now=later) == 1
    with pytest.raises(InvalidLinkError, match="has expired"):
        read_copy(published_id)  # the marker still says why
    # the owner's page offers a new link
    assert library.publish(piece_id).published_id != published_id


def test_a_damaged_copy_is_a_sentence(library, folk) -> None:
    _, published_id = _shared(library, folk)
    info = pub._root() / published_id / pub.INFO_FILE
    info.write_text(json.dumps({"format": 1, "title": 3}))
    with pytest.raises(InvalidLinkError) as refused:
        read_copy(published_id)
    assert str(refused.value) == DAMAGED


def test_the_named_limits_on_sharing(library, folk, monkeypatch) -> None:
    assert SETTINGS[pub.MAX_PUBLISHED_ENV].default_value() == pub.DEFAULT_MAX_PUBLISHED
    assert SETTINGS[pub.MAX_PUBLISHED_PIECE_MB_ENV].default_value() == (
        pub.DEFAULT_MAX_PUBLISHED_PIECE_MB
    )
    monkeypatch.setenv(pub.MAX_PUBLISHED_ENV, "1")
    _shared(library, folk, seed=1)
    second = keep(library, make_piece(folk, 2))
    with pytest.raises(QuotaError, match="you share 1 pieces already"):
        library.publish(second.id)
    monkeypatch.setenv(pub.MAX_PUBLISHED_ENV, "5")
    monkeypatch.setenv(pub.MAX_PUBLISHED_PIECE_MB_ENV, "0.001")
    with pytest.raises(NotShareableError, match="too long to share"):
        library.publish(second.id)
    assert not library.get(second.id).published_id
    assert sorted(p.name for p in pub._root().iterdir() if not p.name.startswith(".")) == [
        library.pieces()[-1].published_id
    ]  # nothing half-made
