"""A worked example of the record shape and of a typical request, in plain values.

One copy for the documentation's examples, the engine's tests and the decision benchmark, so the three
cannot drift apart. Deep-copy before changing: these are module constants.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EXAMPLE_POLICE_REQUEST", "EXAMPLE_RECORD"]

# A booking as the gateway exports it: an adult, convicted, releasable.
EXAMPLE_RECORD: dict[str, Any] = {
    "booking_number": "B2026-000123",
    "booked_at": "2026-05-04T10:15:00-05:00",
    "released_at": None,
    "arresting_agency": "Milwaukee PD",
    "booking_agency": "MCSO",
    "custody_status": "in custody",
    "housing": "CJF 4A",
    "person": {
        "first_name": "Jordan",
        "middle_name": None,
        "last_name": "Doe",
        "suffix": None,
        "date_of_birth": "1990-05-17",
        "age": 35,
        "sex": "M",
        "race": "W",
        "ethnicity": None,
        "address": "123 Main St",
        "zip": "53202",
        "state_id": "WI1234567",
        "fbi_number": "123456AB7",
        "drivers_license": "D123-4567-8901-23",
        "ssn": "123-45-6789",
    },
    "charges": [
        {
            "statute": "943.32(1)(a)",
            "description": "Robbery",
            "level": "F",
            "disposition": "convicted",
            "bond_amount": 5000,
        }
    ],
    "status": {"juvenile": False, "sealed": False, "expunged": False, "removed": False},
}

# A local police request for one violent-felony case, on its own behalf.
EXAMPLE_POLICE_REQUEST: dict[str, Any] = {
    "recipient": {"type": "local_le", "name": "Milwaukee Police Department", "ori": "WI0410200"},
    "on_behalf_of": None,
    "purpose": "investigation.violent-felony",
    "case_number": "MPD-2026-00417",
    "offense_statute": "943.32(1)(a)",
    "narrative": "Armed robbery of a gas station clerk on 3 May 2026; tattoo matches a booking.",
    "mode": "single",
    "documents": [],
    "fields": None,
    "records": [EXAMPLE_RECORD],
}
