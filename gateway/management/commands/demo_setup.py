"""Everything `make demo` does after migrating: keys, a synthetic county, face models, a SAMPLE gallery, accounts."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gateway.demo.services import demo_gallery_load
from gateway.demo.synthetic import SyntheticCountyError, county_generate
from gateway.faces.services import matching_demonstration, matching_evaluate
from gateway.recipients.services import demo_accounts_create, demo_accounts_write


class Command(BaseCommand):
    help = (
        "Prepare the demo on the configured database: a key file, a synthetic county, the face models, a small "
        "gallery of public SAMPLE faces, and the demo accounts (written to var/demo-accounts.json). Safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bookings", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--skip-faces", action="store_true", help="no face models, no gallery")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "demo_setup makes demo accounts and synthetic records; it runs only with DEBUG=1."
            )
        call_command("policy", "keys-init", "--if-missing", stdout=self.stdout)
        try:
            stats = county_generate(
                bookings=options["bookings"], seed=options["seed"], progress=True
            )
        except SyntheticCountyError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"synthetic county: {stats.bookings_created} bookings created, {stats.bookings_existing} already there"
        )
        if not options["skip_faces"]:
            call_command("build_face_models", stdout=self.stdout)
            gallery = demo_gallery_load(seed=options["seed"])
            self.stdout.write(
                f"SAMPLE gallery: {gallery.enrolled} faces enrolled from {gallery.people} people "
                "(public sample images shipped by packages; no real mugshot)"
            )
            # Matching is refused until the current model and threshold are evaluated (FR-03).
            evaluation = matching_evaluate(replicates=200, created_by="demo_setup")
            self.stdout.write(
                f"matching evaluation {evaluation.pk}: "
                + ("passed" if evaluation.passed else "NOT PASSED")
                + " (on the SAMPLE gallery only: far too small to show FPIR 0.01, which takes about "
                "300 non-mated searches per group). "
                + (
                    "Searches run under MATCH_DEMONSTRATION and are labelled as such."
                    if matching_demonstration()
                    else "Face searches stay refused until an evaluation passes."
                )
            )
        accounts = demo_accounts_create()
        path = demo_accounts_write(accounts=accounts, path=settings.VAR_DIR / "demo-accounts.json")
        self.stdout.write(
            f"\nDemo accounts: {len(accounts)} (every role, and a recipient of each kind) are in {path} "
            "(readable by you only; new credentials and authenticator keys on every run). Staff sign "
            "in with their credentials and the current TOTP code for their totp_secret."
        )
        self.stdout.write("\nServing on http://127.0.0.1:8000/ (Ctrl-C to stop)")
