"""What a refused request costs the web process: app.py in HTTP mode (as deployed), sent an unsigned
50 MB body (with Content-Length, then chunked) and a few malformed small ones.

Prints, for each: the status answered, the web worker's RSS (and peak) before and after, and how much
the log grew. Targets: 413 for the big bodies, 4xx (never 5xx) for the rest; the worker's peak RSS
grows by less than 5 MB; the log by less than 2 KB per refused request.
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import benchlib

from tests.slack_double import BOT_TOKEN, SlackDouble
from tests.slack_sender import SIGNING_SECRET

TARGET_RSS_GROWTH_MB = 5.0
TARGET_LOG_BYTES_PER_REQUEST = 2048


def chunks(total: int, size: int = 1 << 20, start: bytes = b"text=") -> Iterator[bytes]:
    """A form body of `total` bytes: "text=xxxx…", sent a megabyte at a time."""
    yield start
    block = b"x" * size
    sent = len(start)
    while sent < total:
        yield block[: min(size, total - sent)]
        sent += size


def send(port: int, body: bytes | Iterator[bytes], headers: dict[str, str], length: int | None) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.putrequest("POST", "/slack/events")
        for name, value in headers.items():
            connection.putheader(name, value)
        if length is None:
            connection.putheader("Transfer-Encoding", "chunked")
        else:
            connection.putheader("Content-Length", str(length))
        connection.endheaders()
        try:
            if isinstance(body, bytes):
                connection.send(body)
            else:
                for piece in body:
                    connection.send(piece if length is not None else b"%x\r\n%s\r\n" % (len(piece), piece))
                if length is None:
                    connection.send(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed before reading it all: what we want
        response = connection.getresponse()
        response.read()
        return str(response.status)
    except (OSError, http.client.HTTPException) as error:
        return f"connection closed ({error.__class__.__name__})"
    finally:
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=int, default=50, help="size of the big bodies (default 50)")
    args = parser.parse_args()
    benchlib.print_header("bench/refused_requests.py")
    big = args.megabytes << 20
    double = SlackDouble().start()
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "app.log"
        port = benchlib.free_port()
        env = {
            "PATH": os.environ["PATH"],
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": double.api_url,
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'app.db'}",
            "PORT": str(port),
            "LOG_LEVEL": "INFO",
            "PEERLEARN_ROLE": "web",
        }
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, str(benchlib.ROOT / "app.py")], cwd=tmp, env=env, stdout=log_file, stderr=log_file
            )
            try:
                worker = wait_healthy(process, port)
                timestamp = str(int(time.time()))
                unsigned = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": timestamp}
                form = {**unsigned, "Content-Type": "application/x-www-form-urlencoded"}
                cases: list[tuple[str, bytes | Iterator[bytes], dict[str, str], int | None]] = [
                    (f"unsigned {args.megabytes} MB form, Content-Length", chunks(big), form, big),
                    (f"unsigned {args.megabytes} MB form, chunked", chunks(big), form, None),
                    (f"unsigned {args.megabytes} MB JSON, Content-Length", chunks(big, start=b'{"a":"'), unsigned, big),
                    ("unsigned invalid JSON", b"{not json", unsigned, 9),
                    ("unsigned JSON array", b"[1,2,3]", unsigned, 7),
                    ("invalid UTF-8", b"\xff\xfe{}", unsigned, 4),
                    ("no timestamp", b"{}", {"Content-Type": "application/json"}, 2),
                    ("non-numeric timestamp", b"{}", {**unsigned, "X-Slack-Request-Timestamp": "soon"}, 2),
                    ("text/plain body", b"hello", {**unsigned, "Content-Type": "text/plain"}, 5),
                ]
                failures = 0
                for label, body, headers, length in cases:
                    before, log_before = benchlib.proc_status_mb(worker), log_path.stat().st_size
                    status = send(port, body, headers, length)
                    time.sleep(0.3)  # let the log lines land
                    after, log_after = benchlib.proc_status_mb(worker), log_path.stat().st_size
                    rss_growth = after.get("VmHWM", 0) - before.get("VmHWM", 0)
                    log_growth = log_after - log_before
                    ok = (
                        not status.startswith("5")
                        and rss_growth < TARGET_RSS_GROWTH_MB
                        and log_growth < TARGET_LOG_BYTES_PER_REQUEST
                    )
                    failures += not ok
                    print(
                        f"  {label:<34} → {status:<28} worker RSS {before.get('VmRSS', 0):6.1f} → "
                        f"{after.get('VmRSS', 0):6.1f} MB (peak +{rss_growth:6.1f} MB), log +{log_growth:>10,d} bytes"
                        f"  {benchlib.verdict(ok)}"
                    )
                assert process.poll() is None, "the app died"
            finally:
                process.terminate()
                process.wait(timeout=30)
    double.stop()
    return 0 if failures == 0 else 1


def wait_healthy(process: subprocess.Popen[bytes], port: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return benchlib.children_of(process.pid)[0]
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("app.py not healthy after 60 s")


if __name__ == "__main__":
    sys.exit(main())
