"""The proxy's configuration (deploy/nginx.conf.template): filled in by deploy/replicas.py it
passes `nginx -t`, keeps the app's upload limit, and is sticky on every path; compose.yaml fills
in the same placeholders (with envsubst) and runs the services the replicas need.

One test runs nginx in front of a stand-in replica and a dead address; the real replicas
behind nginx are tests/e2e/test_replicas.py's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import tomllib
import urllib.error
import urllib.request
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from deploy.replicas import (
    NGINX,
    STREAMLIT_CONFIG,
    TEMPLATE,
    DeployError,
    ProxyFiles,
    check_proxy_config,
    fill_template,
    free_port,
    launch_proxy,
    max_upload_mb,
    proxy_config,
    write_proxy_config,
)
from tests.conftest import REPO

COMPOSE = REPO / "compose.yaml"
PLACEHOLDERS = {
    "TUNESMITH_PROXY_LISTEN",
    "TUNESMITH_REPLICA_SERVERS",
    "TUNESMITH_MAX_BODY_MB",
    "TUNESMITH_NGINX_TEMP",
    "TUNESMITH_ACCESS_LOG",
}
ADDRESSES = ["127.0.0.1:8601", "127.0.0.1:8602"]


def _config(tmp_path: Path, **kwargs: object) -> str:
    return proxy_config(ADDRESSES, listen="127.0.0.1:8080", temp_dir=tmp_path / "temp",
                        access_log=tmp_path / "access.log", **kwargs)  # type: ignore[arg-type]


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_the_filled_configuration_passes_nginx_t(tmp_path):
    assert NGINX.exists(), "install Debian's nginx (packages.txt)"
    files = ProxyFiles(tmp_path)
    write_proxy_config(files, ADDRESSES, listen="127.0.0.1:8080")
    assert "test is successful" in check_proxy_config(files)
    assert not re.search(r"\$\{TUNESMITH_[A-Z_]+\}", files.conf.read_text())  # all filled


def test_nginx_t_refuses_a_broken_configuration(tmp_path):
    files = ProxyFiles(tmp_path)
    write_proxy_config(files, ["not an address"], listen="127.0.0.1:8080")
    with pytest.raises(DeployError, match="nginx refuses"):
        check_proxy_config(files)


def test_the_template_names_exactly_its_placeholders():
    assert set(re.findall(r"\$\{(TUNESMITH_[A-Z_]+)\}", TEMPLATE.read_text())) == PLACEHOLDERS
    with pytest.raises(DeployError, match="missing"):
        fill_template({"TUNESMITH_PROXY_LISTEN": "80"})
    with pytest.raises(DeployError, match="unknown"):
        fill_template(dict.fromkeys([*PLACEHOLDERS, "TUNESMITH_TYPO"], "x"))


def test_one_server_line_per_replica_with_passive_health(tmp_path):
    servers = re.findall(r"^\s*server (\S+) max_fails=1 fail_timeout=10s;$", _config(tmp_path),
                         re.MULTILINE)
    assert servers == ADDRESSES
    with pytest.raises(DeployError, match="at least one replica"):
        proxy_config([], listen="80", temp_dir=tmp_path, access_log="off")


def test_the_body_limit_is_the_app_s_upload_limit(tmp_path, monkeypatch):
    monkeypatch.delenv("STREAMLIT_SERVER_MAX_UPLOAD_SIZE", raising=False)
    configured = tomllib.loads(STREAMLIT_CONFIG.read_text())["server"]["maxUploadSize"]
    assert max_upload_mb() == configured
    assert f"client_max_body_size {configured}m;" in _config(tmp_path)
    monkeypatch.setenv("STREAMLIT_SERVER_MAX_UPLOAD_SIZE", "50")  # Streamlit's own override
    assert "client_max_body_size 50m;" in _config(tmp_path)


def test_affinity_is_a_cookie_hashed_consistently_on_every_path(tmp_path):
    config = _config(tmp_path)
    assert "hash $tunesmith_affinity consistent;" in config
    assert re.search(r'""\s+\$request_id;', config)  # a browser without the cookie gets one
    assert "proxy_next_upstream error timeout;" in config
    assert "add_header X-Tunesmith-Replica $upstream_addr always;" in config
    # every location goes through the one sticky upstream: pages, media, uploads, websocket
    locations = re.findall(r"location (\S+) \{(.*?)\}", config, re.DOTALL)
    assert {path for path, _ in locations} == {"/", "/_stcore/stream", "/_stcore/upload_file"}
    assert all("proxy_pass http://tunesmith_replicas;" in body for _, body in locations)
    # add_header inside a location would drop the server's headers there
    assert all("add_header" not in body for _, body in locations)
    stream = dict(locations)["/_stcore/stream"]
    assert "proxy_read_timeout 1d;" in stream
    assert "proxy_set_header Upgrade $http_upgrade;" in config


def test_compose_runs_two_replicas_a_worker_redis_and_the_proxy():
    services = _compose()["services"]
    assert set(services) == {"app1", "app2", "worker", "redis", "proxy"}
    for name in ("app1", "app2", "worker"):
        service = services[name]
        assert service["build"] == "." and service["volumes"] == ["tunesmith-data:/data"]
        env = service["environment"]
        assert env["TUNESMITH_DATA_DIR"] == "/data"
        assert env["TUNESMITH_JOB_RUNNER"] == "rq"
        assert env["TUNESMITH_REDIS_URL"] == "redis://redis:6379/0"
        assert env["STREAMLIT_SERVER_COOKIE_SECRET"].startswith("${TUNESMITH_COOKIE_SECRET:?")
    assert services["worker"]["command"] == [".venv/bin/python", "-m", "core", "worker"]
    assert services["redis"]["image"] == "redis:7"
    assert "--appendonly" in services["redis"]["command"]
    assert services["proxy"]["image"] == "nginx:1.22"
    assert services["proxy"]["environment"]["TUNESMITH_MAX_BODY_MB"] == str(max_upload_mb({}))


@pytest.mark.skipif(shutil.which("envsubst") is None, reason="needs envsubst (gettext-base)")
def test_compose_s_envsubst_fills_the_template_as_deploy_replicas_does(tmp_path):
    proxy = _compose()["services"]["proxy"]
    env = {key: str(value) for key, value in proxy["environment"].items()}
    assert set(env) == PLACEHOLDERS
    # the container's command as compose runs it ($$ is compose's escape for $), on local paths
    command = proxy["command"][2].replace("$$", "$").split(" && exec nginx")[0]
    output = tmp_path / "nginx.conf"
    command = command.replace("/etc/tunesmith/nginx.conf.template", str(TEMPLATE))
    command = command.replace("/etc/nginx/nginx.conf", str(output))
    subprocess.run(["sh", "-c", command], env=env, check=True)
    assert output.read_text() == fill_template(env)


class _Replica(BaseHTTPRequestHandler):
    """A stand-in replica: 200 to every GET and PUT (the PUT's body read)."""

    def do_GET(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer()

    def _answer(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:  # quiet
        pass


def _request(url: str, *, cookie: str = "", body: bytes | None = None) -> tuple[int, Message]:
    request = urllib.request.Request(url, data=body, method="PUT" if body else "GET")
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def test_a_running_proxy_sets_the_cookie_routes_around_a_dead_replica_and_limits_bodies(
    tmp_path,
):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Replica)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    live, dead = f"127.0.0.1:{server.server_address[1]}", f"127.0.0.1:{free_port()}"
    proxy = launch_proxy([dead, live], prefix=tmp_path / "nginx", port=free_port(), max_body_mb=1)
    try:
        cookies = set()
        for _ in range(16):  # new browsers: a cookie each, half of them hashed to the dead one
            status, headers = _request(proxy.url)
            assert status == 200
            assert headers["X-Tunesmith-Replica"].split(", ")[-1] == live
            cookie = headers["Set-Cookie"].split(";")[0]
            assert re.fullmatch(r"tunesmith_replica=[0-9a-f]{32}", cookie)
            cookies.add(cookie)
        assert len(cookies) == 16
        status, headers = _request(f"{proxy.url}/media/x.mp3", cookie=cookie)
        assert status == 200 and "Set-Cookie" not in headers  # set once, then kept
        upload = f"{proxy.url}/_stcore/upload_file/session/file"
        assert _request(upload, cookie=cookie, body=b"x" * 100_000)[0] == 200
        assert _request(upload, cookie=cookie, body=b"x" * 2_000_000)[0] == 413  # over 1 MB
        assert "connect() failed" in proxy.files.error_log.read_text()  # the dead one was tried
    finally:
        proxy.stop()
        server.shutdown()
    assert proxy.process.returncode == 0
