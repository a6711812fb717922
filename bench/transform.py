"""Release-transform throughput for the vendor template, against presidio-anonymizer.

Synthetic bookings in the exported record shape are transformed with the vendor template's
compiled plan (two keyed HMAC pseudonyms, three generalisations, kept demographics and charges).
Presidio applies the same operators to the same records in the same run: salted SHA-256 ``hash``
for the pseudonyms (Presidio has no HMAC) and ``custom`` lambdas for the generalisations, one
``anonymize`` call per record with pre-detected entities (no analyzer: the most favourable way to
run Presidio). Both run single-threaded; rates are records per CPU-second of this process (what one
core does, independent of other load on a shared machine); the wall-clock rate is printed as well.

Prints one JSON line last: records_per_s, presidio_records_per_s and their ratio.
Usage (from the repository root): ``.venv/bin/python bench/transform.py [--records N]``.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from presidio_anonymizer import AnonymizerEngine  # noqa: E402
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult  # noqa: E402

from policies.keys import KeyStore  # noqa: E402
from policies.services import policy_set_load  # noqa: E402
from policies.transforms import plan_compile  # noqa: E402

STATUTES = ["943.20(1)(a)", "940.19(1)", "946.41(1)", "961.41(1m)", "943.32(1)(a)", "346.63(1)(a)"]
LEVELS = ["F", "M", "C"]
DISPOSITIONS = ["convicted", "pending", "dismissed", None]


def synthetic_bookings(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Bookings in the export shape; values are random, not derived from any real roster."""
    rng = random.Random(seed)
    people = max(count // 3, 1)
    out = []
    for index in range(count):
        person_no = rng.randrange(people)
        born = f"{rng.randint(1950, 2007)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        out.append(
            {
                "booking_number": f"B{2020 + index % 6}-{index:07d}",
                "booked_at": f"202{index % 6}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00-05:00",
                "released_at": None,
                "arresting_agency": "Milwaukee PD",
                "booking_agency": "MCSO",
                "custody_status": "in custody",
                "housing": f"CJF {rng.randint(1, 6)}{rng.choice('ABCD')}",
                "person": {
                    "first_name": f"First{person_no}",
                    "middle_name": None,
                    "last_name": f"Last{person_no}",
                    "suffix": None,
                    "date_of_birth": born,
                    "age": rng.randint(17, 80),
                    "sex": rng.choice("MF"),
                    "race": rng.choice("WBAIU"),
                    "ethnicity": None,
                    "address": f"{rng.randint(1, 9999)} Example St",
                    "zip": f"532{rng.randint(0, 99):02d}",
                    "state_id": f"WI{person_no:07d}",
                    "fbi_number": None,
                    "drivers_license": None,
                    "ssn": None,
                },
                "charges": [
                    {
                        "statute": rng.choice(STATUTES),
                        "description": "charge",
                        "level": rng.choice(LEVELS),
                        "disposition": rng.choice(DISPOSITIONS),
                        "bond_amount": rng.randint(0, 5000),
                    }
                    for _ in range(rng.randint(1, 3))
                ],
                "status": {"juvenile": False, "sealed": False, "expunged": False, "removed": False},
            }
        )
    return out


def _band(value: str) -> str:
    low = int(value) // 10 * 10
    return f"{low}-{low + 9}"


def presidio_release(engine: AnonymizerEngine, record: dict[str, Any], salt: str) -> str:
    """The same operators through Presidio: one text per record with pre-detected entities."""
    person = record["person"]
    parts = [
        ("BOOKING", record["booking_number"]),
        ("DATE", record["booked_at"]),
        (None, record["booking_agency"]),
        ("DOB", person["date_of_birth"]),
        ("AGE", str(person["age"])),
        (None, person["sex"]),
        (None, person["race"]),
        ("SID", person["state_id"]),
    ]
    for charge in record["charges"]:
        parts += [
            (None, charge["statute"]),
            (None, charge["level"]),
            (None, str(charge["disposition"])),
        ]
    text, entities, position = [], [], 0
    for entity, value in parts:
        if entity is not None:
            entities.append(RecognizerResult(entity, position, position + len(value), 1.0))
        text.append(value)
        position += len(value) + 1
    hashed = OperatorConfig("hash", {"hash_type": "sha256", "salt": salt})
    operators = {
        "BOOKING": hashed,
        "SID": hashed,
        "DATE": OperatorConfig("custom", {"lambda": lambda v: v[:7]}),
        "DOB": OperatorConfig("custom", {"lambda": lambda v: v[:4]}),
        "AGE": OperatorConfig("custom", {"lambda": _band}),
    }
    return engine.anonymize(
        text="|".join(text), analyzer_results=entities, operators=operators
    ).text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--presidio-records", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    policy_set = policy_set_load(dirs=[ROOT / "policies" / "library"])
    vendor = next(a for a in policy_set.agreements if a.id == "vendor-records-for-licences")
    keys = KeyStore(current="k1", keys={"k1": secrets.token_bytes(32)})
    records = synthetic_bookings(args.records)
    rates, wall_rates = [], []
    for repeat in range(args.repeats):
        # A fresh plan per repeat: its pseudonym memo must not carry over from the previous pass.
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        plan = plan_compile(
            rules=vendor.purposes[0].fields,
            store=keys,
            recipient_key=f"vendor:BIOMETRICA-{repeat}",
            purpose=vendor.purposes[0].code,
        )
        released = plan.apply_many(records)
        rates.append(len(released) / (time.process_time() - start_cpu))
        wall_rates.append(len(released) / (time.perf_counter() - start_wall))
    sample = released[0]
    assert set(sample) <= {r.path.split(".")[0] for r in vendor.purposes[0].fields}  # noqa: S101
    assert sample["booking_number"] != records[0]["booking_number"]  # noqa: S101

    engine = AnonymizerEngine()  # type: ignore[no-untyped-call]
    salt = secrets.token_hex(16)
    subset = records[: args.presidio_records]
    presidio_rates = []
    for _ in range(args.repeats):
        start_cpu = time.process_time()
        for record in subset:
            presidio_release(engine, record, salt)
        presidio_rates.append(len(subset) / (time.process_time() - start_cpu))

    ours, theirs = statistics.median(rates), statistics.median(presidio_rates)
    print(
        json.dumps(
            {
                "bench": "transform",
                "records": args.records,
                "presidio_records": len(subset),
                "records_per_s": round(ours),
                "wall_records_per_s": round(statistics.median(wall_rates)),
                "presidio_records_per_s": round(theirs),
                "ratio": round(ours / theirs, 1),
                "target_records_per_s": 100_000,
                "target_ratio": 10,
            }
        )
    )


if __name__ == "__main__":
    main()
