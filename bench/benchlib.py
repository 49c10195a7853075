"""What every benchmark shares: the repo on sys.path, the machine header, percentiles, RSS, databases.

Importing this module puts the repository root on `sys.path`, so a bench run as a file
(`.venv/bin/python bench/search.py`) can import `bot`, `storage` and `tests`. Bench scripts import it
before any project module.
"""

from __future__ import annotations

import math
import os
import platform
import socket
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def print_header(title: str) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"=== {title}")
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"date {now} | cpus {os.cpu_count()} | python {platform.python_version()}"
        f" ({platform.python_implementation()}) | {platform.platform(terse=True)} | load average {load}"
    )


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used since boot (/proc/stat: not idle, not iowait)."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int | str) -> float:
    """utime + stime of one process, in seconds (0 when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (the value at or above that fraction)."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> str:
    """`n=…  p50 … p95 … p99 … max …` in milliseconds."""
    ordered = sorted(seconds)
    if not ordered:
        return "n=0"
    parts = [f"n={len(ordered):<6d}"]
    for label, fraction in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        parts.append(f"{label} {percentile(ordered, fraction) * 1000:8.2f}")
    parts.append(f"max {ordered[-1] * 1000:8.2f} ms")
    return "  ".join(parts)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def proc_status_mb(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a process, in MB (Linux /proc)."""
    values: dict[str, float] = {}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return values
    for line in lines:
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024  # kB
    return values


def children_of(pid: int) -> list[int]:
    """Direct child processes of `pid` (scans /proc, so it needs no kernel option)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid …": comm may hold spaces, so split after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def postgres_server_url() -> str | None:
    """The PostgreSQL server to bench against, when one answers: $BENCH_DATABASE_URL or the local one."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES_URL
    parts = urlsplit(url)
    if not url.startswith("postgresql"):
        return None
    return url if port_answers(parts.hostname or "127.0.0.1", parts.port or 5432) else None


def describe_url(url: str) -> str:
    """The URL without a password, fit for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@contextmanager
def scratch_database(server_url: str | None, directory: Path) -> Iterator[str]:
    """A fresh, empty database for one run, removed after it.

    None: a SQLite file in `directory`. A PostgreSQL URL: a new database on that server (the URL's
    own database is only used to CREATE and DROP it), as tests/conftest.py does.
    """
    if not server_url:
        yield f"sqlite:///{directory / 'bench.db'}"
        return
    from sqlalchemy import create_engine, text

    name = f"peerlearn_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def niceness(pid: int) -> int:
    """A process's nice value (Linux /proc; 0 when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat[stat.rfind(")") + 2 :].split()[16])
