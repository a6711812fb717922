"""The settings module fails closed outside DEBUG and passes Django's deployment checklist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "gateway.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"ALLOWED_HOSTS": "records.example.gov"}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 60}, "ALLOWED_HOSTS"),
    ],
)
def test_missing_required_setting_stops_startup_naming_it(
    env: dict[str, str], missing: str
) -> None:
    result = _manage("check", env={"DEBUG": "0", **env})
    assert result.returncode != 0
    assert f"environment variable {missing} is required" in result.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    production = {
        "DEBUG": "0",
        "SECRET_KEY": "a-long-random-production-key-7f3b9c2e1d4a6f8b0c5e7a9d2f4b6c8e0a1b3d5",
        "ALLOWED_HOSTS": "records.example.gov",
        "CUSTODIAN_VAR_DIR": str(tmp_path),
    }
    # A deployment builds its face models once; until then the matching check warns, as it should.
    unbuilt = _manage("check", "--deploy", "--fail-level", "WARNING", env=production)
    assert unbuilt.returncode != 0
    assert "matching.W002" in unbuilt.stderr
    built = _manage("build_face_models", env=production)
    assert built.returncode == 0, built.stderr

    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=production)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_debug_without_secret_key_starts_with_a_warning(tmp_path: Path) -> None:
    result = _manage("check", env={"DEBUG": "1", "CUSTODIAN_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_refuse_the_matching_demonstration_setting() -> None:
    # Issue 8.3: the demo searches a gallery too small to evaluate; production must never.
    production = {"DEBUG": "0", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "records.example.gov"}
    result = _manage("check", env={**production, "MATCH_DEMONSTRATION": "1"})
    assert result.returncode != 0
    assert "MATCH_DEMONSTRATION is a demo setting" in result.stderr
