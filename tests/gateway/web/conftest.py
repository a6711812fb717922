"""The desk's tests reuse the request lifecycle's fixtures: shipped policies, a police recipient, clerks."""

from tests.gateway.requests.conftest import (  # noqa: F401 (fixtures, found by name)
    bookings,
    clerk,
    clerk2,
    compliance,
    detective,
    policies,
)
