"""Display units: storage is SI; people read kilometres or miles, kilograms or pounds."""

from __future__ import annotations

METRES_PER_MILE = 1609.344
KG_PER_LB = 0.45359237


def distance(m: float | None, units: str) -> str:
    if m is None:
        return "-"
    if units == "imperial":
        return f"{m / METRES_PER_MILE:,.1f} mi"
    return f"{m / 1000:,.1f} km"


def mass(kg: float | None, units: str) -> str:
    if kg is None:
        return "-"
    if units == "imperial":
        return f"{kg / KG_PER_LB:,.0f} lb"
    return f"{kg:,.0f} kg"


# muscle groups of marts.weekly_muscle_volume / marts.block_summary, as people read them
MUSCLE_LABELS = {
    "quadriceps": "quadriceps", "hamstrings_knee_flexion": "hamstrings (knee flexion)",
    "hamstrings_hip_hinge": "hamstrings (hip hinge)", "glutes": "glutes", "calves": "calves",
    "hip_stability": "hip adductors / abductors", "core": "core", "upper_push": "upper-body push",
    "upper_pull": "upper-body pull",
}


def muscle(group: str) -> str:
    return MUSCLE_LABELS.get(group, group.replace("_", " "))
