"""Shared benchmark plumbing: a cheap HTTP/1.1 keep-alive load generator and a real-server fixture.

The load generator is a small asyncio client on raw sockets (no HTTP library): each connection sends one
request, reads the whole response, records its latency and status, and sends the next one (no pipelining).
It runs in its own process (``LoadProcess``) so it never shares the server's interpreter, and it reports its
own CPU use so a run can tell whether the loader or the server was the bottleneck.

``Server`` runs the real ``cabinet`` CLI: ``migrate``, ``users create``, ``serve`` on a free loopback port with
a fresh data directory (the embedded SQLite profile), waits for ``/health`` and always stops the server.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
CABINET = ROOT / ".venv" / "bin" / "cabinet"


# --- requests --------------------------------------------------------------------------------------------
def http_request(
    method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None, port: int = 0
) -> bytes:
    """One HTTP/1.1 keep-alive request as raw bytes (``body`` is sent as JSON when not None)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}" if port else f"Host: {HOST}", "Accept: */*"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    payload = b""
    if body is not None:
        payload = json.dumps(body, separators=(",", ":")).encode()
        lines.append("Content-Type: application/json")
    if body is not None or method in {"POST", "PUT", "PATCH"}:
        lines.append(f"Content-Length: {len(payload)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


@dataclass
class Stream:
    """``connections`` keep-alive connections sending ``request`` back to back, or, with ``rate``, paced so
    that together they send ``rate`` requests/s (open loop: each connection keeps its own schedule). A list of
    requests gives connection ``i`` the request ``i % len`` (say, one user per connection)."""

    name: str
    request: bytes | list[bytes]
    connections: int
    rate: float | None = None


@dataclass
class StreamResult:
    name: str
    connections: int
    requests: int  # completed inside the measured window
    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    statuses: dict[str, int]
    errors: int  # non-200 answers + connection failures inside the window
    connection_errors: int
    first_error: str | None = None


@dataclass
class PhaseResult:
    seconds: float
    warmup: float
    streams: dict[str, StreamResult]
    loader_cpu_s: float  # loader process CPU (user+system) during the measured window
    loader_cpu_pct: float  # of one core
    extra: dict[str, Any] = field(default_factory=dict)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an already sorted list; 0 when empty."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil
    return sorted_values[int(min(rank, len(sorted_values))) - 1]


# --- the asyncio client ----------------------------------------------------------------------------------
class _Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.connection_errors = 0
        self.first_error: str | None = None


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; (status, keep_alive)."""
    head = await reader.readuntil(b"\r\n\r\n")
    first_end = head.index(b"\r\n")
    status = int(head[9:12])
    length = -1
    chunked = False
    keep_alive = True
    for line in head[first_end + 2 : -4].split(b"\r\n"):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            keep_alive = False
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length > 0:
        await reader.readexactly(length)
    elif length < 0 and status not in (204, 304):
        await reader.read()  # no length: body runs until close
        keep_alive = False
    return status, keep_alive


async def _connection(
    request: bytes, start: float, end: float, stop: float, tally: _Tally, period: float = 0.0, offset: float = 0.0
) -> None:
    clock = time.perf_counter
    writer: asyncio.StreamWriter | None = None
    due = clock() + offset
    while clock() < stop:
        try:
            if period:
                await asyncio.sleep(max(0.0, due - clock()))
                due += period
                if clock() >= stop:
                    break
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, _PORT)
            sent = clock()
            writer.write(request)
            status, keep_alive = await _read_response(reader)
            done = clock()
            if start <= done <= end:
                tally.latencies.append(done - sent)
                tally.statuses[status] += 1
            if not keep_alive:
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            if start <= clock() <= end:
                tally.connection_errors += 1
                tally.first_error = tally.first_error or f"{type(exc).__name__}: {exc}"
            if writer is not None:
                writer.close()
                writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


_PORT = 0


async def _run_phase(streams: list[Stream], seconds: float, warmup: float) -> PhaseResult:
    now = time.perf_counter()
    start = now + warmup
    end = start + seconds
    tallies = {s.name: _Tally() for s in streams}
    cpu_marks: list[float] = []

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    async def mark_cpu() -> None:
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        cpu_marks.append(cpu())
        await asyncio.sleep(max(0.0, end - time.perf_counter()))
        cpu_marks.append(cpu())

    tasks = [asyncio.create_task(mark_cpu())]
    for s in streams:
        period = s.connections / s.rate if s.rate else 0.0
        tasks += [
            asyncio.create_task(
                _connection(
                    s.request if isinstance(s.request, bytes) else s.request[i % len(s.request)],
                    start,
                    end,
                    end,
                    tallies[s.name],
                    period,
                    period * i / s.connections,
                )
            )
            for i in range(s.connections)
        ]
    await asyncio.gather(*tasks)
    loader_cpu = cpu_marks[1] - cpu_marks[0]
    results = {}
    for s in streams:
        t = tallies[s.name]
        lat = sorted(t.latencies)
        bad = sum(n for code, n in t.statuses.items() if code != 200)
        results[s.name] = StreamResult(
            name=s.name,
            connections=s.connections,
            requests=len(lat),
            rps=len(lat) / seconds,
            p50_ms=percentile(lat, 50) * 1000,
            p99_ms=percentile(lat, 99) * 1000,
            mean_ms=(sum(lat) / len(lat) * 1000) if lat else 0.0,
            max_ms=(lat[-1] * 1000) if lat else 0.0,
            statuses={str(k): v for k, v in sorted(t.statuses.items())},
            errors=bad + t.connection_errors,
            connection_errors=t.connection_errors,
            first_error=t.first_error,
        )
    return PhaseResult(
        seconds=seconds,
        warmup=warmup,
        streams=results,
        loader_cpu_s=loader_cpu,
        loader_cpu_pct=100 * loader_cpu / seconds,
    )


def _child(conn: Any) -> None:
    """Loader process: run each phase it is sent, answer with its result, until it is sent None."""
    global _PORT
    try:
        import uvloop  # the cheaper event loop, when installed (uvicorn[standard] brings it)

        run = uvloop.run
    except ImportError:  # pragma: no cover
        run = asyncio.run
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C and stops us
    while True:
        job = conn.recv()
        if job is None:
            return
        port, streams, seconds, warmup = job
        _PORT = port
        try:
            conn.send(("ok", asdict(run(_run_phase(streams, seconds, warmup)))))
        except Exception as exc:  # report, do not die silently
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class LoadProcess:
    """A separate process running the asyncio client; ``run`` blocks for one phase."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe()
        self._proc = ctx.Process(target=_child, args=(child_conn,), name="cabinet-bench-loader", daemon=True)
        self._proc.start()
        self._budget = 60.0

    @property
    def pid(self) -> int:
        return self._proc.pid or 0

    def submit(self, port: int, streams: list[Stream], *, seconds: float, warmup: float) -> None:
        """Start one phase (returns at once; ``collect`` waits for its result)."""
        self._conn.send((port, streams, seconds, warmup))
        self._budget = warmup + seconds + 60

    def window_start(self, expected: float) -> float:
        """When the measured window begins (``time.perf_counter``): at ``expected``; waits for it."""
        time.sleep(max(0.0, expected - time.perf_counter()))
        return expected

    def collect(self) -> dict[str, Any]:
        if not self._conn.poll(self._budget):
            raise RuntimeError("load generator did not answer in time")
        kind, payload = self._conn.recv()
        if kind != "ok":
            raise RuntimeError(f"load generator failed: {payload}")
        return payload  # type: ignore[no-any-return]

    def close(self) -> None:
        try:
            self._conn.send(None)
        except OSError:
            pass
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)

    def __enter__(self) -> LoadProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


# --- wrk, the C load generator -----------------------------------------------------------------------------
def wrk_binary() -> str | None:
    """wrk (Debian: apt-get install wrk), when installed."""
    return shutil.which("wrk")


def _lua_string(data: bytes) -> str:
    """``data`` as a Lua string literal (decimal escapes: a long bracket would turn CR LF into LF)."""
    safe = set(range(0x20, 0x7F)) - {ord('"'), ord("\\")}
    return '"' + "".join(chr(b) if b in safe else f"\\{b:03d}" for b in data) + '"'


def _wrk_seconds(text: str) -> float:
    """A wrk duration (``812.34us``, ``3.21ms``, ``1.02s``, ``1.50m``) in seconds."""
    units = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    for unit in ("us", "ms", "s", "m", "h"):
        if text.endswith(unit) and text[: -len(unit)].replace(".", "", 1).isdigit():
            return float(text[: -len(unit)]) * units[unit]
    raise ValueError(f"not a wrk duration: {text!r}")


class WrkLoad:
    """The load of one ``Stream`` per phase made by wrk (C, epoll, one thread) instead of the asyncio client:
    on a machine whose cores the server, nginx and PostgreSQL already fill, the load generator's own CPU per
    request is taken from the server; wrk's is about half of the asyncio client's (``loader`` CPU in the
    reports). Same ``submit``/``collect`` as ``LoadProcess``. A list of requests is sent in turn (wrk gives its
    script no connection number): with as many requests as connections, the requests in flight are nearly
    always all different ones (say, one user each). The warm-up is a separate wrk run of whole seconds just
    before the measured one (wrk counts whole runs); closed-loop only (no ``rate``)."""

    def __init__(self, binary: str, *, prefix: list[str] | None = None) -> None:
        self.binary = binary
        self.prefix = prefix or []  # e.g. ["taskset", "-c", "0"]: pin wrk to a core
        self.dir = Path(tempfile.mkdtemp(prefix="cabinet-bench-wrk-"))
        self._job: threading.Thread | None = None
        self._measuring = threading.Event()  # set when the measured run has started
        self._result: dict[str, Any] | None = None
        self._error: BaseException | None = None

    def submit(self, port: int, streams: list[Stream], *, seconds: float, warmup: float) -> None:
        if len(streams) != 1 or streams[0].rate is not None:
            raise ValueError("WrkLoad runs one closed-loop stream per phase")
        if seconds != int(seconds) or warmup != int(warmup):
            raise ValueError("wrk runs whole seconds: give whole --seconds and --warmup")
        stream = streams[0]
        requests = [stream.request] if isinstance(stream.request, bytes) else stream.request
        script = self.dir / "phase.lua"
        script.write_text(
            "local requests = {" + ", ".join(_lua_string(r) for r in requests) + "}\n"
            "local n = 0\n"
            "request = function()\n  n = n % #requests + 1\n  return requests[n]\nend\n"
        )
        self._result = self._error = None
        self._measuring.clear()

        def run() -> None:
            try:
                if warmup:
                    self._wrk(port, stream.connections, int(warmup), script)
                self._result = self._measured(port, stream, int(seconds), warmup, script)
            except BaseException as exc:  # reported by collect
                self._error = exc
                self._measuring.set()

        self._job = threading.Thread(target=run, name="wrk-phase", daemon=True)
        self._job.start()

    def window_start(self, expected: float) -> float:
        """When the measured run began (``time.perf_counter``): wrk's warm-up run ends a little after
        ``expected`` (process start-up); waits for it."""
        if not self._measuring.wait(max(5.0, expected - time.perf_counter() + 5.0)):
            raise RuntimeError("wrk's measured run did not start")
        return time.perf_counter()

    def _wrk(
        self, port: int, connections: int, seconds: int, script: Path, started: threading.Event | None = None
    ) -> tuple[str, float]:
        """One wrk run; (its output, its CPU seconds)."""
        command = [
            *self.prefix,
            self.binary,
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "--latency",
        ]
        command += ["-s", str(script), f"http://{HOST}:{port}/"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if started is not None:
            started.set()
        assert process.stdout is not None
        output = process.stdout.read().decode(errors="replace")
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise RuntimeError(f"wrk failed ({process.returncode}): {output.strip()[-500:]}")
        return output, usage.ru_utime + usage.ru_stime

    def _measured(self, port: int, stream: Stream, seconds: int, warmup: float, script: Path) -> dict[str, Any]:
        output, cpu = self._wrk(port, stream.connections, seconds, script, self._measuring)
        done = re.search(r"(\d+) requests in ([\d.]+\w+),", output)
        latency = re.search(r"Latency[ \t]+(\S+)[ \t]+\S+[ \t]+(\S+)", output)
        p50 = re.search(r"^[ \t]+50%[ \t]+(\S+)", output, re.MULTILINE)  # not "90.50%" of the stats lines
        p99 = re.search(r"^[ \t]+99%[ \t]+(\S+)", output, re.MULTILINE)
        if not (done and latency and p50 and p99):
            raise RuntimeError(f"wrk's output was not understood: {output.strip()[-500:]}")
        try:
            requests, elapsed = int(done.group(1)), _wrk_seconds(done.group(2))
            mean, longest = _wrk_seconds(latency.group(1)), _wrk_seconds(latency.group(2))
            median, p99_s = _wrk_seconds(p50.group(1)), _wrk_seconds(p99.group(1))
        except ValueError as exc:
            raise RuntimeError(f"wrk's output was not understood ({exc}): {output.strip()[-800:]}") from exc
        non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
        bad = int(non_2xx.group(1)) if non_2xx else 0
        connection_errors = sum(int(x) for x in socket_errors.groups()) if socket_errors else 0
        statuses = {"2xx/3xx": requests - bad, **({"other": bad} if bad else {})}
        result = StreamResult(
            name=stream.name,
            connections=stream.connections,
            requests=requests,
            rps=requests / elapsed if elapsed else 0.0,
            p50_ms=median * 1000,
            p99_ms=p99_s * 1000,
            mean_ms=mean * 1000,
            max_ms=longest * 1000,
            statuses=statuses,
            errors=bad + connection_errors,
            connection_errors=connection_errors,
            first_error=(socket_errors.group(0) if connection_errors and socket_errors else None),
        )
        phase = PhaseResult(
            seconds=seconds,
            warmup=warmup,
            streams={stream.name: result},
            loader_cpu_s=cpu,
            loader_cpu_pct=100 * cpu / seconds,
            extra={"loader": "wrk"},
        )
        return asdict(phase)

    def collect(self) -> dict[str, Any]:
        assert self._job is not None, "submit a phase first"
        self._job.join()
        if self._error is not None:
            raise RuntimeError(f"load generator failed: {self._error}") from self._error
        assert self._result is not None
        return self._result

    def close(self) -> None:
        if self._job is not None:
            self._job.join(120)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> WrkLoad:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


# --- the server under test -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def process_cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """User+system CPU of a process (all its threads) from /proc, plus with ``reaped_children`` that of its
    children that have exited (e.g. PostgreSQL backends of closed connections); 0 where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped_children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine from /proc/stat; (0, 0) where it is missing."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return total - idle, total


class Server:
    """The real cabinet server (``cabinet serve``, 1 worker) on a fresh embedded-profile data directory."""

    def __init__(
        self, *, log_level: str = "WARNING", env: dict[str, str] | None = None, prefix: list[str] | None = None
    ) -> None:
        """``env``: more CABINET_ settings (say, PostgreSQL and Redis URLs); ``prefix``: the serve command's
        (say, ``taskset -c 1`` to pin the server to a core)."""
        self.data_dir = Path(tempfile.mkdtemp(prefix="cabinet-bench-"))
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.log_path = self.data_dir / "server.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CABINET_")}
        self.env.update(CABINET_DATA_DIR=str(self.data_dir), CABINET_LOG_LEVEL=log_level, **(env or {}))
        self.prefix = prefix or []
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [str(CABINET), *args], env=self.env, cwd=self.data_dir, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"cabinet {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout.strip()

    def start(self, *, timeout: float = 60) -> None:
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [*self.prefix, str(CABINET), "serve", "--host", HOST, "--port", str(self.port), "--workers", "1"],
            env=self.env,
            cwd=self.data_dir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer /health within {timeout:.0f} s:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else 0

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)

    def post_json(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def get_json(self, path: str, headers: dict[str, str] | None = None) -> Any:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log is not None:
            self._log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "python": sys.version.split()[0],
        "loadavg_before": list(os.getloadavg()),
    }


# --- the machine's own parallelism -------------------------------------------------------------------------
def _spin(seconds: float, conn: Any) -> None:
    """Pure interpreter work (dicts, strings, JSON: what a request's own CPU is made of) for ``seconds`` from
    the parent's go (every process imported and ready, so they overlap); sends back how many rounds it did."""
    conn.send("ready")
    conn.recv()
    rounds = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for i in range(100):
            json.loads(json.dumps({"id": i, "name": f"user-{i}", "tags": [str(i), hex(i)], "ok": i % 2 == 0}))
        rounds += 1
    conn.send(rounds)


def _spin_together(processes: int, seconds: float) -> float:
    ctx = multiprocessing.get_context("spawn")
    pipes = [ctx.Pipe() for _ in range(processes)]
    procs = [ctx.Process(target=_spin, args=(seconds, child), daemon=True) for _, child in pipes]
    for proc in procs:
        proc.start()
    try:
        for parent, _ in pipes:
            parent.recv()
        for parent, _ in pipes:
            parent.send("go")
        return sum(parent.recv() for parent, _ in pipes) / seconds
    finally:
        for proc in procs:
            proc.join(10)


def cpu_scaling(seconds: float = 2.0, repeats: int = 2) -> dict[int, float]:
    """Rounds per second that one busy Python process does alone and two do together on this machine, now
    (medians of ``repeats`` alternations after a warm-up). One vs two tells what a second core really adds here:
    a VM's cores may share a physical one, a busy host slows them, a lone core may run faster."""
    _spin_together(1, 0.5)  # warm-up: a core fresh out of idle is not at speed yet
    runs: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(repeats):
        for processes in (1, 2):
            runs[processes].append(_spin_together(processes, seconds))
    return {n: statistics.median(values) for n, values in runs.items()}


# --- run plumbing shared by the scripts ---------------------------------------------------------------
def source_revision() -> dict[str, Any]:
    """The commit measured, and whether src/ had uncommitted changes (figures move with the code)."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    return {"commit": git("rev-parse", "--short", "HEAD"), "src_dirty": bool(git("status", "--porcelain", "src"))}


def wait_for_quiet(max_wait: float, *, threshold_cores: float = 0.2) -> float:
    """Wait (up to ``max_wait`` s) for other jobs to leave the machine nearly idle; the busy cores last seen.

    Called between phases, when neither the server nor the loader is working, so whatever is busy is foreign.
    """
    deadline = time.monotonic() + max_wait
    cores = os.cpu_count() or 1
    while True:
        busy0, total0 = machine_cpu_ticks()
        time.sleep(0.5)
        busy1, total1 = machine_cpu_ticks()
        busy = (busy1 - busy0) / (total1 - total0) * cores if total1 > total0 else 0.0
        if busy <= threshold_cores or time.monotonic() >= deadline:
            return busy
        time.sleep(0.5)


RESULTS_DIR = Path(__file__).resolve().parent / "results"


def save_report(name: str, started: datetime, report: dict[str, Any]) -> Path:
    """``bench/results/<name>-<timestamp>.json``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def run_script(main: Callable[[], int]) -> NoReturn:
    """Exit with ``main()``'s status; 130 on ^C; 2 when the run itself failed (the stack is already stopped)."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        print(f"benchmark failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(2)
