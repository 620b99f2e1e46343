"""Each structured log record leaves whole, so processes sharing a pipe (uvicorn's workers share their parent's
stderr) never join or split records: two JSON records were once found on one line in CI."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import threading

import structlog

from cabinet.core.logging import LineWriter

WRITERS = 4  # processes, each with two threads
RECORDS = 200
SIZES = (200, 9000)  # a short record, and one over both PIPE_BUF and the text stream's 8 KiB buffer


def _write(fd: int, n: int) -> None:
    stream = os.fdopen(fd, "w", buffering=1)  # line-buffered text, as a non-interactive sys.stderr
    log = structlog.wrap_logger(  # its own wrapper: not the level filter an app configured in this process
        LineWriter(stream),
        processors=[structlog.processors.JSONRenderer()],
        wrapper_class=structlog.BoundLogger,
        cache_logger_on_first_use=False,
    )

    def records(thread: int) -> None:
        for i in range(RECORDS):
            log.info("event", writer=n, thread=thread, i=i, padding="x" * SIZES[i % 2])

    threads = [threading.Thread(target=records, args=(t,)) for t in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stream.flush()


def test_records_of_processes_sharing_a_pipe_stay_whole_lines() -> None:
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, 1031, 1 << 14)  # F_SETPIPE_SZ: a small pipe, often full: long writes go out in pieces
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: os.read(read_end, 1 << 16), b"")))
    reader.start()
    fork = multiprocessing.get_context("fork")
    writers = [fork.Process(target=_write, args=(write_end, n)) for n in range(WRITERS)]
    try:
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(60)
    finally:
        os.close(write_end)
        reader.join(120)  # a loaded machine: the reader must see every byte before the end closes
        os.close(read_end)
    assert all(writer.exitcode == 0 for writer in writers)

    records = [json.loads(line) for line in b"".join(chunks).decode().splitlines()]  # joined or split: not JSON
    assert sorted((r["writer"], r["thread"], r["i"]) for r in records) == [
        (n, t, i) for n in range(WRITERS) for t in range(2) for i in range(RECORDS)
    ]
