"""Decision latency of ``policies.services.decide`` for a typical request, against cedarpy.

Typical request: a municipal police department asks for one booking for a violent-felony
investigation (case number, eligible statute, narrative, no proxy), which is permitted and
transformed. Cedar gets the equivalent authorization: one permit for the agreement and forbids for
the guardrails (surveillance modes, immigration, missing on-behalf-of, protected records), with the
policy set and entities pre-parsed once (the fastest way to call cedarpy). Ours includes record
filtering and the field transforms of the released record; Cedar's answer is only allow/deny.

Prints one JSON line last: p50_us, p99_us, cedar_p50_us, cedar_p99_us and the ratios.
Usage (from the repository root): ``.venv/bin/python bench/decide.py [--n N]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cedarpy  # noqa: E402

from policies.examples import EXAMPLE_POLICE_REQUEST, EXAMPLE_RECORD  # noqa: E402
from policies.keys import KeyStore  # noqa: E402
from policies.services import decide, policy_set_load  # noqa: E402

RECORD = EXAMPLE_RECORD
REQUEST = EXAMPLE_POLICE_REQUEST

VIOLENT = [
    "940.01", "940.02", "940.03", "940.05", "940.06", "940.19", "940.225", "940.23", "940.30",
    "940.302", "940.305", "940.31", "940.32", "941.20", "943.23", "943.32", "948.02", "948.025",
    "948.051",
]  # fmt: skip
CEDAR_POLICIES = f"""
permit(principal, action == Action::"release", resource)
when {{
  principal.kind == "local_le" &&
  (context.purpose == "investigation.violent-felony" || context.purpose == "investigation.felony") &&
  context.case_number != "" &&
  context.narrative_length >= 40 &&
  {json.dumps(VIOLENT)}.contains(context.offense_base) &&
  context.mode == "single" &&
  context.record_count <= 25
}};
forbid(principal, action, resource) when {{ context.mode == "watchlist" || context.mode == "stream" }};
forbid(principal, action, resource) when {{ context.purpose like "immigration*" }};
forbid(principal, action, resource)
  when {{ principal.kind == "federal_immigration" && !context.judicial_verified }};
forbid(principal, action, resource)
  when {{ context.on_behalf_of_kind == "federal_immigration" && !context.judicial_verified }};
forbid(principal, action, resource) unless {{ context.has_on_behalf_of }};
forbid(principal, action, resource)
  when {{ resource.juvenile || resource.sealed || resource.expunged || resource.removed }};
"""
CEDAR_ENTITIES = [
    {"uid": {"type": "Agency", "id": "WI0410200"}, "attrs": {"kind": "local_le"}, "parents": []},
    {
        "uid": {"type": "Booking", "id": "B2026-000123"},
        "attrs": {"juvenile": False, "sealed": False, "expunged": False, "removed": False},
        "parents": [],
    },
]


def _cedar_request() -> dict[str, object]:
    return {
        "principal": 'Agency::"WI0410200"',
        "action": 'Action::"release"',
        "resource": 'Booking::"B2026-000123"',
        "context": {
            "purpose": REQUEST["purpose"],
            "case_number": REQUEST["case_number"],
            "narrative_length": len(str(REQUEST["narrative"])),
            "offense_base": "943.32",
            "mode": "single",
            "record_count": 1,
            "judicial_verified": False,
            "has_on_behalf_of": True,
            "on_behalf_of_kind": "",
        },
    }


def _percentiles(samples_ns: list[int]) -> tuple[float, float]:
    ordered = sorted(samples_ns)
    p50 = statistics.median(ordered) / 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000
    return round(p50, 2), round(p99, 2)


def _time(call: Callable[[], object], n: int) -> list[int]:
    for _ in range(min(n, 500)):
        call()
    samples = []
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for _ in range(n):
            start = clock()
            call()
            samples.append(clock() - start)
    finally:
        gc.enable()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    args = parser.parse_args()
    policy_set = policy_set_load(dirs=[ROOT / "policies" / "library"])
    keys = KeyStore(current="k1", keys={"k1": secrets.token_bytes(32)})
    decision = decide(request=REQUEST, policy_set=policy_set, keys=keys)
    assert decision.permitted, decision.reasons  # noqa: S101 - the benchmark must measure a permit

    cedar_policies = cedarpy.PolicySet.from_str(CEDAR_POLICIES)
    cedar_entities = cedarpy.Entities.from_json_str(json.dumps(CEDAR_ENTITIES))
    cedar_request = _cedar_request()
    answer = cedarpy.is_authorized(cedar_request, cedar_policies, cedar_entities)
    assert answer.decision == cedarpy.Decision.Allow, answer  # noqa: S101 - same verdict as ours

    ours = _time(lambda: decide(request=REQUEST, policy_set=policy_set, keys=keys), args.n)
    cedar = _time(
        lambda: cedarpy.is_authorized(cedar_request, cedar_policies, cedar_entities),
        max(args.n // 4, 1000),
    )
    p50, p99 = _percentiles(ours)
    cedar_p50, cedar_p99 = _percentiles(cedar)
    print(
        json.dumps(
            {
                "bench": "decide",
                "n": args.n,
                "p50_us": p50,
                "p99_us": p99,
                "cedar_p50_us": cedar_p50,
                "cedar_p99_us": cedar_p99,
                "cedar_over_ours_p50": round(cedar_p50 / p50, 2),
                "cedar_over_ours_p99": round(cedar_p99 / p99, 2),
                "target_p99_us": 100,
            }
        )
    )


if __name__ == "__main__":
    main()
