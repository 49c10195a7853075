"""How quick the sandbox feels: start to ready, the page's state, a slash command, a scheduled-jobs click.

Starts `app.py` with no Slack credentials (the sandbox, with its app as web + worker processes) in
a scratch directory, then measures over HTTP what the page does:

- start to "sandbox ready" on a first start (migrations and the seed through the app included),
  and on a restart;
- GET /sandbox/state for a channel holding 200 messages (what every page refresh fetches);
- POST /sandbox/send of `/tip search …`: the page -> the sandbox -> a signed request -> the app's ack
  (the answer itself comes later, from the job worker, by response_url);
- the time until that answer shows on the page;
- POST /sandbox/jobs ("Run scheduled jobs now").

    .venv/bin/python bench/sandbox.py [--rounds 100]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import benchlib

ROOT = Path(__file__).resolve().parent.parent


class RunningSandbox:
    def __init__(self, directory: Path) -> None:
        self.port = benchlib.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {"PATH": os.environ["PATH"], "PORT": str(self.port), "PEERLEARN_SANDBOX_DIR": str(directory),
               "LOG_LEVEL": "WARNING"}  # fmt: skip
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py")], env=env, cwd=directory, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if "sandbox ready" in line:
                break
        else:
            raise SystemExit("the sandbox exited before it was ready")
        self.ready_after = time.perf_counter() - started

    def act(self, action: str, **args: Any) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}/sandbox/{action}", data=json.dumps(args).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def state(self, user: str, channel: str) -> tuple[dict[str, Any], int]:
        with urllib.request.urlopen(f"{self.url}/sandbox/state?user={user}&channel={channel}", timeout=60) as response:
            body = response.read()
        return json.loads(body), len(body)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=100, help="samples per measure (default 100)")
    args = parser.parse_args()
    benchlib.print_header("bench/sandbox.py: the sandbox as the page uses it")
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        sandbox = RunningSandbox(directory)
        print(f"first start to ready (migrations, seed through the app): {sandbox.ready_after:.2f} s")
        for index in range(200):
            sandbox.act("send", user="U0ELI", channel="C0GENERAL", text=f"message {index} with *bold* and `code`")
        state_times, size = [], 0
        for _ in range(args.rounds):
            state_times.append(timed(lambda: sandbox.state("U0ANA", "C0GENERAL")))
        size = sandbox.state("U0ANA", "C0GENERAL")[1]
        print(
            f"GET /sandbox/state, channel of 200+ messages ({size / 1024:.0f} KiB): {benchlib.summary_ms(state_times)}"
        )

        acks, answers = [], []
        for _ in range(args.rounds // 2):
            before = len(sandbox.state("U0CHEN", "C0ENG")[0]["messages"])
            started = time.perf_counter()
            sandbox.act("send", user="U0CHEN", channel="C0ENG", text="/tip search index")
            acks.append(time.perf_counter() - started)
            while len(sandbox.state("U0CHEN", "C0ENG")[0]["messages"]) <= before:
                time.sleep(0.002)
            answers.append(time.perf_counter() - started)
        print(f"/tip search, page -> signed request -> app ack: {benchlib.summary_ms(acks)}")
        print(f"/tip search, until the answer is on the page:   {benchlib.summary_ms(answers)}")

        jobs = [timed(lambda: sandbox.act("jobs")) for _ in range(10)]
        print(f"Run scheduled jobs now (10 clicks: prompts, digests, circle rounds): {benchlib.summary_ms(jobs)}")
        print(f"stopped with SIGTERM: exit code {sandbox.stop()}")

        again = RunningSandbox(directory)
        print(f"restart to ready (no seed): {again.ready_after:.2f} s")
        print(f"stopped with SIGTERM: exit code {again.stop()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
