"""Cross-cutting fixtures only."""

from __future__ import annotations

import os

import pytest
from django.conf import settings


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests that need PostgreSQL on SQLite, and live-worker tests unless CI started a worker."""
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    live_worker = os.environ.get("CUSTODIAN_LIVE_WORKER") == "1"
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "live_worker" in item.keywords and not live_worker:
            item.add_marker(
                pytest.mark.skip(reason="needs a live Celery worker (CUSTODIAN_LIVE_WORKER=1)")
            )


@pytest.fixture
def live_celery() -> object:
    """Send tasks to the real worker that .ci/run started (instead of running them eagerly).

    Use with `@pytest.mark.live_worker` and `@pytest.mark.django_db(transaction=True)`, so the worker, a
    separate process, sees the rows the test committed.
    """
    from gateway.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = previous
