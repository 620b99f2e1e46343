"""Private backing services for e2e tests and benchmarks: never the machine's shared ones.

* ``PrivateRedis``: a ``redis-server`` on a free loopback port, nothing kept on disk.
* ``PrivatePostgres``: a throw-away PostgreSQL cluster (``initdb`` into a temp dir, ``pg_ctl`` on a free port,
  loopback only, trust auth). PostgreSQL refuses to run as root, so as root the cluster belongs to (and runs as)
  the ``postgres`` system user (Debian's package creates it), else ``nobody``.
* ``PrivateNginx``: nginx with a temp prefix (pid, logs, temp files all inside it), its sites rendered from the
  shipped ``deploy/nginx/cabinet.conf`` with the upstream ports replaced, so the tests exercise that file.
* ``CabinetProcess`` / ``ProductionStack``: several ``cabinet serve`` processes on those services behind nginx.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers import TEST_SECRET, free_port, reap, spawn

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_NGINX = ROOT / "deploy" / "nginx" / "cabinet.conf"
REDIS_SERVER = shutil.which("redis-server")


def wait_for_port(port: int, *, timeout: float = 10, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:g} s")


class PrivateRedis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self.process = spawn(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(self.port, process=self.process)
        except RuntimeError as exc:
            raise RuntimeError("private redis-server did not start") from exc

    def pid(self) -> int:
        return self.process.pid if self.process is not None else 0

    def stop(self) -> None:
        if self.process is not None:
            reap(self.process, sig=signal.SIGKILL, timeout=10)
            self.process = None


# --- PostgreSQL --------------------------------------------------------------------------------------------
def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", path.parent.parent.name)) or (0,)


def postgres_bindir() -> Path | None:
    """The directory of ``initdb``/``pg_ctl``: on PATH, else Debian's newest /usr/lib/postgresql/N/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=_version_key)
    return candidates[-1].parent if candidates else None


def _unprivileged_user() -> pwd.struct_passwd | None:
    """The account to run PostgreSQL as when we are root (it refuses root); None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, and neither a 'postgres' nor a 'nobody' account exists to run PostgreSQL")


class PrivatePostgres:
    """A throw-away cluster: ``init()`` once, then ``start()``/``stop()``/``restart()``; ``url`` is its
    ``postgres`` database (user ``postgres``, trust auth on 127.0.0.1 only)."""

    def __init__(self) -> None:
        bindir = postgres_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL server programs (initdb, pg_ctl) not found")
        self.bindir = bindir
        self.port = free_port()
        self.user = _unprivileged_user()
        # not under pytest's 0700 tmp dirs: the postgres account must reach it
        self.base = Path(tempfile.mkdtemp(prefix="cabinet-pg-"))
        if self.user is not None:
            os.chown(self.base, self.user.pw_uid, self.user.pw_gid)
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        as_user: dict[str, Any] = {}
        if self.user is not None:
            as_user = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        done = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            cwd=self.base,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"},
            capture_output=True,
            text=True,
            timeout=timeout,
            **as_user,
        )
        if done.returncode != 0:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} {args[1:]} failed ({done.returncode}): {done.stderr.strip()}\n{tail}")

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off "
            "-c synchronous_commit=off -c max_connections=150"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def pids(self) -> list[int]:
        """The postmaster and its backends (for memory and CPU accounting)."""
        try:
            postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return [postmaster, *children(postmaster)]

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except (RuntimeError, subprocess.SubprocessError):
                pass
        shutil.rmtree(self.base, ignore_errors=True)


def children(pid: int) -> list[int]:
    """Direct children of a process, from /proc (empty where /proc is missing)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


# --- nginx ------------------------------------------------------------------------------------------------
_UPSTREAM_SERVER = re.compile(r"^[ \t]*server 127\.0\.0\.1:\d+([^;\n]*);\n", re.MULTILINE)


def render_site(template: str, name: str, listen: int, backends: list[int]) -> str:
    """One ``server``/``upstream`` pair of ``deploy/nginx/cabinet.conf`` for a loopback port and backend ports.

    Only the addresses change; every proxy setting is the shipped file's (a drifted template fails loudly)."""
    first = _UPSTREAM_SERVER.search(template)
    if first is None or "upstream cabinet {" not in template or "proxy_pass http://cabinet;" not in template:
        raise RuntimeError(f"{DEPLOY_NGINX} no longer has the upstream/proxy_pass this renderer expects")
    indent = re.match(r"[ \t]*", first.group(0))
    lines = "".join(f"{indent.group(0) if indent else ''}server 127.0.0.1:{p}{first.group(1)};\n" for p in backends)
    text = _UPSTREAM_SERVER.sub("", template)
    text = text[: first.start()] + lines + text[first.start() :]
    text = text.replace("upstream cabinet {", f"upstream {name} {{").replace(
        "proxy_pass http://cabinet;", f"proxy_pass http://{name};"
    )
    text, listens = re.subn(r"^([ \t]*)listen [^;]+;", rf"\g<1>listen 127.0.0.1:{listen};", text, flags=re.M)
    if listens != 1:
        raise RuntimeError(f"{DEPLOY_NGINX}: expected one listen directive, found {listens}")
    return text


class PrivateNginx:
    """nginx (``nginx -p DIR -c DIR/nginx.conf -e DIR/error.log``, ``daemon off``) serving one site per entry
    of ``sites`` (backend ports), each on its own free port. ``access_log`` records which upstream answered."""

    def __init__(self, binary: str, workdir: Path, sites: list[list[int]], *, access_log: bool = True) -> None:
        self.binary = binary
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ports = [free_port() for _ in sites]
        self.access_log = self.dir / "access.log"
        template = DEPLOY_NGINX.read_text()
        rendered = [render_site(template, f"cabinet_{i}", self.ports[i], ports) for i, ports in enumerate(sites)]
        (self.dir / "sites.conf").write_text("\n".join(rendered))
        temp = {name: self.dir / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
        logging = (
            f"log_format upstreams '$request_method $request_uri $status $upstream_addr $upstream_status';\n"
            f"    access_log {self.access_log} upstreams;"
            if access_log
            else "access_log off;"
        )
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
        (self.dir / "nginx.conf").write_text(
            f"""daemon off;
{user}worker_processes 1;
pid {self.dir / "nginx.pid"};
error_log {self.dir / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    {logging}
    client_body_temp_path {temp["client_body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {self.dir / "sites.conf"};
}}
"""
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    def _command(self, *extra: str) -> list[str]:
        return [
            self.binary,
            "-p",
            str(self.dir),
            "-c",
            str(self.dir / "nginx.conf"),
            "-e",
            str(self.dir / "error.log"),
            *extra,
        ]

    def start(self) -> None:
        checked = subprocess.run(self._command("-t"), capture_output=True, text=True, timeout=30)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t refused the rendered configuration: {checked.stderr}")
        self.process = spawn(self._command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for port in self.ports:
            wait_for_port(port, process=self.process)

    def pids(self) -> list[int]:
        return [self.process.pid, *children(self.process.pid)] if self.process is not None else []

    def upstreams_logged(self) -> list[str]:
        """The access log's lines (method, uri, status, upstream addresses tried, their statuses)."""
        return self.access_log.read_text().splitlines() if self.access_log.exists() else []

    def stop(self) -> None:
        if self.process is not None:
            reap(self.process, sig=signal.SIGQUIT, timeout=10)  # graceful: finish requests in flight
            self.process = None


# --- cabinet ----------------------------------------------------------------------------------------------
def cabinet_env(database_url: str, redis_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CABINET_")}
    env.update(
        CABINET_DATABASE_URL=database_url,
        CABINET_REDIS_URL=redis_url,
        CABINET_SECRET_KEY=TEST_SECRET,
        CABINET_DATA_DIR=str(data_dir),
        CABINET_FORWARDED_ALLOW_IPS="127.0.0.1",
        CABINET_LOG_LEVEL="WARNING",
        CABINET_DB_POOL_SIZE="5",
    )
    env.update(extra)
    return env


class CabinetProcess:
    """One ``cabinet serve`` process (as systemd's ``cabinet@PORT`` runs it), its log in ``log_dir``."""

    def __init__(self, env: dict[str, str], log_dir: Path, port: int | None = None) -> None:
        self.env = env
        self.port = port or free_port()
        self.log_path = log_dir / f"cabinet-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid if self.process is not None else 0

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = spawn(
                [sys.executable, "-m", "cabinet", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env={**self.env, "CABINET_POD_NAME": f"cabinet-{self.port}"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"cabinet on {self.port} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"cabinet on {self.port} did not answer /health in {timeout:g} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, requests in flight are cut."""
        if self.process is not None:
            reap(self.process, sig=signal.SIGKILL, timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            reap(self.process, sig=signal.SIGTERM, timeout=30)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class ProductionStack:
    """PostgreSQL + Redis (private) + ``processes`` cabinet processes + nginx in front of them.

    ``sites`` lists, per nginx site, the indexes of the processes behind it (default: one site, all of them)."""

    nginx_binary: str
    processes: int = 2
    sites: list[list[int]] | None = None
    access_log: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="cabinet-stack-"))
        self.data_dir = self.dir / "data"
        self.data_dir.mkdir()
        self.postgres: PrivatePostgres | None = None
        self.redis = PrivateRedis(self.dir)
        self.cabinets: list[CabinetProcess] = []
        self.nginx: PrivateNginx | None = None

    @property
    def url(self) -> str:
        """The (first) nginx site."""
        assert self.nginx is not None
        return self.nginx.urls[0]

    @property
    def env(self) -> dict[str, str]:
        assert self.postgres is not None
        return cabinet_env(self.postgres.url, self.redis.url, self.data_dir, **self.extra_env)

    def start(self) -> None:
        self.postgres = PrivatePostgres()
        self.postgres.init()
        self.postgres.start()
        self.redis.start()
        migrated = subprocess.run(
            [sys.executable, "-m", "cabinet", "migrate"], env=self.env, capture_output=True, text=True, timeout=120
        )
        if migrated.returncode != 0:
            raise RuntimeError(f"cabinet migrate failed: {migrated.stderr}")
        self.cabinets = [CabinetProcess(self.env, self.dir) for _ in range(self.processes)]
        for cabinet in self.cabinets:
            cabinet.start()
        for cabinet in self.cabinets:
            cabinet.wait_ready()
        sites = self.sites or [list(range(self.processes))]
        self.nginx = PrivateNginx(
            self.nginx_binary,
            self.dir / "nginx",
            [[self.cabinets[i].port for i in site] for site in sites],
            access_log=self.access_log,
        )
        self.nginx.start()

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for cabinet in self.cabinets:
            cabinet.stop()
        self.redis.stop()
        if self.postgres is not None:
            self.postgres.destroy()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> ProductionStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
