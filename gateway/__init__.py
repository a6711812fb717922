"""Custodian's gateway: the records model, imports, the release path and the web/API surface.

The Celery app is exposed here so that `celery -A gateway worker` finds it and so that shared tasks bind to it.
"""

from gateway.celery import app as celery_app

__all__ = ["celery_app"]
