"""Celery tasks: ids in, a service call, nothing else (house style B8).

Tasks are idempotent: a redelivered chunk (``acks_late``) finds itself done or skips what it did.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import OperationalError

from gateway.services.gallery import gallery_enroll_chunk

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5, default_retry_delay=10)
def gallery_enroll_chunk_task(self: Any, chunk_id: int) -> int:
    """Enroll one chunk of an enrollment run; retried when the database is briefly unavailable."""
    try:
        return gallery_enroll_chunk(chunk_id=chunk_id)
    except OperationalError as exc:
        logger.warning("enrollment chunk %s: database unavailable, retrying", chunk_id)
        raise self.retry(exc=exc) from exc
