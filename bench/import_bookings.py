"""Import speed: the largest real roster file into PostgreSQL, against a bare csv.reader pass over it.

Creates a fresh database `custodian_bench_import_<pid>` on the server of DATABASE_URL when that is PostgreSQL,
else on postgres://postgres@127.0.0.1:5432/ (trust auth; or --server), migrates it, then per round: empties the records tables, times a bare
`csv.reader` pass over the file (the floor: reading without understanding), and times
`bookings_import` (parse, repair, validate, hash, upsert) into the empty tables. A last round re-imports into
the filled tables (every row unchanged), the cost of a daily re-run. The database is dropped at the end.

The file defaults to the largest single real roster, ga-aclu-bail/min_booking_database.csv (8,494 rows), read
from ../shared/data/bookings at run time and never copied. Prints one JSON line last: rows, rows_per_s (median
of the rounds), csv_reader_rows_per_s, ratio (rows_per_s / csv_reader_rows_per_s), reimport_rows_per_s,
python_cpu_us_per_row and postgres_cpu_us_per_row (medians; the server's only when it runs on this machine),
target_rows_per_s and meets_target. Target: 20,000 rows/s or more.
Usage (from the repository root): ``.venv/bin/python bench/import_bookings.py [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "bookings"
DEFAULT_FILE = DATA / "ga-aclu-bail" / "min_booking_database.csv"
TARGET = 20_000
TABLES = "gateway_importrejection, gateway_importrun, gateway_charge, gateway_mugshot, gateway_booking, gateway_person"


def _psql(server: str, sql: str) -> None:
    subprocess.run(["psql", f"{server}/postgres", "-q", "-c", sql], check=True, capture_output=True)


def _server_default() -> str:
    """The server of DATABASE_URL when it is PostgreSQL (the scratch database is created beside it)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url.rsplit("/", 1)[0]
    return "postgres://postgres@127.0.0.1:5432"


def _server_cpu(pid: int) -> float | None:
    """CPU seconds the PostgreSQL backend has used, when the server runs on this machine (else None).

    With rows/s, which moves with whatever else the shared machine runs, the CPU microseconds per row on each
    side (Python, database) say where the time goes and compare runs made under different loads.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _csv_pass(path: Path) -> float:
    started = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as handle:
        rows = sum(1 for _ in csv.reader(handle)) - 1
    seconds = time.perf_counter() - started
    return rows / seconds


def _run(path: Path, format_name: str, rounds: int) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from gateway.records.importing.services import bookings_import

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    import_rates, csv_rates, python_cpu, server_cpu, report = [], [], [], [], None
    for _ in range(rounds):
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        csv_rates.append(_csv_pass(path))
        cpu, server = time.process_time(), _server_cpu(backend)
        started = time.perf_counter()
        report = bookings_import(path=path, format_name=format_name)
        import_rates.append(report.read / (time.perf_counter() - started))
        python_cpu.append((time.process_time() - cpu) / report.read * 1e6)
        after = _server_cpu(backend)
        if server is not None and after is not None:
            server_cpu.append((after - server) / report.read * 1e6)
    if report is None:
        raise SystemExit("--rounds must be at least 1")
    started = time.perf_counter()
    again = bookings_import(path=path, format_name=format_name)
    reimport_rate = again.read / (time.perf_counter() - started)
    rows_per_s = statistics.median(import_rates)
    csv_rate = statistics.median(csv_rates)
    return {
        "benchmark": "import_bookings",
        "file": str(path.relative_to(DATA)) if path.is_relative_to(DATA) else str(path),
        "format": format_name,
        "database": connection.vendor,
        "rounds": rounds,
        "rows": report.read,
        "created": report.created,
        "rejected": report.rejected,
        "reimport_unchanged": again.unchanged,
        "rows_per_s": round(rows_per_s),
        "rows_per_s_all": [round(rate) for rate in import_rates],
        "csv_reader_rows_per_s": round(csv_rate),
        "ratio": round(rows_per_s / csv_rate, 4),
        "reimport_rows_per_s": round(reimport_rate),
        "python_cpu_us_per_row": round(statistics.median(python_cpu), 1),
        "postgres_cpu_us_per_row": round(statistics.median(server_cpu), 1) if server_cpu else None,
        "target_rows_per_s": TARGET,
        "meets_target": rows_per_s >= TARGET,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--format", default="georgia")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--server", default=_server_default(), help="PostgreSQL server URL, no database"
    )
    args = parser.parse_args()
    if not args.file.is_file():
        sys.exit(
            f"{args.file} is missing: this benchmark reads the real rosters in ../shared/data/bookings."
        )
    database = f"custodian_bench_import_{os.getpid()}"
    _psql(args.server, f"CREATE DATABASE {database}")
    try:
        os.environ.update(
            DATABASE_URL=f"{args.server}/{database}",
            DJANGO_SETTINGS_MODULE="gateway.settings",
            DEBUG="0",  # DEBUG keeps every query in memory: not what a real import does
            SECRET_KEY=os.environ.get("SECRET_KEY") or "bench-only-" + os.urandom(24).hex(),
            ALLOWED_HOSTS="localhost",
        )
        result = _run(args.file, args.format, args.rounds)
    finally:
        from django.db import connections

        connections.close_all()
        _psql(args.server, f"DROP DATABASE IF EXISTS {database}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
