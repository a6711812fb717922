"""The county's make-up: who gets booked, by whom, for what, and where they live.

The shares are approximations for Milwaukee County's jail, not measurements. They start from the public
figures in shared/reference/booking-data.md (the Dane County snapshot of 2026-08-21: Black 50 %, White 43 %,
men 85 %; felony 48 %, misdemeanour 36 %, civil/hold 16 %; the Columbia County top statutes) and lean toward
Milwaukee, where the jail population is more heavily Black than Dane's. They are meant to make policies, the
matching gallery and the demo behave as they would on a real roster, not to support any statistical claim.

Every table is a tuple of (value, weight); weights need not sum to one.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.records.models import ChargeLevel

__all__ = [
    "AGENCIES",
    "BOOKING_AGENCY",
    "BOOKING_HOUR_WEIGHTS",
    "HISPANIC_RACES",
    "HOLD_AGENCY",
    "HOUSING_UNITS",
    "NON_HISPANIC_RACES",
    "PLACES",
    "STATUTES",
    "Statute",
]


@dataclass(frozen=True)
class Statute:
    """One charge a booking can carry.

    `bond` is the median cash bond set for it (0 for holds, which carry no bail); `serious` marks offences that
    a Wis. Stat. 973.015 expunction cannot reach, so the generator never expunges them.
    """

    statute: str
    description: str
    level: ChargeLevel
    weight: float
    bond: int
    case_type: (
        str  # CCAP case class: CF felony, CM misdemeanour, CT criminal traffic, "" none (holds)
    )
    serious: bool = False


_F, _M, _H = ChargeLevel.FELONY, ChargeLevel.MISDEMEANOR, ChargeLevel.CIVIL_HOLD

# Holds lead because they lead the real rosters (Columbia: 973.10 first; Dane: 165 of 777 on P/P holds).
STATUTES: tuple[Statute, ...] = (
    Statute("973.10", "PROBATION/PAROLE VIOLATION - HOLD", _H, 8.0, 0, ""),
    Statute("302.113(8m)", "EXTENDED SUPERVISION REVOCATION - HOLD", _H, 2.0, 0, ""),
    Statute("9999.99(99K)", "WARRANT - OTHER JURISDICTION", _H, 2.0, 0, ""),
    Statute("HOLD", "HOLD FOR OTHER AGENCY", _H, 1.0, 0, ""),
    Statute("800.095(1)", "COMMITMENT - NONPAYMENT OF FORFEITURE", _H, 1.0, 0, ""),
    Statute("947.01(1)", "DISORDERLY CONDUCT", _M, 7.2, 300, "CM"),
    Statute("346.63(1)(a)", "OPERATING WHILE INTOXICATED", _M, 4.8, 500, "CT"),
    Statute("346.63(1)(b)", "OPERATING WITH PROHIBITED ALCOHOL CONCENTRATION", _M, 1.6, 500, "CT"),
    Statute("940.19(1)", "BATTERY", _M, 4.4, 500, "CM"),
    Statute("940.19(2)", "SUBSTANTIAL BATTERY - INTEND BODILY HARM", _F, 2.5, 5000, "CF"),
    Statute("943.20(1)(a)", "THEFT - MOVABLE PROPERTY <= $2500", _M, 3.6, 300, "CM"),
    Statute("943.20(1)(a)", "THEFT - MOVABLE PROPERTY > $2500", _F, 1.7, 2500, "CF"),
    Statute("943.50(1m)", "RETAIL THEFT - INTENTIONALLY TAKE", _M, 1.6, 250, "CM"),
    Statute("961.41(3g)(e)", "POSSESSION OF THC", _M, 2.4, 250, "CM"),
    Statute("961.41(3g)(am)", "POSSESSION OF NARCOTIC DRUGS", _F, 3.4, 2500, "CF"),
    Statute("961.41(1m)(cm)1r", "POSSESS W/ INTENT TO DELIVER COCAINE", _F, 3.4, 7500, "CF"),
    Statute("961.573(1)", "POSSESSION OF DRUG PARAPHERNALIA", _M, 2.4, 150, "CM"),
    Statute("946.41(1)", "RESISTING OR OBSTRUCTING AN OFFICER", _M, 3.6, 300, "CM"),
    Statute("946.49(1)(a)", "BAIL JUMPING - MISDEMEANOR", _M, 4.0, 500, "CM"),
    Statute("946.49(1)(b)", "BAIL JUMPING - FELONY", _F, 6.8, 2500, "CF"),
    Statute("943.10(1m)(a)", "BURGLARY - BUILDING OR DWELLING", _F, 2.5, 5000, "CF"),
    Statute("943.01(1)", "CRIMINAL DAMAGE TO PROPERTY", _M, 2.0, 300, "CM"),
    Statute("943.23(2)", "OPERATE VEHICLE WITHOUT OWNER'S CONSENT", _F, 2.5, 5000, "CF"),
    Statute("346.04(3)", "FLEEING OR ELUDING AN OFFICER", _F, 1.7, 5000, "CF"),
    Statute("343.44(1)(b)", "OPERATING WHILE REVOKED", _M, 2.0, 200, "CT"),
    Statute("941.29(1m)(a)", "POSSESSION OF FIREARM BY FELON", _F, 3.4, 10000, "CF"),
    Statute("941.23(2)", "CARRYING CONCEALED WEAPON", _M, 1.2, 1000, "CM"),
    Statute("813.12(8)(a)", "KNOWINGLY VIOLATE DOMESTIC ABUSE INJUNCTION", _M, 0.8, 1000, "CM"),
    Statute("813.125(7)", "VIOLATE HARASSMENT RESTRAINING ORDER", _M, 0.8, 500, "CM"),
    Statute("940.32(2)", "STALKING", _F, 0.5, 10000, "CF", serious=True),
    Statute("943.32(2)", "ARMED ROBBERY", _F, 1.0, 50000, "CF", serious=True),
    Statute("940.225(2)(a)", "SECOND-DEGREE SEXUAL ASSAULT", _F, 0.5, 50000, "CF", serious=True),
    Statute(
        "948.02(2)", "SECOND-DEGREE SEXUAL ASSAULT OF A CHILD", _F, 0.2, 50000, "CF", serious=True
    ),
    Statute("940.02(1)", "FIRST-DEGREE RECKLESS HOMICIDE", _F, 0.2, 500000, "CF", serious=True),
    Statute(
        "940.01(1)(a)", "FIRST-DEGREE INTENTIONAL HOMICIDE", _F, 0.25, 1000000, "CF", serious=True
    ),
)

BOOKING_AGENCY = "Milwaukee County Sheriff's Office"
HOLD_AGENCY = "Wisconsin Department of Corrections - Probation and Parole"

# Milwaukee Police make most arrests; the Sheriff (expressways, parks, courthouse) and the suburbs the rest.
AGENCIES: tuple[tuple[str, float], ...] = (
    ("Milwaukee Police Department", 62.0),
    ("Milwaukee County Sheriff's Office", 12.0),
    ("West Allis Police Department", 4.0),
    ("Wauwatosa Police Department", 3.0),
    ("Wisconsin State Patrol", 2.0),
    ("Greenfield Police Department", 1.5),
    ("Oak Creek Police Department", 1.5),
    ("South Milwaukee Police Department", 1.0),
    ("Cudahy Police Department", 1.0),
    ("Franklin Police Department", 1.0),
    ("Glendale Police Department", 1.0),
    ("Brown Deer Police Department", 0.8),
    ("West Milwaukee Police Department", 0.6),
    ("Greendale Police Department", 0.6),
    ("Shorewood Police Department", 0.6),
    ("St. Francis Police Department", 0.5),
    ("Whitefish Bay Police Department", 0.4),
    ("UW-Milwaukee Police Department", 0.4),
    ("Hales Corners Police Department", 0.3),
    ("Fox Point Police Department", 0.2),
)

# (city, state, ZIP, weight): real ZIP codes, so address handling meets real shapes; streets are Faker's.
PLACES: tuple[tuple[str, str, str, float], ...] = (
    *(
        ("Milwaukee", "WI", zip_code, weight)
        for zip_code, weight in (
            ("53206", 7.0),
            ("53208", 5.0),
            ("53210", 5.0),
            ("53216", 5.0),
            ("53218", 6.0),
            ("53204", 5.0),
            ("53209", 5.0),
            ("53212", 4.0),
            ("53215", 5.0),
            ("53205", 3.0),
            ("53223", 3.0),
            ("53224", 3.0),
            ("53225", 3.0),
            ("53233", 2.0),
            ("53202", 2.0),
            ("53203", 0.5),
            ("53207", 2.0),
            ("53211", 1.0),
            ("53219", 1.5),
            ("53220", 1.0),
            ("53221", 2.0),
            ("53222", 1.5),
            ("53227", 1.0),
            ("53228", 0.5),
        )
    ),
    ("West Allis", "WI", "53214", 3.0),
    ("Wauwatosa", "WI", "53213", 1.5),
    ("Greenfield", "WI", "53228", 1.0),
    ("Oak Creek", "WI", "53154", 1.0),
    ("South Milwaukee", "WI", "53172", 0.8),
    ("Cudahy", "WI", "53110", 0.7),
    ("Franklin", "WI", "53132", 0.6),
    ("Brown Deer", "WI", "53223", 0.5),
    ("Glendale", "WI", "53217", 0.4),
    ("St. Francis", "WI", "53235", 0.3),
    ("West Milwaukee", "WI", "53215", 0.3),
    ("Greendale", "WI", "53129", 0.3),
    ("Waukesha", "WI", "53186", 1.0),
    ("Racine", "WI", "53403", 1.0),
    ("Kenosha", "WI", "53140", 0.6),
    ("Madison", "WI", "53713", 0.3),
    ("Chicago", "IL", "60619", 0.5),
)

# Race vocabulary as the Dane roster writes it; "" is what rosters leave when the field was not taken.
# Hispanic people are mostly recorded White, as jails record race and ethnicity separately.
NON_HISPANIC_RACES: tuple[tuple[str, float], ...] = (
    ("Black", 63.0),
    ("White", 30.5),
    ("Native American", 2.0),
    ("Asian", 1.7),
    ("", 2.8),
)
HISPANIC_RACES: tuple[tuple[str, float], ...] = (
    ("White", 82.0),
    ("Black", 6.0),
    ("Native American", 6.0),
    ("", 6.0),
)

# Intake peaks in the evening and the small hours; the morning is quiet.
BOOKING_HOUR_WEIGHTS: tuple[float, ...] = (
    6,
    6,
    5,
    4,
    3,
    2,
    2,
    2,
    2,
    3,
    3,
    4,
    4,
    4,
    4,
    5,
    5,
    5,
    6,
    6,
    6,
    7,
    7,
    7,
)

# Criminal Justice Facility pods (floor + pod letter) and the House of Correction dorms.
HOUSING_UNITS: tuple[str, ...] = (
    *(f"CJF {floor}{pod}" for floor in (4, 5, 6, 7) for pod in "ABCD"),
    *(f"HOC DORM {dorm}" for dorm in range(1, 9)),
)
