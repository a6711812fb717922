"""Synthetic evaluation populations whose outcome is known by construction (no face, no person)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

DIM = 128


def county_population(
    rng: np.random.Generator,
    *,
    groups: Mapping[str, tuple[int, int]],
    stranger_distance: float | np.ndarray = 5.0,
    mate_step: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``evaluation_run`` (all but the threshold): enrolled people photographed
    twice and strangers who are not enrolled, labelled by group under the attribute "race".

    ``groups`` maps a label to (people enrolled, strangers). A person's two photos are
    ``mate_step[label]`` apart (default 0.1: always found at 0.6). Stranger ``i`` sits
    ``stranger_distance`` (or its ``i``-th entry) from the first photo of person ``i``; random
    faces are about 8 apart, so that is its best non-mate distance while it is under about 4.
    """
    steps = mate_step or {}
    descriptors, subjects, enrolled, labels = [], [], [], []
    centres: list[np.ndarray] = []
    for label, (people, _) in groups.items():
        for _ in range(people):
            centre = rng.standard_normal(DIM) * 0.5
            step = rng.standard_normal(DIM)
            second = centre + steps.get(label, 0.1) * step / np.linalg.norm(step)
            for photo in (centre, second):
                descriptors.append(photo)
                subjects.append(f"p{len(centres)}")
                enrolled.append(True)
                labels.append(label)
            centres.append(centre)
    strangers = sum(n for _, n in groups.values())
    distances = np.broadcast_to(np.asarray(stranger_distance, float), (strangers,))
    stranger = 0
    for label, (_, count) in groups.items():
        for _ in range(count):
            direction = rng.standard_normal(DIM)
            centre = centres[stranger % len(centres)]
            descriptors.append(centre + distances[stranger] * direction / np.linalg.norm(direction))
            subjects.append(f"x{stranger}")
            enrolled.append(False)
            labels.append(label)
            stranger += 1
    return {
        "descriptors": np.asarray(descriptors, dtype=np.float32),
        "subject_ids": subjects,
        "enrolled": enrolled,
        "groups": {"race": labels},
        "list_size": 5,
        "replicates": 100,
    }
