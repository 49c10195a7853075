"""The job worker as deployed: forked beside the server under --role all, or alone with --role worker."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import select

from storage.db import Database
from storage.models import Job
from tests.process.test_app_process import free_port, run_app, signed_post
from tests.slack_double import BOT_TOKEN, SlackDouble
from tests.slack_sender import SIGNING_SECRET


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_healthy(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            assert process.poll() is None, process.communicate()[1]
            time.sleep(0.1)
    raise AssertionError("the app never became healthy")


def share(port: int, double: SlackDouble, text: str) -> None:
    form = {
        "team_id": "T0TEST", "user_id": "U1", "channel_id": "C1", "command": "/tip", "text": text,
        "response_url": double.response_url(), "trigger_id": double.trigger_id(),
    }  # fmt: skip
    body = urlencode(form)
    assert signed_post(f"http://127.0.0.1:{port}/slack/events", body, "application/x-www-form-urlencoded") == 200


def app_env(double: SlackDouble, database_url: str, port: int) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": double.api_url,
        "DATABASE_URL": database_url,
        "PORT": str(port),
    }


def test_role_all_forks_a_low_priority_job_worker_and_sigterm_stops_it_too(tmp_path: Path) -> None:
    double = SlackDouble().start()
    double.add_user("U1", "alice")
    double.add_channel("C1", "general", members=("U1",))
    port = free_port()
    process = run_app(app_env(double, f"sqlite:///{tmp_path / 'app.db'}", port), tmp_path)
    try:
        wait_healthy(port, process)
        workers = [pid for pid in children(process.pid) if niceness(pid) == 10]
        assert len(workers) == 1 and len(children(process.pid)) == 2  # gunicorn's worker and the job worker
        share(port, double, "Small commits are easy to review")
        double.wait_for(lambda: double.posts("C1"), timeout=10, message="the tip posted by the job worker")

        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=40)
    finally:
        if process.poll() is None:
            process.kill()
        double.stop()

    assert process.returncode == 0 and "Traceback" not in stderr
    assert not alive(workers[0])
    assert "signal 15: stopping after the jobs in hand" in stderr and "job worker stopped" in stderr


def test_acked_work_survives_a_restart_and_a_worker_alone_runs_it(
    tmp_path: Path, database_url: str, db: Database
) -> None:
    double = SlackDouble().start()
    double.add_user("U1", "alice")
    double.add_channel("C1", "general", members=("U1",))
    port = free_port()
    env = app_env(double, database_url, port)
    started: list[subprocess.Popen[str]] = []
    try:
        web = run_app(env, tmp_path, "--role", "web")
        started.append(web)
        wait_healthy(port, web)
        assert children(web.pid) and all(niceness(pid) == 0 for pid in children(web.pid))  # no job worker
        share(port, double, "Write the rollback plan before the deploy")
        web.send_signal(signal.SIGTERM)
        web.communicate(timeout=30)
        assert web.returncode == 0
        with db.queue.snapshot() as session:
            assert [job.state for job in session.scalars(select(Job))] == ["queued"]
        assert double.posts("C1") == []

        worker = run_app(env, tmp_path, "--role", "worker")
        started.append(worker)
        double.wait_for(lambda: double.posts("C1"), timeout=15, message="the tip posted after the restart")
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=30)
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
        double.stop()

    assert worker.returncode == 0 and "Traceback" not in stderr
    assert "Write the rollback plan before the deploy" in str(double.posts("C1"))
    with db.queue.snapshot() as session:
        assert list(session.scalars(select(Job))) == []
