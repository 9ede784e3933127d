"""Several `streamlit run` replicas behind one sticky nginx, on one machine.

`python -m deploy.replicas --replicas 2 --port 8080` starts N replicas on loopback ports (the
same cookie secret, the same data directory) and Debian's nginx in front of them, as a
foreground process of the caller with a prefix folder of its own (configuration, temporary
files, logs, pid), until Ctrl-C. The configuration is `deploy/nginx.conf.template` filled in
(`proxy_config`); the end-to-end test and the replicas benchmark use `running_replicas`.

This module never imports streamlit; the replicas are separate processes.
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
NGINX = Path("/usr/sbin/nginx")  # Debian's nginx package (packages.txt)
STREAMLIT_CONFIG = REPO / ".streamlit" / "config.toml"

DATA_DIR_ENV = "TUNESMITH_DATA_DIR"
DEFAULT_DATA_DIR = REPO / ".data"  # the app's own default (core.storage.files)
COOKIE_SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"
MAX_UPLOAD_ENV = "STREAMLIT_SERVER_MAX_UPLOAD_SIZE"
STREAMLIT_DEFAULT_MAX_UPLOAD_MB = 200  # Streamlit's own default for server.maxUploadSize

# What the proxy adds: the replica that answered, and the affinity cookie.
REPLICA_HEADER = "X-Tunesmith-Replica"
AFFINITY_COOKIE = "tunesmith_replica"
# Passive health: one refused connection takes a replica out of the hash ring this long.
REPLICA_FAIL_TIMEOUT_S = 10

DEFAULT_PROXY_PORT = 8080
DEFAULT_FIRST_REPLICA_PORT = 8601
LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0
POLL_S = 0.2

_PLACEHOLDER = re.compile(r"\$\{(TUNESMITH_[A-Z_]+)\}")


class DeployError(RuntimeError):
    """A replica or the proxy could not be started, or the configuration is unusable."""


# ---------------------------------------------------------------- the configuration


def max_upload_mb(environ: Mapping[str, str] | None = None) -> int:
    """The app's upload limit in MB: `STREAMLIT_SERVER_MAX_UPLOAD_SIZE`, else
    .streamlit/config.toml's `server.maxUploadSize`, else Streamlit's default."""
    environ = os.environ if environ is None else environ
    if environ.get(MAX_UPLOAD_ENV, "").strip():
        return int(environ[MAX_UPLOAD_ENV])
    try:
        config = tomllib.loads(STREAMLIT_CONFIG.read_text())
    except FileNotFoundError:
        return STREAMLIT_DEFAULT_MAX_UPLOAD_MB
    return int(config.get("server", {}).get("maxUploadSize", STREAMLIT_DEFAULT_MAX_UPLOAD_MB))


def fill_template(values: Mapping[str, str], *, template: str | None = None) -> str:
    """The template with every `${TUNESMITH_...}` replaced by `values[name]`.

    Raises:
        DeployError: a placeholder has no value, or a value is given that no placeholder uses.
    """
    text = TEMPLATE.read_text() if template is None else template
    wanted = set(_PLACEHOLDER.findall(text))
    missing, unused = wanted - set(values), set(values) - wanted
    if missing or unused:
        raise DeployError(
            f"the proxy template needs {sorted(wanted)}; missing {sorted(missing)}, "
            f"unknown {sorted(unused)}"
        )
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def replica_servers(addresses: Sequence[str]) -> str:
    """The upstream's `server` lines, one per replica address (`host:port`)."""
    if not addresses:
        raise DeployError("the proxy needs at least one replica")
    return "\n".join(
        f"        server {address} max_fails=1 fail_timeout={REPLICA_FAIL_TIMEOUT_S}s;"
        for address in addresses
    )


def proxy_config(
    addresses: Sequence[str],
    *,
    listen: str,
    temp_dir: Path,
    access_log: Path | str,
    max_body_mb: int | None = None,
) -> str:
    """nginx.conf for a proxy on `listen` in front of the replicas at `addresses`."""
    return fill_template(
        {
            "TUNESMITH_PROXY_LISTEN": listen,
            "TUNESMITH_REPLICA_SERVERS": replica_servers(addresses),
            "TUNESMITH_MAX_BODY_MB": str(max_upload_mb() if max_body_mb is None else max_body_mb),
            "TUNESMITH_NGINX_TEMP": str(temp_dir),
            "TUNESMITH_ACCESS_LOG": str(access_log),
        }
    )


def nginx_globals(pid_file: Path) -> str:
    """The `-g` directives: in the foreground, with the pid file in the prefix.

    Started by root, nginx hands its workers to `nobody`, who cannot enter a private prefix
    (its temporary files live there), so the workers then run as the caller, as they do
    whenever a normal user starts it.
    """
    directives = f"daemon off; pid {pid_file};"
    if os.geteuid() == 0:
        directives += f" user {pwd.getpwuid(os.geteuid()).pw_name};"
    return directives


@dataclass(frozen=True)
class ProxyFiles:
    """The proxy's prefix folder: its configuration, temporary files, logs and pid file."""

    prefix: Path

    @property
    def conf(self) -> Path:
        return self.prefix / "nginx.conf"

    @property
    def temp_dir(self) -> Path:
        return self.prefix / "temp"

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    @property
    def error_log(self) -> Path:
        return self.prefix / "error.log"

    @property
    def pid_file(self) -> Path:
        return self.prefix / "nginx.pid"

    def command(self, *extra: str) -> list[str]:
        """nginx on this prefix and configuration, its error log its own, in the foreground."""
        return [
            str(NGINX), "-p", str(self.prefix), "-c", str(self.conf), "-e", str(self.error_log),
            "-g", nginx_globals(self.pid_file), *extra,
        ]  # fmt: skip


def write_proxy_config(
    files: ProxyFiles, addresses: Sequence[str], *, listen: str, max_body_mb: int | None = None
) -> Path:
    """Fill the template into `files.conf` and make the folders nginx writes in."""
    files.temp_dir.mkdir(parents=True, exist_ok=True)
    files.conf.write_text(
        proxy_config(
            addresses,
            listen=listen,
            temp_dir=files.temp_dir,
            access_log=files.access_log,
            max_body_mb=max_body_mb,
        )
    )
    return files.conf


def check_proxy_config(files: ProxyFiles) -> str:
    """`nginx -t` on the written configuration; its report (nginx writes it to stderr).

    Raises:
        DeployError: nginx refuses the configuration.
    """
    result = subprocess.run(files.command("-t"), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DeployError(f"nginx refuses {files.conf}: {result.stderr.strip()}")
    return result.stderr


# ---------------------------------------------------------------- processes


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True)
class Replica:
    """One `streamlit run` of the app on `host:port`."""

    host: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def address(self) -> str:
        """`host:port`, as the proxy names it in `X-Tunesmith-Replica`."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM, as a replica going away would get (SIGKILL after `STOP_TIMEOUT_S`).
        Training jobs it started run on: they are processes of their own session."""
        _stop(self.process)


def replica_env(*, data_dir: Path, cookie_secret: str) -> dict[str, str]:
    """A replica's environment: the caller's, with the shared data directory and secret."""
    return {
        **os.environ,
        DATA_DIR_ENV: str(data_dir),
        COOKIE_SECRET_ENV: cookie_secret,
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
    }


def launch_replica(
    port: int,
    *,
    data_dir: Path,
    cookie_secret: str,
    log: IO[bytes] | None = None,
    host: str = LOOPBACK,
) -> Replica:
    """Start one replica (as tests/e2e/conftest.py's `app_server` starts the app); it is ready
    once `wait_until_healthy` returns."""
    command = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
        "--server.port", str(port), "--server.address", host,
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=replica_env(data_dir=data_dir, cookie_secret=cookie_secret),
        stdin=subprocess.DEVNULL,
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    return Replica(host, port, process)


def wait_until_healthy(
    url: str, process: subprocess.Popen[bytes], *, timeout_s: float = START_TIMEOUT_S
) -> None:
    """Until `url/_stcore/health` answers 200.

    Raises:
        DeployError: the process exited, or it did not answer within `timeout_s`.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise DeployError(f"{url}: the process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise DeployError(f"{url} did not answer within {timeout_s:g} s")
        time.sleep(POLL_S)


@dataclass(frozen=True)
class Proxy:
    """nginx on `host:port`, in front of the replicas."""

    host: str
    port: int
    files: ProxyFiles
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        _stop(self.process)  # SIGTERM: nginx's fast shutdown


def launch_proxy(
    addresses: Sequence[str],
    *,
    prefix: Path,
    port: int,
    host: str = LOOPBACK,
    max_body_mb: int | None = None,
) -> Proxy:
    """Write the configuration under `prefix`, check it (`nginx -t`), start nginx in the
    foreground and wait until it answers through a replica.

    Raises:
        DeployError: nginx refuses the configuration, exits, or answers nothing in time.
    """
    files = ProxyFiles(Path(prefix).resolve())
    write_proxy_config(files, addresses, listen=f"{host}:{port}", max_body_mb=max_body_mb)
    check_proxy_config(files)
    process = subprocess.Popen(
        files.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=None
    )
    proxy = Proxy(host, port, files, process)
    try:
        wait_until_healthy(proxy.url, process)
    except DeployError as error:
        _stop(process)
        log = files.error_log.read_text() if files.error_log.exists() else ""
        raise DeployError(f"nginx: {error}; {files.error_log}: {log[-2000:]}") from error
    return proxy


@dataclass(frozen=True)
class ReplicaSet:
    """The replicas and the proxy in front of them; browsers use `url`."""

    proxy: Proxy
    replicas: tuple[Replica, ...]
    data_dir: Path
    run_dir: Path

    @property
    def url(self) -> str:
        return self.proxy.url

    def replica_named(self, header: str) -> Replica:
        """The replica an `X-Tunesmith-Replica` value names: its last address (nginx lists
        every replica it tried, a stopped one first)."""
        address = header.split(",")[-1].strip()
        for replica in self.replicas:
            if replica.address == address:
                return replica
        raise KeyError(f"no replica at {address!r} (header {header!r})")


@contextmanager
def running_replicas(
    count: int = 2,
    *,
    run_dir: Path,
    data_dir: Path | None = None,
    cookie_secret: str | None = None,
    proxy_port: int | None = None,
    replica_ports: Sequence[int] | None = None,
    host: str = LOOPBACK,
) -> Iterator[ReplicaSet]:
    """`count` replicas and the proxy, all stopped afterwards.

    Args:
        count: how many replicas.
        run_dir: where the proxy's prefix (`run_dir/nginx`) and each replica's log
            (`run_dir/replica-N.log`) go.
        data_dir: the one data directory of all replicas (`TUNESMITH_DATA_DIR`, else .data/).
        cookie_secret: the one `server.cookieSecret` (`STREAMLIT_SERVER_COOKIE_SECRET`, else a
            new random one for this run).
        proxy_port: the proxy's port (a free one unless given).
        replica_ports: the replicas' ports on loopback (free ones unless given).
        host: the address the proxy listens on; the replicas always listen on loopback.
    """
    if count < 1:
        raise DeployError("at least one replica")
    ports = list(replica_ports) if replica_ports else [free_port() for _ in range(count)]
    if len(ports) != count:
        raise DeployError(f"{count} replicas need {count} ports, got {ports}")
    data = Path(data_dir or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR).resolve()
    data.mkdir(parents=True, exist_ok=True)
    secret = cookie_secret or os.environ.get(COOKIE_SECRET_ENV) or secrets.token_urlsafe(32)
    run_dir = Path(run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        replicas = []
        for number, port in enumerate(ports, start=1):
            log = stack.enter_context(open(run_dir / f"replica-{number}.log", "ab"))
            replica = launch_replica(port, data_dir=data, cookie_secret=secret, log=log)
            stack.callback(replica.stop)
            replicas.append(replica)
        for replica in replicas:  # started together, they warm up side by side
            wait_until_healthy(replica.url, replica.process)
        proxy = launch_proxy(
            [r.address for r in replicas],
            prefix=run_dir / "nginx",
            port=proxy_port or free_port(host),
            host=host,
        )
        stack.callback(proxy.stop)
        yield ReplicaSet(proxy, tuple(replicas), data, run_dir)


# ---------------------------------------------------------------- the command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.replicas",
        description="Run N Tunesmith replicas behind a sticky nginx on this machine, "
        "until Ctrl-C (docs/replicas.md).",
    )
    parser.add_argument("--replicas", type=int, default=2, metavar="N", help="default 2")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PROXY_PORT, help="the proxy's port (default 8080)"
    )
    parser.add_argument(
        "--host",
        default=LOOPBACK,
        help="the proxy's address (default 127.0.0.1; 0.0.0.0 for other machines)",
    )
    parser.add_argument(
        "--first-replica-port",
        type=int,
        default=DEFAULT_FIRST_REPLICA_PORT,
        metavar="PORT",
        help="replica i listens on 127.0.0.1:PORT+i (default 8601, 8602, ...)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help=f"the replicas' one data directory (default ${DATA_DIR_ENV}, else .data/)",
    )
    parser.add_argument(
        "--run-dir",
        type=Path,
        help="where nginx's prefix and the replicas' logs go (default: a new temporary folder)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.data_dir is not None:
        os.environ[DATA_DIR_ENV] = str(args.data_dir.resolve())
    sys.path.insert(0, str(REPO))
    from core.settings import check_settings

    problems = check_settings()
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix="tunesmith-replicas-"))
    ports = [args.first_replica_port + i for i in range(args.replicas)]
    # SIGTERM (a service manager, `kill`) stops everything the way Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"starting {args.replicas} replicas on {', '.join(map(str, ports))} ...", flush=True)
    try:
        with running_replicas(
            args.replicas,
            run_dir=run_dir,
            data_dir=args.data_dir,
            proxy_port=args.port,
            replica_ports=ports,
            host=args.host,
        ) as replica_set:
            behind = ", ".join(r.url for r in replica_set.replicas)
            print(f"Tunesmith: {replica_set.url}  (in front of {behind})")
            print(f"data {replica_set.data_dir}; logs and nginx prefix {run_dir}; Ctrl-C stops")
            stopped: set[str] = set()
            while replica_set.proxy.process.poll() is None:
                for replica in replica_set.replicas:
                    if not replica.running() and replica.address not in stopped:
                        stopped.add(replica.address)
                        print(f"replica {replica.address} stopped; the proxy routes around it")
                time.sleep(1)
            print(f"nginx exited; see {replica_set.proxy.files.error_log}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("stopping")
    except DeployError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
