"""runlift.standins.fit_writer: real FIT files from Garmin's encoder, read back by two decoders."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import warnings

import pytest

fitparse = pytest.importorskip("fitparse")
garmin_fit_sdk = pytest.importorskip("garmin_fit_sdk")

from garmin_fit_sdk import Decoder, Profile, Stream  # noqa: E402 - after importorskip

from runlift.standins import fit_writer  # noqa: E402 - after importorskip
from runlift.standins.fit_writer import SynthSet, demo_fit_files, encode_run, encode_strength, vary  # noqa: E402 - after importorskip

UTC = dt.UTC
FIT_EPOCH_S = 631065600
START = dt.datetime(2026, 11, 24, 13, 30, 0, tzinfo=UTC)
OFFSET = -7 * 3600
CATEGORY_NAMES = Profile["types"]["exercise_category"]


def sdk_decode(data: bytes) -> dict:
    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    assert errors == []
    return messages


def fitparse_messages(data: bytes) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # unknown fields / bad values would warn
        ff = fitparse.FitFile(io.BytesIO(data), check_crc=True)
        return list(ff.get_messages())


def values(msgs: list, name: str) -> list[dict]:
    return [m.get_values() for m in msgs if m.name == name]


@pytest.fixture(scope="module")
def run_args() -> dict:
    return dict(start_utc=START, utc_offset_s=OFFSET, duration_s=1800, distance_m=5123.4, avg_hr=152,
                cadence_spm=172.0, ascent_m=35.0, seed=7)


@pytest.fixture(scope="module")
def run_data(run_args) -> bytes:
    return encode_run(**run_args)


SETS = [
    SynthSet("squat", 5, 100.0, subtype=6),
    SynthSet("squat", 5, 102.5, subtype=6),
    SynthSet("deadlift", 3, 140.0, duration_s=35.5, rest_s=150.0),
    SynthSet("bench_press", 8, 61.2),
    SynthSet("row", 10, 27.5),
    SynthSet("lunge", 12, 17.5),
    SynthSet("leg_curl", 12, 40.0),
    SynthSet("hip_raise", 10, 90.0),
    SynthSet("plank", 1, 0.0, duration_s=60.0, rest_s=60.0),
    SynthSet("unknown", 10, 20.0),
]


@pytest.fixture(scope="module")
def strength_data() -> bytes:
    return encode_strength(start_utc=START, utc_offset_s=OFFSET, sets=SETS, avg_hr=112, seed=3)


# --- runs -------------------------------------------------------------------------------------

def test_run_with_fitparse(run_data, run_args):
    msgs = fitparse_messages(run_data)
    names = [m.name for m in msgs]
    assert names[0] == "file_id" and names[-1] == "activity"
    assert names[-4:] == ["event", "lap", "session", "activity"]
    assert names.index("event") < names.index("record")

    fid = values(msgs, "file_id")[0]
    assert fid["type"] == "activity" and fid["manufacturer"] == "garmin"
    assert fid["serial_number"] == 3_900_000_001

    records = values(msgs, "record")
    assert abs(len(records) - run_args["duration_s"]) <= 1
    assert records[0]["timestamp"] == START.replace(tzinfo=None)
    assert all((b["timestamp"] - a["timestamp"]).total_seconds() == 1
               for a, b in zip(records, records[1:], strict=False))
    assert records[-1]["distance"] == pytest.approx(run_args["distance_m"], abs=0.01)
    dists = [r["distance"] for r in records]
    assert dists == sorted(dists)
    for r in records:
        assert r["position_lat"] is not None and r["position_long"] is not None
        assert 0.5 < r["enhanced_speed"] < 8 and r["speed"] == r["enhanced_speed"]
        assert 60 < r["heart_rate"] < 210
        assert 70 <= r["cadence"] <= 100  # strides per minute, half of ~172 steps/min
        assert r["altitude"] == r["enhanced_altitude"]
        assert 150 < r["stance_time"] < 400 and 50 < r["vertical_oscillation"] < 140
        assert 500 < r["step_length"] < 2000
    steps = [2 * (r["cadence"] + r["fractional_cadence"]) for r in records]
    assert sum(steps) / len(steps) == pytest.approx(run_args["cadence_spm"], abs=2.0)
    hrs = [r["heart_rate"] for r in records]
    assert max(hrs) - min(hrs) > 20  # warm-up and variation, not a constant
    lat_deg = records[0]["position_lat"] * 180 / 2**31
    assert 39 < lat_deg < 41

    (session,) = values(msgs, "session")
    assert session["sport"] == "running" and session["sub_sport"] == "generic"
    assert abs(session["total_distance"] - run_args["distance_m"]) <= 0.5
    assert session["total_elapsed_time"] == session["total_timer_time"] == run_args["duration_s"]
    assert session["start_time"] == START.replace(tzinfo=None)
    assert abs(session["avg_heart_rate"] - run_args["avg_hr"]) <= 1
    cadence = session.get("avg_running_cadence", session.get("avg_cadence"))  # subfield name in fitparse
    assert abs(cadence + session["avg_fractional_cadence"] - run_args["cadence_spm"] / 2) <= 1.0
    assert session["total_strides"] == pytest.approx(run_args["duration_s"] / 60 * run_args["cadence_spm"] / 2,
                                                     rel=0.03)
    assert abs(session["total_ascent"] - run_args["ascent_m"]) <= 2
    assert session["total_calories"] > 0 and session["num_laps"] >= 5 and session["first_lap_index"] == 0

    laps = values(msgs, "lap")
    assert len(laps) == session["num_laps"] == 6  # auto-lap every km over 5.12 km
    assert sum(lap["total_distance"] for lap in laps) == pytest.approx(session["total_distance"], abs=0.1)
    assert sum(lap["total_elapsed_time"] for lap in laps) == pytest.approx(run_args["duration_s"])
    assert [lap["lap_trigger"] for lap in laps] == ["distance"] * 5 + ["session_end"]

    (activity,) = values(msgs, "activity")
    assert activity["num_sessions"] == 1
    assert (activity["local_timestamp"] - activity["timestamp"]).total_seconds() == OFFSET
    events = values(msgs, "event")
    assert [(e["event"], e["event_type"]) for e in events] == [("timer", "start"), ("timer", "stop_all")]


def test_run_with_garmin_sdk(run_data, run_args):
    m = sdk_decode(run_data)
    assert abs(len(m["record_mesgs"]) - run_args["duration_s"]) <= 1
    (session,) = m["session_mesgs"]
    assert abs(session["total_distance"] - run_args["distance_m"]) <= 0.5
    assert session["sport"] == "running"
    (activity,) = m["activity_mesgs"]
    ts = int(activity["timestamp"].timestamp()) - FIT_EPOCH_S
    assert activity["local_timestamp"] - ts == OFFSET  # local_date_time stays a raw number
    assert m["file_id_mesgs"][0]["type"] == "activity"
    assert m["device_info_mesgs"][0]["manufacturer"] == "garmin"


def test_run_options():
    data = encode_run(start_utc=START, utc_offset_s=3600, duration_s=600, distance_m=1500.0, seed=1,
                      with_positions=False, with_dynamics=False, sub_sport="treadmill")
    msgs = fitparse_messages(data)
    records = values(msgs, "record")
    assert len(records) == 600
    assert all("position_lat" not in r and "stance_time" not in r for r in records)
    (session,) = values(msgs, "session")
    assert session["sub_sport"] == "treadmill"
    assert abs(session["total_distance"] - 1500.0) <= 0.5
    sdk_decode(data)


def test_run_is_deterministic(run_data, run_args):
    assert encode_run(**run_args) == run_data
    assert encode_run(**{**run_args, "seed": 8}) != run_data


def test_definition_cache_gives_identical_bytes(monkeypatch, run_args):
    short = {**run_args, "duration_s": 400, "distance_m": 1300.0}
    fast_run = encode_run(**short)
    fast_strength = encode_strength(start_utc=START, utc_offset_s=OFFSET, sets=SETS[:4])
    monkeypatch.setattr(fit_writer, "USE_DEFINITION_CACHE", False)
    assert encode_run(**short) == fast_run
    assert encode_strength(start_utc=START, utc_offset_s=OFFSET, sets=SETS[:4]) == fast_strength


# --- strength ---------------------------------------------------------------------------------

def test_strength_with_fitparse(strength_data):
    msgs = fitparse_messages(strength_data)
    names = [m.name for m in msgs]
    assert names[0] == "file_id" and names[-1] == "activity"

    sets = values(msgs, "set")
    assert [s["set_type"] for s in sets] == ["active", "rest"] * (len(SETS) - 1) + ["active"]
    assert [s["message_index"] for s in sets] == list(range(len(sets)))
    active = [s for s in sets if s["set_type"] == "active"]
    assert len(active) == len(SETS)
    for got, want in zip(active, SETS, strict=True):
        assert got["repetitions"] == want.reps
        assert got["weight"] == pytest.approx(want.weight_kg, abs=1 / 32)
        assert got["duration"] == pytest.approx(want.duration_s, abs=0.001)
        assert got["weight_display_unit"] == "kilogram"
        cats = got["category"]
        assert len(cats) == 3 and {CATEGORY_NAMES[c] for c in cats} == {want.category}
        subs = got["category_subtype"]
        assert set(subs) == ({want.subtype} if want.subtype is not None else {None})
    rests = [s for s in sets if s["set_type"] == "rest"]
    for got, want in zip(rests, SETS, strict=False):
        assert got["duration"] == pytest.approx(want.rest_s)
        assert "repetitions" not in got and "weight" not in got
    for a, b in zip(sets, sets[1:], strict=False):
        assert a["timestamp"] == b["start_time"]  # back to back

    (session,) = values(msgs, "session")
    assert (session["sport"], session["sub_sport"]) == ("training", "strength_training")
    records = values(msgs, "record")
    assert abs(len(records) - session["total_elapsed_time"]) <= 1
    assert all(set(r) == {"timestamp", "heart_rate"} for r in records)
    assert abs(session["avg_heart_rate"] - 112) <= 1
    assert session["num_laps"] == 1 and len(values(msgs, "lap")) == 1
    (activity,) = values(msgs, "activity")
    assert (activity["local_timestamp"] - activity["timestamp"]).total_seconds() == OFFSET


def test_strength_with_garmin_sdk(strength_data):
    m = sdk_decode(strength_data)
    active = [s for s in m["set_mesgs"] if s["set_type"] == "active"]
    assert [s["category"][0] for s in active] == [s.category for s in SETS]
    assert [s["repetitions"] for s in active] == [s.reps for s in SETS]
    assert [s["weight"] for s in active] == pytest.approx([s.weight_kg for s in SETS], abs=1 / 32)
    (session,) = m["session_mesgs"]
    assert abs(len(m["record_mesgs"]) - session["total_elapsed_time"]) <= 1
    assert session["sub_sport"] == "strength_training"


def test_strength_rejects_unknown_category():
    with pytest.raises(ValueError):
        encode_strength(start_utc=START, utc_offset_s=0, sets=[SynthSet("squats", 5, 60.0)])


# --- vary -------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["run", "strength"])
def test_vary(which, run_data, strength_data):
    data = run_data if which == "run" else strength_data
    copy = vary(data, 3)
    assert copy != data and len(copy) == len(data)
    assert hashlib.sha256(copy).hexdigest() != hashlib.sha256(data).hexdigest()
    assert vary(data, 3) == copy and vary(data, 4) != copy and vary(data, 0) == data

    a, b = fitparse_messages(data), fitparse_messages(copy)  # check_crc=True
    fa, fb = values(a, "file_id")[0], values(b, "file_id")[0]
    assert fb["serial_number"] == fa["serial_number"] + 3
    assert (fb["time_created"] - fa["time_created"]).total_seconds() == 3
    for name in ("record", "set", "lap", "session", "activity", "device_info"):
        assert values(a, name) == values(b, name)
    m = sdk_decode(copy)
    assert len(m["record_mesgs"]) == len(sdk_decode(data)["record_mesgs"])


# --- demo files -------------------------------------------------------------------------------

END = dt.date(2026, 11, 24)
WEEKS = 3


@pytest.fixture(scope="module")
def demo() -> list[tuple[str, bytes]]:
    return demo_fit_files(END, tz="America/Denver", weeks=WEEKS)


def test_demo_is_deterministic(demo):
    again = demo_fit_files(END, tz="America/Denver", weeks=WEEKS)
    assert [n for n, _ in again] == [n for n, _ in demo]
    assert all(a == b for (_, a), (_, b) in zip(again, demo, strict=True))
    other = demo_fit_files(END - dt.timedelta(days=7), tz="America/Denver", weeks=1)
    # another end date gives other files, not copies of these (all of them, not only other[0])
    assert {b for _, b in other}.isdisjoint(b for _, b in demo)


def test_demo_spans_weeks_and_is_realistic(demo):
    first = END - dt.timedelta(days=7 * WEEKS - 1)
    names = [n for n, _ in demo]
    assert names == sorted(names) and len(set(names)) == len(names)
    dates = [dt.date.fromisoformat(n[:10]) for n in names]
    assert all(first <= d <= END for d in dates)
    weeks: dict[int, dict[str, int]] = {}
    for n, d in zip(names, dates, strict=True):
        kind = n.rsplit("-", 1)[1].removesuffix(".fit")
        assert kind in ("run", "strength")
        w = (d - first).days // 7
        weeks.setdefault(w, {"run": 0, "strength": 0})[kind] += 1
    assert sorted(weeks) == list(range(WEEKS))
    for counts in weeks.values():
        assert 3 <= counts["run"] <= 4 and 2 <= counts["strength"] <= 3

    serials = set()
    for name, data in demo:
        m = sdk_decode(data)
        (session,) = m["session_mesgs"]
        (activity,) = m["activity_mesgs"]
        ts = int(activity["timestamp"].timestamp()) - FIT_EPOCH_S
        offset = activity["local_timestamp"] - ts
        assert offset in (-7 * 3600, -6 * 3600)  # Denver, MST / MDT
        start_local = session["start_time"] + dt.timedelta(seconds=offset)
        assert name.startswith(start_local.strftime("%Y-%m-%d-%H-%M-%S"))
        serials.add(m["file_id_mesgs"][0]["serial_number"])
        if name.endswith("-run.fit"):
            assert 5000 <= session["total_distance"] <= 16000
            assert abs(len(m["record_mesgs"]) - session["total_elapsed_time"]) <= 1
            pace = session["total_elapsed_time"] / (session["total_distance"] / 1000)
            assert 240 <= pace <= 420
        else:
            active = [s for s in m["set_mesgs"] if s["set_type"] == "active"]
            exercises = {s["category"][0] for s in active}
            assert 12 <= len(active) <= 18 and 4 <= len(exercises) <= 6
            assert all(s["category"][0] in CATEGORY_NAMES.values() for s in active)
            assert all(0 <= s["weight"] <= 160 and 1 <= s["repetitions"] <= 20 for s in active)
    assert len(serials) == 1  # one watch
