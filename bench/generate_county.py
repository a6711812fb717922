"""Synthetic county at scale: 2,500,000 bookings into PostgreSQL, against plain bulk_create.

Creates a fresh database `custodian_bench_<pid>` on postgres://postgres@127.0.0.1:5432/ (trust auth), migrates
it, and runs two phases, each in its own process so that one's memory never shows in the other's peak:

* baseline: the same generator with its COPY writer swapped for Django's bulk_create, on a 50,000-booking
  sample into the empty database, extrapolated linearly (kind to bulk_create: its indexes stay small);
* main: `county_generate` with COPY, 2,500,000 bookings, resident memory read after each chunk.

The database is dropped at the end, whatever happens. Prints one JSON line last: bookings, seconds,
bookings_per_s, peak_rss_mb, rss_mb_at_10pct/50pct/90pct, the baseline's figures and `ratio`
(bookings_per_s over the baseline's). Target: 600 s or less, memory flat.
Usage (from the repository root): ``.venv/bin/python bench/generate_county.py [--bookings N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = "postgres://postgres@127.0.0.1:5432"
TARGET_SECONDS = 600
TABLES = "gateway_mugshot, gateway_charge, gateway_booking, gateway_person"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _phase(name: str, bookings: int, seed: int) -> dict[str, object]:
    """Run inside the child process, with DATABASE_URL already pointing at the bench database."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from gateway.demo.synthetic import county_generate, writers
    from gateway.demo.synthetic.pools import name_pools_build

    # Faker pools (about a second, once per seed) are built before the clock starts in both phases, so the
    # ratio compares writers rather than a fixed start-up cost spread over very different row counts.
    pool_started = time.perf_counter()
    name_pools_build(seed=seed)
    pool_seconds = time.perf_counter() - pool_started

    if name == "baseline":
        writers._copy = writers._bulk_create
    samples: list[tuple[float, float]] = []

    def on_chunk(done: int) -> None:
        samples.append((done / bookings, _rss_mb()))

    started = time.perf_counter()
    stats = county_generate(
        bookings=bookings, seed=seed, source=f"bench-{name}", progress=True, on_chunk=on_chunk
    )
    seconds = time.perf_counter() - started

    def rss_at(fraction: float) -> float:
        return round(min(samples, key=lambda s: abs(s[0] - fraction))[1], 1)

    return {
        "bookings": stats.bookings_created,
        "persons": stats.persons_created,
        "charges": stats.charges_created,
        "writer": stats.writer,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_mb_at_10pct": rss_at(0.1),
        "rss_mb_at_50pct": rss_at(0.5),
        "rss_mb_at_90pct": rss_at(0.9),
        "chunks": len(samples),
        "pool_seconds": round(pool_seconds, 2),
    }


def _psql(sql: str, database: str = "postgres") -> None:
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
            database,
        ],
        check=True,
    )


def _child(env: dict[str, str], *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, *args], env=env, check=True, stdout=subprocess.PIPE, text=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=2_500_000)
    parser.add_argument("--baseline-bookings", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--phase", choices=["baseline", "main"], help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.phase:
        bookings = options.bookings if options.phase == "main" else options.baseline_bookings
        print(json.dumps(_phase(options.phase, bookings, options.seed)))
        return

    database = f"custodian_bench_{os.getpid()}"
    media = tempfile.mkdtemp(prefix="custodian-bench-media-")
    env = {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{database}",
        "DJANGO_SETTINGS_MODULE": "gateway.settings",
        "DEBUG": "1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "MEDIA_ROOT": media,
        "LOG_LEVEL": "WARNING",
    }
    load_start = os.getloadavg()
    _psql(f"CREATE DATABASE {database}")
    try:
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0", "--no-input"],
            env=env,
            check=True,
            cwd=ROOT,
        )
        common = ["--bookings", str(options.bookings), "--seed", str(options.seed)]
        common += ["--baseline-bookings", str(options.baseline_bookings)]
        baseline = _child(env, "--phase", "baseline", *common)
        _psql(f"TRUNCATE {TABLES} CASCADE", database)
        _psql("VACUUM ANALYZE", database)
        main_run = _child(env, "--phase", "main", *common)
    finally:
        _psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        shutil.rmtree(media, ignore_errors=True)
    load_end = os.getloadavg()

    per_s = float(main_run["bookings"]) / float(main_run["seconds"])  # type: ignore[arg-type]
    baseline_per_s = float(baseline["bookings"]) / float(baseline["seconds"])  # type: ignore[arg-type]
    print(
        json.dumps(
            {
                "bookings": main_run["bookings"],
                "persons": main_run["persons"],
                "charges": main_run["charges"],
                "seconds": main_run["seconds"],
                "bookings_per_s": round(per_s),
                "peak_rss_mb": main_run["peak_rss_mb"],
                "rss_mb_at_10pct": main_run["rss_mb_at_10pct"],
                "rss_mb_at_50pct": main_run["rss_mb_at_50pct"],
                "rss_mb_at_90pct": main_run["rss_mb_at_90pct"],
                "writer": main_run["writer"],
                "pool_seconds": main_run["pool_seconds"],
                "baseline": "bulk_create",
                "baseline_bookings": baseline["bookings"],
                "baseline_seconds": baseline["seconds"],
                "baseline_bookings_per_s": round(baseline_per_s),
                "baseline_extrapolated_seconds": round(float(options.bookings) / baseline_per_s, 1),
                "ratio": round(per_s / baseline_per_s, 2),
                "target_seconds": TARGET_SECONDS,
                "meets_target": float(main_run["seconds"]) <= TARGET_SECONDS,  # type: ignore[arg-type]
                "cpus": os.cpu_count(),
                "load_avg_start": [round(v, 2) for v in load_start],
                "load_avg_end": [round(v, 2) for v in load_end],
            }
        )
    )


if __name__ == "__main__":
    main()
