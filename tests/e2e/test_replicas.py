"""Two replicas behind the sticky proxy, in a real browser: two browsers land on different
replicas and each stays on its own (reloads, websocket, upload, media); an upload and a tune
work through the proxy; a training started on one replica is followed to its finished model
from the other after the first is stopped.

The replicas and nginx are deploy/replicas.py's `running_replicas` (two `streamlit run`, as
tests/e2e/conftest.py starts one, with one cookie secret and one data directory; Debian's nginx
with deploy/nginx.conf.template). The proxy names the replica that answered in
`X-Tunesmith-Replica`, and its access log names the replica of every request by its affinity
cookie, the websocket's included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from deploy.replicas import (
    AFFINITY_COOKIE,
    COOKIE_SECRET_ENV,
    DATA_DIR_ENV,
    ReplicaSet,
    running_replicas,
)
from tests.conftest import MUSIC_FIXTURES, wait_until
from tests.e2e.conftest import AUDIO_DURATION_JS, FINISHED, RUN_TIMEOUT_MS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Response

pytestmark = pytest.mark.e2e

HEADER = "x-tunesmith-replica"  # deploy.replicas.REPLICA_HEADER, as Playwright spells it
MAX_CONTEXTS = 12  # each new browser lands on either replica: all 12 on one is 1 in 2,000
TRAIN_TIMEOUT_MS = 300_000
# The journey's music (tests/e2e/test_journey.py), without its broken file.
UPLOADS = ("tunes.abc", "scale.mid", "triplets.mid", "tune.musicxml")
TRAINING_STEPS = "8"  # the quick preset cut to a few steps, as the journey does
LOG_LINE = re.compile(r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) .*'
                      r"affinity=(?P<affinity>\S+) upstream=(?P<upstream>.*) request_s=")
ACTIVE_PROGRESS = re.compile(r"^(Starting|Round \d|Waiting|reading|getting ready|checking|"
                             r"saving|listening|timing)")


@dataclass(frozen=True)
class Visitor:
    """One browser (a context of its own: cookies, cache) and the replica of its first page."""

    page: Page
    replica: str

    def cookie(self) -> str:
        cookies = self.page.context.cookies()
        return next(c["value"] for c in cookies if c["name"] == AFFINITY_COOKIE)


@dataclass(frozen=True)
class Logged:
    """One request as the proxy logged it: its path and the replica that answered."""

    path: str
    replica: str


def _answered_by(response: Response | None) -> str:
    """The replica that answered: the last address nginx tried (a stopped one comes first)."""
    assert response is not None
    return response.headers[HEADER].split(",")[-1].strip()


def _visit(browser: Browser, url: str) -> Visitor:
    page = browser.new_context().new_page()
    page.set_default_timeout(RUN_TIMEOUT_MS)
    visitor = Visitor(page, _answered_by(page.goto(url)))
    page.wait_for_selector(FINISHED)
    return visitor


def _reload(visitor: Visitor, url: str | None = None) -> str:
    """Reload (or open `url` in) the visitor's tab; the replica that served the page."""
    page = visitor.page
    response = page.goto(url) if url else page.reload()
    page.wait_for_selector(FINISHED)
    return _answered_by(response)


def _logged(replica_set: ReplicaSet, cookie: str, *, since: int = 0) -> list[Logged]:
    """This cookie's requests in the proxy's access log from line `since` on: every request
    that reached the proxy (what the browser's cache answered never does), the first one, made
    before the cookie existed, included (the cookie is that request's id). nginx logs a
    websocket when it closes."""
    found = []
    lines = replica_set.proxy.files.access_log.read_text().splitlines()[since:]
    for match in filter(None, map(LOG_LINE.search, lines)):
        if match["affinity"] == cookie:
            found.append(Logged(urlsplit(match["path"]).path,
                                match["upstream"].split(",")[-1].strip()))
    return found


def _sockets(logged: list[Logged], count: int) -> list[Logged] | None:
    """`logged` once it holds `count` websockets."""
    sockets = [entry for entry in logged if entry.path == "/_stcore/stream"]
    return logged if len(sockets) >= count else None


def _log_length(replica_set: ReplicaSet) -> int:
    return len(replica_set.proxy.files.access_log.read_text().splitlines())


def _open_page(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name=title).click()
    page.wait_for_selector(FINISHED)


@pytest.fixture(scope="module")
def replica_set(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplicaSet]:
    run_dir = tmp_path_factory.mktemp("replicas")  # nginx's prefix and the replicas' logs
    with running_replicas(2, run_dir=run_dir, data_dir=run_dir / "data",
                          cookie_secret="tunesmith-e2e-replicas") as replicas:
        yield replicas


def test_two_browsers_land_on_different_replicas_and_each_stays_on_its_own(
    replica_set: ReplicaSet, browser: Browser
) -> None:
    for replica in replica_set.replicas:  # one secret, one data directory
        environ = Path(f"/proc/{replica.pid}/environ").read_bytes().split(b"\0")
        assert f"{COOKIE_SECRET_ENV}=tunesmith-e2e-replicas".encode() in environ
        assert f"{DATA_DIR_ENV}={replica_set.data_dir}".encode() in environ
    first = _visit(browser, replica_set.url)
    for _ in range(MAX_CONTEXTS):
        second = _visit(browser, replica_set.url)
        if second.replica != first.replica:
            break
        second.page.context.close()
    else:
        pytest.fail(f"{MAX_CONTEXTS} new browsers all landed on {first.replica}")
    assert {first.replica, second.replica} == {r.address for r in replica_set.replicas}
    assert first.cookie() != second.cookie()

    for visitor in (first, second):
        cookie = visitor.cookie()
        assert [_reload(visitor) for _ in range(2)] == [visitor.replica] * 2
        assert visitor.cookie() == cookie  # set once, kept
        visitor.page.context.close()  # its last websocket closes, and is logged
        # everything it asked the proxy for (pages, static files, health, host config) and
        # its three websockets went to its own replica
        logged = wait_until(lambda c=cookie: _sockets(_logged(replica_set, c), 3),
                            timeout_s=10, message="its websockets in the access log")
        assert {entry.replica for entry in logged} == {visitor.replica}


def _upload(page: Page, files: list[Path], attempts: int = 2) -> None:
    """Hand the files to the upload tab's picker and wait for its "Add to my dataset" button.
    Once in a loaded run the picker's rerun was lost on the way through the proxy and the
    button never came (CI, stop 33); the files are then handed over again, once."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        page.get_by_role("tab", name="Upload music files").click()
        page.wait_for_selector(FINISHED)
        page.locator("input[type='file']").first.set_input_files([str(f) for f in files])
        try:
            page.get_by_role("button", name="Add to my dataset").wait_for(timeout=RUN_TIMEOUT_MS)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
            page.reload()
            page.wait_for_selector(FINISHED)


def test_upload_tune_and_training_followed_on_the_other_replica_once_the_first_stops(
    replica_set: ReplicaSet, browser: Browser
) -> None:
    from playwright.sync_api import expect

    visitor = _visit(browser, replica_set.url)
    page = visitor.page
    first = replica_set.replica_named(visitor.replica)
    (other,) = (r for r in replica_set.replicas if r is not first)

    # An upload through the proxy: the files go to the replica that owns the session.
    _open_page(page, "Data")
    _upload(page, [MUSIC_FIXTURES / name for name in UPLOADS])
    page.get_by_role("button", name="Add to my dataset").click()
    page.get_by_text(f"My dataset: {len(UPLOADS)} files").wait_for()
    page.get_by_role("button", name="Use my dataset").click()
    page.wait_for_selector(FINISHED)
    cookie = visitor.cookie()
    uploads = [e for e in _logged(replica_set, cookie) if e.path.startswith("/_stcore/upload")]
    assert len(uploads) >= len(UPLOADS)
    assert {entry.replica for entry in uploads} == {first.address}

    # Media through the proxy: Home's tune plays, its audio fetched from the same replica.
    _open_page(page, "Home")
    page.get_by_role("button", name="Play me a new tune").click()
    assert float(page.evaluate(AUDIO_DURATION_JS, 0)) > 0
    page.wait_for_selector(FINISHED)
    media = [e for e in _logged(replica_set, cookie) if e.path.startswith("/media/")]
    assert media and {entry.replica for entry in media} == {first.address}

    # A training started there (the quick preset cut to a few steps, as in the journey).
    _open_page(page, "Train")
    expect(page.get_by_role("combobox", name="Music to learn from")).to_have_value(
        re.compile("chosen on the Data page"), timeout=RUN_TIMEOUT_MS)
    page.get_by_text("Advanced settings").click()
    steps = page.get_by_role("spinbutton", name="Training steps (budget)")
    steps.fill(TRAINING_STEPS)
    steps.press("Enter")
    page.wait_for_selector(FINISHED)
    page.get_by_role("button", name="Start training").click()
    page.get_by_test_id("stProgress").first.wait_for()
    wait_until(lambda: "job=" in page.url, timeout_s=30, message=lambda: page.url)
    link = page.url  # ?ws=...&job=...: the workspace and the job it follows
    assert re.search(r"[?&]ws=[0-9a-f]{32}", link)

    # Its replica goes away; the same browser reopens its link and gets the other one, which
    # shows the job's progress (from the shared job folder) and then the finished model.
    first.stop()
    since = _log_length(replica_set)  # A has answered its last request
    assert _reload(visitor, link) == other.address
    assert visitor.cookie() == cookie  # the same cookie, now mapped to the replica left
    progress = page.get_by_test_id("stProgress").first
    progress.wait_for()
    assert ACTIVE_PROGRESS.search(progress.inner_text().strip()), progress.inner_text()
    page.get_by_text(re.compile("^Finished")).first.wait_for(timeout=TRAIN_TIMEOUT_MS)
    page.get_by_text(re.compile("^Your model")).first.wait_for()  # the verdict in words
    page.wait_for_selector(FINISHED)
    assert page.locator("[data-testid='stException']").count() == 0
    page.context.close()
    # From the stop on, everything this browser asked for was answered by the replica left,
    # its new websocket included (but the old one, logged as the stopped replica closed it).
    logged = wait_until(lambda: _sockets(_logged(replica_set, cookie, since=since), 1),
                        timeout_s=10, message="its new websocket in the access log")
    old_socket = Logged("/_stcore/stream", first.address)
    assert {e.replica for e in logged if e != old_socket} == {other.address}
    assert any(e.path == "/_stcore/stream" and e.replica == other.address for e in logged)
