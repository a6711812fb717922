"""manage.py generate_county: a thin wrapper around gateway.demo.synthetic.county_generate."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gateway.demo.synthetic import SyntheticCountyError, county_generate


class Command(BaseCommand):
    help = (
        "Generate a synthetic Milwaukee-like county (people, bookings, charges, optional placeholder "
        "mugshots). Deterministic per --seed; re-running the same seed into the same --source skips what "
        "exists, so it never duplicates, and a larger --bookings extends the county."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bookings", type=int, required=True, help="number of bookings")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--mugshots", action="store_true", help="add a synthetic placeholder photo per booking"
        )
        parser.add_argument(
            "--source", default="synthetic", help="source name the rows are keyed under"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            stats = county_generate(
                bookings=options["bookings"],
                seed=options["seed"],
                mugshots=options["mugshots"],
                source=options["source"],
                progress=options["verbosity"] >= 1,
            )
        except SyntheticCountyError as error:
            raise CommandError(f"{error.message} [{error.code}]") from error
        self.stdout.write(
            f"{stats.source} (seed {stats.seed}): {stats.bookings_created} bookings created, "
            f"{stats.bookings_existing} already there; {stats.persons_created} people, "
            f"{stats.charges_created} charges, {stats.mugshots_created} mugshots; "
            f"{stats.writer}, {stats.seconds:.1f} s"
        )
