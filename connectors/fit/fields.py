"""The FIT field mapping, declared once: which FIT fields become which raw column, how.

Per message (``file_id``, ``session``, ``lap``, ``set``, ``record``, ``weight_scale``) the raw columns in their
order, each with:

* ``type``: its Arrow type name (``int16``, ``int32``, ``int64``, ``float64``, ``bool``, ``string``,
  ``timestamp`` = naive UTC microseconds, ``list<int32>``, ``list<string>``); the raw tables in
  warehouse/migrations have the matching DuckDB types;
* ``fit``: the FIT field names it reads, the first present one winning (``enhanced_avg_speed``
  before ``avg_speed``);
* ``conv``: how the value becomes the column's value --
  ``num`` a number as float, ``int`` a number truncated to an integer, ``name`` text (a named type's
  name), ``time`` a FIT date_time (values below 0x10000000 are not dates and become NULL),
  ``semicircles`` degrees from FIT semicircles (truncated to an integer first, then x 180 / 2^31),
  ``derived`` computed by the row builders (connectors/fit/rows.py) from the fields listed;
* ``scale``: a factor applied after ``conv`` (``1e-3``: FIT's mm / ms to m / s);
* ``plus``: a FIT field added when both are present (fractional cadence);
* ``bounds``: (lowest, highest) a decodable value may have (inclusive); a value outside them keeps
  its row, with the reason in ``dq_reason``. They are far beyond any human record: they catch
  corrupt or crafted files, not unusual days (docs/fit-import.md). ``check`` orders the checks
  (and so the reasons) where it differs from the column order.

Both decoders (reference.py, columnar.py), the column lists and quality bounds (contract.py)
and the Arrow schemas (arrow.py) are derived from this module. ``MESSAGE_FIELDS`` lists the FIT
fields of the other messages the row builders read (activity, exercise_title, workout_step,
sport), which give no column of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY_S = 86_400.0


@dataclass(frozen=True)
class Col:
    """One raw column and where it comes from."""

    name: str
    type: str
    fit: tuple[str, ...] = ()
    conv: str = "num"
    scale: float | None = None
    plus: str | None = None
    bounds: tuple[float, float] | None = None
    check: int = 0  # quality checks run by (check, column position)


def _c(name: str, type_: str, *fit: str, conv: str = "num", scale: float | None = None, plus: str | None = None,
       bounds: tuple[float, float] | None = None, check: int = 0) -> Col:
    return Col(name, type_, tuple(fit), conv, scale, plus, bounds, check)


_7D = (0.0, 7 * DAY_S)  # multi-day ultras last 2-5 days
_HR = (0.0, 300.0)
_SPEED = (0.0, 150.0)  # 540 km/h: beyond any human-powered or recorded sport speed
_MM = 1e-3  # mm -> m, ms -> s

SESSION: tuple[Col, ...] = (
    _c("session_index", "int32", conv="derived"),
    _c("sport", "string", "sport", conv="name"),
    _c("sub_sport", "string", "sub_sport", conv="name"),
    _c("sport_profile_name", "string", "sport_profile_name", conv="name"),
    _c("start_time_utc", "timestamp", "start_time", conv="time"),
    _c("start_time_local", "timestamp", "start_time", conv="derived"),  # start + the file's UTC offset
    _c("utc_offset_s", "int32", conv="derived"),  # from the activity message
    _c("end_time_utc", "timestamp", "timestamp", conv="time"),
    _c("total_elapsed_time_s", "float64", "total_elapsed_time", bounds=_7D),
    _c("total_timer_time_s", "float64", "total_timer_time", bounds=_7D),
    _c("total_moving_time_s", "float64", "total_moving_time", bounds=_7D),
    # 2,000 km: a week of non-stop cycling is ~1,500-2,000 km
    _c("total_distance_m", "float64", "total_distance", bounds=(0.0, 2_000_000.0)),
    _c("total_ascent_m", "float64", "total_ascent", bounds=(0.0, 100_000.0)),
    _c("total_descent_m", "float64", "total_descent", bounds=(0.0, 100_000.0)),
    _c("avg_speed_mps", "float64", "enhanced_avg_speed", "avg_speed", bounds=_SPEED),
    _c("max_speed_mps", "float64", "enhanced_max_speed", "max_speed", bounds=_SPEED),
    _c("avg_heart_rate_bpm", "float64", "avg_heart_rate", bounds=_HR),
    _c("max_heart_rate_bpm", "float64", "max_heart_rate", bounds=_HR),
    _c("avg_cadence_rpm", "float64", "avg_running_cadence", "avg_cadence", plus="avg_fractional_cadence",
       bounds=(0.0, 300.0)),
    _c("max_cadence_rpm", "float64", "max_running_cadence", "max_cadence", bounds=(0.0, 300.0)),
    _c("total_strides", "int64", "total_strides", "total_cycles", conv="int", bounds=(0.0, 10_000_000.0)),
    _c("total_calories_kcal", "float64", "total_calories", bounds=(0.0, 100_000.0)),
    _c("avg_stance_time_s", "float64", "avg_stance_time", scale=_MM, bounds=(0.0, 10.0)),
    _c("avg_vertical_oscillation_m", "float64", "avg_vertical_oscillation", scale=_MM, bounds=(0.0, 2.0)),
    _c("avg_step_length_m", "float64", "avg_step_length", scale=_MM, bounds=(0.0, 10.0)),
    _c("total_training_effect", "float64", "total_training_effect"),
    _c("total_anaerobic_training_effect", "float64", "total_anaerobic_training_effect"),
    _c("training_load_peak", "float64", "training_load_peak"),
    _c("workout_rpe", "float64", "workout_rpe"),
    _c("workout_feel", "float64", "workout_feel"),
    _c("num_laps", "int32", "num_laps", conv="int"),
    _c("is_summarised", "bool", conv="derived"),  # True: made from the records (no session message)
    _c("dq_reason", "string", conv="derived"),
)

LAP: tuple[Col, ...] = (
    _c("lap_index", "int32", conv="derived"),
    _c("start_time_utc", "timestamp", "start_time", conv="time"),
    _c("end_time_utc", "timestamp", "timestamp", conv="time"),
    _c("total_elapsed_time_s", "float64", "total_elapsed_time"),
    _c("total_timer_time_s", "float64", "total_timer_time"),
    _c("total_distance_m", "float64", "total_distance"),
    _c("total_ascent_m", "float64", "total_ascent"),
    _c("total_descent_m", "float64", "total_descent"),
    _c("avg_speed_mps", "float64", "enhanced_avg_speed", "avg_speed"),
    _c("avg_heart_rate_bpm", "float64", "avg_heart_rate"),
    _c("max_heart_rate_bpm", "float64", "max_heart_rate"),
    _c("avg_cadence_rpm", "float64", "avg_running_cadence", "avg_cadence"),
    _c("intensity", "string", "intensity", conv="name"),
    _c("lap_trigger", "string", "lap_trigger", conv="name"),
)

SET: tuple[Col, ...] = (
    _c("set_index", "int32", conv="derived"),
    _c("message_index", "int32", "message_index", conv="int"),
    _c("set_type", "string", "set_type", conv="name"),
    _c("start_time_utc", "timestamp", "start_time", conv="time"),
    _c("end_time_utc", "timestamp", "timestamp", conv="time"),
    _c("duration_s", "float64", "duration", bounds=(0.0, 6 * 3600.0), check=1),
    _c("repetitions", "int32", "repetitions", conv="int", bounds=(0.0, 10_000.0)),
    # twice the heaviest deadlift ever lifted (501 kg)
    _c("weight_kg", "float64", "weight", bounds=(0.0, 1_000.0)),
    # exercise categories (one, or three on Fenix watches) and exercise names, named from Garmin's profile
    _c("category", "string", "category", conv="derived"),
    _c("category_ids", "list<int32>", "category", conv="derived"),
    _c("category_names", "list<string>", "category", conv="derived"),
    _c("subtype_ids", "list<int32>", "category_subtype", conv="derived"),
    _c("subtype_names", "list<string>", "category_subtype", conv="derived"),
    _c("wkt_step_index", "int32", "wkt_step_index", conv="int"),
    # the exercise_title message of the set's exercise (found through its workout step)
    _c("exercise_title", "string", "set_type", "wkt_step_index", conv="derived"),
    _c("dq_reason", "string", conv="derived"),
)

RECORD: tuple[Col, ...] = (
    _c("record_index", "int32", conv="derived"),
    _c("timestamp_utc", "timestamp", "timestamp", conv="time"),
    _c("position_lat_deg", "float64", "position_lat", conv="semicircles"),
    _c("position_long_deg", "float64", "position_long", conv="semicircles"),
    _c("distance_m", "float64", "distance"),
    _c("speed_mps", "float64", "enhanced_speed", "speed"),
    _c("heart_rate_bpm", "int16", "heart_rate", conv="int"),
    _c("cadence_rpm", "float64", "cadence", plus="fractional_cadence"),
    _c("altitude_m", "float64", "enhanced_altitude", "altitude"),
    _c("power_w", "int32", "power", conv="int"),
    _c("vertical_oscillation_m", "float64", "vertical_oscillation", scale=_MM),
    _c("stance_time_s", "float64", "stance_time", scale=_MM),
    _c("step_length_m", "float64", "step_length", scale=_MM),
)

# weight_scale: one body composition measurement of a scale (``weight`` files). A value outside its
# bounds is set to NULL, the reason in dq_reason (a scale reading has no "as the file said" worth keeping).
WEIGHT: tuple[Col, ...] = (
    _c("measurement_index", "int32", conv="derived"),
    _c("measured_at_utc", "timestamp", "timestamp", conv="time"),
    _c("user_profile_index", "int32", "user_profile_index", conv="int"),  # multi-user scales: which user
    # the heaviest human on record weighed ~635 kg; the FIT value 0xFFFE (655.34) means "calculating"
    _c("body_mass_kg", "float64", "weight", conv="derived", bounds=(0.5, 650.0)),
    _c("body_fat_percent", "float64", "percent_fat", bounds=(0.0, 100.0)),
    _c("body_water_percent", "float64", "percent_hydration", bounds=(0.0, 100.0)),
    _c("bone_mass_kg", "float64", "bone_mass", bounds=(0.0, 650.0)),
    _c("muscle_mass_kg", "float64", "muscle_mass", bounds=(0.0, 650.0)),
    _c("bmi_kg_m2", "float64", "bmi", bounds=(0.0, 300.0)),
    _c("dq_reason", "string", conv="derived"),
)

FILE: tuple[Col, ...] = (  # the file_id message: columns of raw.fit_files
    _c("file_type", "string", "type", conv="name"),
    _c("manufacturer", "string", "manufacturer", conv="name"),
    _c("product", "string", "garmin_product", "favero_product", "product", conv="name"),
    _c("serial_number", "int64", "serial_number", conv="int"),
    _c("time_created_utc", "timestamp", "time_created", conv="time"),
)

#: FIT message name -> its columns
COLUMNS: dict[str, tuple[Col, ...]] = {"file_id": FILE, "session": SESSION, "lap": LAP, "set": SET, "record": RECORD,
                                       "weight_scale": WEIGHT}

#: raw table -> FIT message (raw.fit_files takes the file_id columns among its own)
TABLES: dict[str, str] = {"fit_sessions": "session", "fit_laps": "lap", "fit_sets": "set", "fit_records": "record",
                          "fit_weights": "weight_scale"}

#: FIT fields of messages that give no column but that the row builders read
MESSAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "activity": ("timestamp", "local_timestamp"),  # the file's UTC offset
    "exercise_title": ("exercise_category", "exercise_name", "wkt_step_name"),  # titles of exercises
    "workout_step": ("message_index", "exercise_category", "exercise_name"),  # a set's exercise
    "sport": ("sport", "sub_sport"),  # the sport of a session summarised from records
}


def fields_read(message: str) -> frozenset[str]:
    """Every FIT field of ``message`` that the row builders read."""
    out = set(MESSAGE_FIELDS.get(message, ()))
    for col in COLUMNS.get(message, ()):
        out.update(col.fit)
        if col.plus:
            out.add(col.plus)
    return frozenset(out)
