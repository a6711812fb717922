"""Celery tasks: ids in, a service call, nothing else (house style B8).

Tasks are idempotent: a redelivered chunk (``acks_late``) finds itself done or skips what it did.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import OperationalError

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5, default_retry_delay=10)
def gallery_enroll_chunk_task(self: Any, chunk_id: int) -> int:
    """Enroll one chunk of an enrollment run; retried when the database is briefly unavailable.

    The service is imported here, not at the top (house style B8): the gallery queues this task, so a
    top-level import either way would make the two modules import each other.
    """
    from gateway.faces.gallery import gallery_enroll_chunk

    try:
        return gallery_enroll_chunk(chunk_id=chunk_id)
    except OperationalError as exc:
        logger.warning("enrollment chunk %s: database unavailable, retrying", chunk_id)
        raise self.retry(exc=exc) from exc
