"""The web worker's database pool: one kept connection for each request thread, none opened per request.

Acks read the database for question-like messages and thread replies (bench/worker.py's chatter:
1,000 messages a second that matter to nobody). A pool smaller than the request threads made them
queue for a connection and open a new SQLite connection (and close it) for most reads.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import event, text

from app import web_database
from runtime.serving import HTTP_THREADS


def test_every_request_thread_reads_on_a_kept_connection(tmp_path: Path) -> None:
    db = web_database(f"sqlite:///{tmp_path / 'peerlearn.db'}")
    opened: list[object] = []
    event.listen(db.engine, "connect", lambda connection, record: opened.append(connection))
    all_in = threading.Barrier(HTTP_THREADS)

    def request() -> None:
        with db.reading() as connection:  # as an ack's read does
            connection.execute(text("SELECT 1"))
            all_in.wait(timeout=10)  # every thread holds a connection at once, as under a burst

    try:
        for burst in range(3):
            threads = [threading.Thread(target=request) for _ in range(HTTP_THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert not all_in.broken, f"burst {burst}: a thread waited for a connection"
            all_in.reset()
        assert len(opened) == HTTP_THREADS, "connections were opened again after the first burst"
    finally:
        db.dispose()
