"""kill -9 in the middle of work, then restart: every acknowledged effect exists exactly once.

Real processes (`app.py --role web|worker`) against the Slack double over HTTP, on the suite's
database (SQLite, or PostgreSQL under `make test-postgres`). Counted in the database and in the
double: each acknowledged `/tip` share is one tip and one channel post linked to it; each 💡 is one
captured tip, one vote and one note to the person who reacted. Nothing else appears.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import Job, TipVote
from tests.process.test_app_process import free_port
from tests.reliability import processes
from tests.reliability.figures import effects, tried
from tests.reliability.processes import Running, post, reaction_event, share_form
from tests.scenario.helpers import all_tips
from tests.slack_double import SlackDouble

pytestmark = pytest.mark.slow

SHARES = 12
CAPTURES = 6
FORM = "application/x-www-form-urlencoded"


def queue_empty(db: Database) -> bool:
    with db.queue.snapshot() as session:
        return not list(session.scalars(select(Job.id).where(Job.state != "failed")))


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(0.2)


def capture_event(ts: str) -> str:
    """U3's 💡 on a message; the same event id on every delivery of it (Slack's retries)."""
    return reaction_event(f"Ev{ts.replace('.', '')}", "U3", "C1", ts)


def messages_to_capture(slack: SlackDouble) -> list[str]:
    return [slack.add_message("C1", "U2", f"Lesson {n}: read the logs before the code") for n in range(CAPTURES)]


def check_effects(
    db: Database, slack: SlackDouble, acked_shares: set[str], unacked_shares: set[str], captured_ts: set[str]
) -> None:
    tips = all_tips(db)
    shared = [t for t in tips if t.source == "command"]
    captured = [t for t in tips if t.source == "reaction"]
    # A share Slack never saw acknowledged may have been stored before the crash: at most once, then.
    maybe = [t.text for t in shared if t.text in unacked_shares]
    effects("shares not acknowledged", set(maybe), maybe)
    effects("tips shared", acked_shares, [t.text for t in shared if t.text not in unacked_shares])
    posts = [m for m in slack.channels["C1"].messages if (m.get("metadata") or {}).get("event_type") == "peerlearn_tip"]
    effects("tip posts", {t.id for t in shared}, [m["metadata"]["event_payload"]["tip_id"] for m in posts])
    effects("tips linked to their post", {(t.id, t.message_ts) for t in shared}, [
        (m["metadata"]["event_payload"]["tip_id"], m["ts"]) for m in posts
    ])  # fmt: skip
    effects("captured tips", captured_ts, [t.message_ts for t in captured])
    with db.snapshot() as session:
        votes = [(v.tip_id, v.user_id) for v in session.scalars(select(TipVote))]
    effects("capture votes", {(t.id, "U3") for t in captured}, votes)
    notes = [c["text"] for c in slack.calls_to("chat.postEphemeral") if c.get("user") == "U3"]
    told = [int(m) for n in notes for m in re.findall(r"tip #(\d+)", n)]
    effects("capture notes", {t.number for t in captured}, told)


def test_web_process_killed_mid_stream(tmp_path: Path, database_url: str, db: Database, slack: SlackDouble) -> None:
    """kill -9 of the web process (gunicorn and its worker) while requests arrive; restart it. Slack
    delivers the events it saw fail again (same event id); commands that got no answer are not redone."""
    port = free_port()
    env = processes.environment(slack, database_url, port)
    ts_list = messages_to_capture(slack)
    requests = [("share", f"Web crash lesson {n}: small steps") for n in range(SHARES)]
    requests += [("capture", ts) for ts in ts_list]
    requests = [requests[i] for i in sorted(range(len(requests)), key=lambda i: (i % 3, i))]  # interleaved
    acked: dict[str, bool] = {}
    started: list[Running] = []
    try:
        started.append(processes.worker(env, tmp_path))
        server = processes.web(env, tmp_path)
        started.append(server)

        def send(item: tuple[str, str]) -> None:
            kind, value = item
            if kind == "share":
                status = post(port, share_form(slack, value), FORM)
            else:
                status = post(port, capture_event(value), "application/json")
            acked[value] = status == 200
            tried()

        killed = threading.Event()

        def kill_halfway() -> None:
            wait_until(lambda: sum(acked.values()) >= len(requests) // 2, 30, "half the requests acknowledged")
            server.kill9()
            killed.set()

        killer = threading.Thread(target=kill_halfway)
        killer.start()
        with ThreadPoolExecutor(3) as pool:
            for item in requests:
                pool.submit(send, item)
                time.sleep(0.05)
        killer.join()
        assert killed.is_set() and not all(acked.values()), "the kill came too late to interrupt anything"

        started.append(processes.web(env, tmp_path))  # the restart
        for kind, value in requests:
            if kind == "capture" and not acked[value]:  # Slack's retry of an event it saw fail
                status = post(port, capture_event(value), "application/json")
                acked[value] = status == 200
                tried()
        wait_until(lambda: queue_empty(db), 60, "the queued work to be done")
    finally:
        logs = [running.stop() for running in started]

    shares = {value for kind, value in requests if kind == "share"}
    check_effects(db, slack, {s for s in shares if acked[s]}, {s for s in shares if not acked[s]}, set(ts_list))
    assert not any("Traceback" in log for log in logs[:1]), logs[0][-3000:]  # the worker lived through it


def test_job_worker_killed_holding_jobs(tmp_path: Path, database_url: str, db: Database, slack: SlackDouble) -> None:
    """kill -9 of the job worker while Slack is slow (posts made but not yet answered, messages being
    read); a new worker takes the jobs over when their lease runs out and finishes them once."""
    port = free_port()
    env = processes.environment(slack, database_url, port)
    ts_list = messages_to_capture(slack)
    # Posts reach Slack at once and are answered late (the worker dies waiting); reads are slow. (A
    # call Slack carries out only after the next worker's look would be posted twice: that takes a
    # job lease shorter than Slack's answer, which the 30 s default is not. See the README.)
    for _ in range(SHARES):
        slack.answer_late_next("chat.postMessage", 4.0)
    for _ in range(CAPTURES):
        slack.slow_next("conversations.history", 4.0)
    started: list[Running] = []
    try:
        started.append(processes.web(env, tmp_path))
        victim = processes.worker(env, tmp_path)
        started.append(victim)
        shares = [f"Worker crash lesson {n}: test the rollback" for n in range(SHARES)]
        for text in shares:
            assert post(port, share_form(slack, text), FORM) == 200
        for ts in ts_list:
            assert post(port, capture_event(ts), "application/json") == 200
        tried(SHARES + CAPTURES)
        wait_until(lambda: len(slack.posts("C1")) >= SHARES // 2, 30, "posts under way")
        wait_until(lambda: len(slack.calls_to("conversations.history")) >= CAPTURES // 2, 30, "captures under way")
        victim.kill9()
        assert not queue_empty(db), "the worker finished everything before the kill"

        started.append(processes.worker(env, tmp_path))  # the restart
        wait_until(lambda: queue_empty(db), 60, "the dead worker's jobs to be finished")
    finally:
        logs = [running.stop() for running in started]

    check_effects(db, slack, set(shares), set(), set(ts_list))
    assert "Traceback" not in logs[-1], logs[-1][-3000:]
