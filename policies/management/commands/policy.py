"""``manage.py policy``: validate, test and explain release policies; create and rotate the key file.

Thin wrapper: all logic is in ``policies.services``. Settings used: ``POLICY_DIRS`` (list of paths) and
``POLICY_KEYS_FILE`` (path); ``--dir`` and ``--keys`` override them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from policies.exceptions import KeyStoreError
from policies.keys import KeyStore
from policies.services import (
    decide,
    key_file_create,
    key_file_rotate,
    key_store_load,
    policy_set_load,
    policy_tests_run,
)


class Command(BaseCommand):
    help = (
        "Release policies: 'validate' (exit 1 listing every problem and every active agreement that "
        "denies every request), 'test' (run *_test.yaml cases), "
        "'explain --request FILE.json [--tags FILE.json] [--proxy-registered]' (print the "
        "decision JSON), "
        "'keys-init [PATH]' and 'keys-rotate [PATH]' (county key file)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name in ("validate", "test", "explain"):
            action = sub.add_parser(name)
            action.add_argument(
                "--dir",
                action="append",
                type=Path,
                dest="dirs",
                help="policy directory (repeatable); default settings.POLICY_DIRS",
            )
            if name == "explain":
                action.add_argument(
                    "--request", required=True, help="request JSON file, or - for stdin"
                )
                action.add_argument("--keys", type=Path, help="key file; default POLICY_KEYS_FILE")
                action.add_argument(
                    "--tags",
                    type=Path,
                    help="field sensitivity tags JSON ({field: [tag, ...]}); default: none known",
                )
                action.add_argument(
                    "--proxy-registered",
                    action="store_true",
                    help="treat on_behalf_of as a registered recipient (as the gateway would "
                    "after matching it); default: unknown, so a proxy request answers review",
                )
        init = sub.add_parser("keys-init")
        init.add_argument("path", nargs="?", type=Path)
        init.add_argument(
            "--if-missing", action="store_true", help="do nothing if the file already exists"
        )
        rotate = sub.add_parser("keys-rotate")
        rotate.add_argument("path", nargs="?", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action in {"keys-init", "keys-rotate"}:
            self._keys(action, options["path"] or Path(settings.POLICY_KEYS_FILE), options)
            return
        dirs = options.get("dirs") or [Path(d) for d in settings.POLICY_DIRS]
        if action == "validate":
            self._validate(dirs)
        elif action == "test":
            self._test(dirs)
        else:
            self._explain(
                dirs,
                options["request"],
                options.get("keys"),
                options.get("tags"),
                proxy_registered=bool(options.get("proxy_registered")),
            )

    def _validate(self, dirs: list[Path]) -> None:
        policy_set = policy_set_load(dirs=dirs)
        for problem in policy_set.problems:
            self.stderr.write(problem)
        for contradiction in policy_set.contradictions:
            self.stderr.write(f"contradiction: {contradiction}")
        if policy_set.problems:
            raise CommandError(
                f"{len(policy_set.problems)} policy problem(s); every request is denied"
            )
        if policy_set.contradictions:
            raise CommandError(
                f"{len(policy_set.contradictions)} contradiction(s): agreements marked active "
                "that deny every request"
            )
        self.stdout.write(
            f"OK {policy_set.version} ({len(policy_set.sources)} files, "
            f"{len(policy_set.agreements)} agreements, {len(policy_set.purposes)} purposes)"
        )

    def _test(self, dirs: list[Path]) -> None:
        results = policy_tests_run(dirs=dirs)
        failed = [result for result in results if not result.passed]
        for result in results:
            status = "PASS" if result.passed else "FAIL"
            line = f"{status} {Path(result.source).name}: {result.name}"
            self.stdout.write(line if result.passed else f"{line}\n     {result.message}")
        if not results:
            raise CommandError("no *_test.yaml cases found")
        if failed:
            raise CommandError(f"{len(failed)} of {len(results)} policy test case(s) failed")
        self.stdout.write(f"{len(results)} policy test case(s) passed")

    def _explain(
        self,
        dirs: list[Path],
        request_path: str,
        keys_path: Path | None,
        tags_path: Path | None,
        *,
        proxy_registered: bool,
    ) -> None:
        try:
            text = sys.stdin.read() if request_path == "-" else Path(request_path).read_text()
            request = json.loads(text)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read request JSON: {exc}") from None
        field_tags = _field_tags(tags_path) if tags_path is not None else None
        keys: KeyStore | None
        try:
            keys = key_store_load(path=keys_path or Path(settings.POLICY_KEYS_FILE))
        except KeyStoreError as exc:
            self.stderr.write(f"warning: {exc}; any permit will be denied (no keys)")
            keys = None
        decision = decide(
            request=request,
            policy_set=policy_set_load(dirs=dirs),
            keys=keys,
            field_tags=field_tags,
            proxy_registered=proxy_registered,
        )
        self.stdout.write(json.dumps(decision.as_dict(), indent=2, ensure_ascii=False))

    def _keys(self, action: str, path: Path, options: dict[str, Any]) -> None:
        try:
            if action == "keys-init":
                if options.get("if_missing") and path.exists():
                    key_store_load(path=path)  # an unusable existing file must still fail loudly
                    self.stdout.write(f"{path} already exists; left unchanged")
                    return
                key_id = key_file_create(path=path)
            else:
                key_id = key_file_rotate(path=path)
        except KeyStoreError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{path}: current key is {key_id}")


def _field_tags(path: Path) -> dict[str, list[str]]:
    """Read ``{"person.race": ["quasi_identifier", "protected_trait"], ...}`` from a file.

    The command stays pure (no database): the county's tags come from this file, e.g. exported from
    the gateway's field sensitivity table. Without ``--tags`` no tags are known, so an agreement
    purpose that excludes fields by tag denies.
    """
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read field tags JSON: {exc}") from None
    if not isinstance(data, dict) or not all(
        isinstance(tags, list) and all(isinstance(tag, str) for tag in tags)
        for tags in data.values()
    ):
        raise CommandError("field tags JSON must map each field path to a list of tag names")
    return data
