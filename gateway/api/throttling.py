"""Rate limits that fail closed: no cache, no service.

DRF's ScopedRateThrottle keeps its history in the cache (Redis in production). When the cache is
unreachable it raised a bare 500 with nothing audited; serving unthrottled instead would make the limit
something an outage switches off. So an unreachable cache is a refusal: 503 ``rate_limit_unavailable``,
audited by the exception handler (``gateway.api.refusals``).
"""

from __future__ import annotations

from typing import Any

from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle

from gateway.api.refusals import RateLimitUnavailableError

__all__ = ["CACHE_ERRORS", "FailClosedScopedRateThrottle"]

# What the Redis cache backend raises when Redis is down or slow (socket errors are OSError).
CACHE_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)


class FailClosedScopedRateThrottle(ScopedRateThrottle):
    """ScopedRateThrottle that refuses the request when it cannot read or write its history."""

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            raise RateLimitUnavailableError() from exc
