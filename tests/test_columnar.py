"""The columnar FIT decoder (connectors/fit/columnar.py) against the reference decoder.

* Differential, corpus: every file of ../shared/fit-corpus is decoded by both decoders; status,
  reason, file fields, every session / lap / set row and every record value must be equal (floats
  within the field's resolution), and message counts too. Where they disagree, the goldens
  (tests/golden_corpus.py) and Garmin's own decoder (garmin-fit-sdk) decide; every such cell is
  listed in KNOWN_DISAGREEMENTS with the byte-level reason.
* Differential, generated files: fit_writer.encode_run / encode_strength with several seeds and with
  random arguments (hypothesis), and byte transforms that Garmin's encoder never writes: big-endian
  definitions, compressed-timestamp headers, chained files (runlift.standins.fit_bytes).
* Columns of any message type (decode_columns): equal to fitparse's values message by message.
* The deliberate differences (see connectors/fit/columnar.py): each shown on a constructed file.
* Fuzz (hypothesis): truncated, bit-flipped and random inputs never raise, finish fast, bounded
  memory, and say why they are not ok; damaged files decode as the reference decodes them.
"""

from __future__ import annotations

import datetime as dt
import struct
import time
import tracemalloc
from contextlib import contextmanager

import numpy as np
import pyarrow as pa
import pytest

fitparse = pytest.importorskip("fitparse")
garmin_fit_sdk = pytest.importorskip("garmin_fit_sdk")
from hypothesis import HealthCheck, given, settings  # noqa: E402 - after importorskip
from hypothesis import strategies as st  # noqa: E402 - after importorskip

from runlift.connectors.fit import columnar, fields, rows  # noqa: E402 - after importorskip
from runlift.connectors.fit.columnar import ColumnarDecoder, decode_columns, records_as_lists  # noqa: E402 - after importorskip
from runlift.connectors.fit.contract import (  # noqa: E402 - after importorskip
    FILE_COLUMNS,
    LAP_COLUMNS,
    RECORD_COLUMNS,
    SESSION_COLUMNS,
    SET_COLUMNS,
    WEIGHT_COLUMNS,
    DecodedFit,
)
from runlift.connectors.fit.reference import FitparseDecoder  # noqa: E402 - after importorskip
from runlift.standins import fit_writer  # noqa: E402 - after importorskip
from runlift.standins.fit_bytes import (  # noqa: E402 - after importorskip
    RECORD,
    Definition,
    Message,
    compress_timestamps,
    crc,
    read_fit,
    redefine,
    to_endian,
    write_fit,
)

from conftest import CORPUS  # noqa: E402 - after importorskip
from golden_corpus import GOLDEN  # noqa: E402 - after importorskip

UTC = dt.UTC
CORPUS_FILES = sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.suffix.lower() == ".fit")
STATUSES = {"ok", "partial", "rejected", "skipped"}

# Half the resolution of each record column (FIT scale, then the unit conversion of decode.py).
RECORD_TOL = {
    "position_lat_deg": 90.0 / 2**31, "position_long_deg": 90.0 / 2**31, "distance_m": 0.005,
    "speed_mps": 0.0005, "cadence_rpm": 0.5 / 128, "altitude_m": 0.1, "vertical_oscillation_m": 0.5e-4,
    "stance_time_s": 0.5e-4, "step_length_m": 0.5e-4,
}

# Cells where python-fitparse 2.7 and the columnar decoder disagree, and why. The cause is always
# fitparse's "last writer wins, even when it is None": a component expanded from an *invalid* field
# overwrites the valid value of a real field of the same name.
#  * garmin-fenix6s sessions/laps: the definition lists enhanced_avg_speed, enhanced_max_speed (valid)
#    before avg_speed, max_speed (0xFFFF, invalid); their components enhanced_avg_speed /
#    enhanced_max_speed = None overwrite the real values, so fitparse says avg/max speed is NULL.
#    Goldens decide: avg speed = golden distance / golden timer time (e.g. running.fit 8587.41 m /
#    2952.769 s = 2.908 m/s, the columnar value); garmin-fit-sdk gives the columnar values too.
#  * null_compressed_speed_dist.fit records: distance (valid) comes before compressed_speed_distance
#    (0xFFFFFF, invalid), whose distance component = None overwrites it in every record. Goldens
#    decide: the last record's distance is the golden session distance (13400.14 m); garmin-fit-sdk agrees.
_SPEEDS = {("sessions", "avg_speed_mps"), ("sessions", "max_speed_mps"), ("laps", "avg_speed_mps")}
KNOWN_DISAGREEMENTS: dict[str, set[tuple[str, str]]] = {
    "fitparse-tests/null_compressed_speed_dist.fit": {("records", "distance_m")},
    **{f"garmin-fenix6s/{n}.fit": _SPEEDS for n in (
        "duathlon", "hiking", "running", "running_with_3x1km_workout", "running_workout_2x(5x400m_3min)_3min",
        "trail_running", "walking")},
    **{f"garmin-fenix6s/{n}.fit": {("sessions", "avg_speed_mps")} for n in (
        "training", "training_strength", "training_with_workout",
        "training_4pull_up_3push_up_3curl_3bench_press_1deadlift_1sit_up_5unknown")},
}
# garmin-fit-sdk's fields for the columns above (the columnar decoder's rule: first present one)
SDK_FIELDS = {"avg_speed_mps": ("enhanced_avg_speed", "avg_speed"),
              "max_speed_mps": ("enhanced_max_speed", "max_speed"), "distance_m": ("distance",)}


# --- the reference, once per file ---------------------------------------------------------------------

PIPELINE_TYPES = {"file_id", "session", "lap", "set", "record", "activity", "exercise_title", "workout_step", "sport"}


def fixed_values(msg) -> dict:
    """fitparse's values with the columnar decoder's rule for one name written twice: a present
    value beats None, a real field beats a component, else the later one; developer fields are not
    profile fields."""
    vals, rank = {}, {}
    for fd in msg.fields:
        if fd.field is not None and getattr(fd.field, "field_type", "") == "devfield":
            continue
        name = fd.name if fd.name else fd.def_num
        prio = 2 if fd.field_def is not None else (3 if name == "timestamp" else 1)
        eff = prio if fd.value is not None else 0
        if rank.get(name, -1) > eff:
            continue
        vals[name], rank[name] = fd.value, eff
    return vals


class RefRun:
    """python-fitparse through the reference decoder, in one pass: ``fixed`` = the reference with
    fixed_values() as get_values(); ``raw`` = the reference as it is (decoded a second time only when
    the rule changes a value of a message type the pipeline reads); ``values`` = fixed_values() of
    every message of the ``keep`` types that the reference decoder took (not a cut one)."""

    def __init__(self, data: bytes, keep: set[str] = frozenset()):
        self.values: dict[str, list[dict]] = {t: [] for t in keep}
        self.pipeline_diff = False
        get_values, get_messages = fitparse.records.DataMessage.get_values, fitparse.FitFile.get_messages
        run = self

        def fixed_get_values(msg):
            raw, fixed = get_values(msg), fixed_values(msg)
            if msg.name in PIPELINE_TYPES and any(raw.get(k) != v for k, v in fixed.items()):
                run.pipeline_diff = True
            return fixed

        def collect(msg):
            if msg.name in run.values:
                run.values[msg.name].append(fixed_values(msg))

        def observed_get_messages(ff, *args, **kwargs):
            pending = None
            try:
                for msg in get_messages(ff, *args, **kwargs):
                    if pending is not None:
                        collect(pending)
                    pending = msg
                    yield msg
            except GeneratorExit:  # the reference stopped on ``pending`` without taking it
                raise
            except Exception:
                if pending is not None:
                    collect(pending)
                raise
            if pending is not None:
                collect(pending)

        fitparse.records.DataMessage.get_values = fixed_get_values
        fitparse.FitFile.get_messages = observed_get_messages
        try:
            self.fixed = FitparseDecoder().decode(data)
        finally:
            fitparse.records.DataMessage.get_values = get_values
            fitparse.FitFile.get_messages = get_messages
        self.raw = FitparseDecoder().decode(data) if self.pipeline_diff else self.fixed


_REF_CACHE: dict[str, RefRun] = {}
API_TYPES = {"file_id", "session", "lap", "set", "exercise_title", "event", "device_info", "split"}


def reference(name: str) -> RefRun:
    if name not in _REF_CACHE:
        data = (CORPUS / name).read_bytes()
        keep = API_TYPES | ({"record"} if len(data) < 200_000 else set())
        _REF_CACHE[name] = RefRun(data, keep)
    return _REF_CACHE[name]


# --- comparing decoded files --------------------------------------------------------------------------

def close(a, b, tol: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= tol + 1e-12 * abs(a)
    return a == b


def record_diffs(ref: dict[str, list], got: dict) -> dict[str, int]:
    """Column -> number of rows that differ (beyond the column's resolution)."""
    out = {}
    ref, got_lists = records_as_lists(ref), records_as_lists(got)
    for col in RECORD_COLUMNS:
        a, b = ref[col], got_lists[col]
        assert len(a) == len(b), (col, len(a), len(b))
        tol = RECORD_TOL.get(col, 0.0)
        bad = sum(not close(x, y, tol) for x, y in zip(a, b, strict=True))
        if bad:
            out[col] = bad
    return out


def decoded_diffs(ref: DecodedFit, got: DecodedFit) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for attr in ("status", "error", "utc_offset_s"):
        if getattr(ref, attr) != getattr(got, attr):
            out.add((attr, f"{getattr(ref, attr)!r} != {getattr(got, attr)!r}"))
    for k, v in ref.file.items():
        if not close(v, got.file[k]):
            out.add(("file", k))
    for table in ("sessions", "laps", "sets", "weights"):
        a, b = getattr(ref, table), getattr(got, table)
        if len(a) != len(b):
            out.add((table, f"{len(a)} rows != {len(b)} rows"))
            continue
        for x, y in zip(a, b, strict=True):
            assert list(x) == list(y)
            out |= {(table, c) for c in x if not close(x[c], y[c])}
    if ref.n_records != got.n_records:
        out.add(("records", f"{ref.n_records} rows != {got.n_records} rows"))
    else:
        out |= {("records", c) for c in record_diffs(ref.records, got.records)}
    return out


def check_goldens(name: str, got: DecodedFit) -> None:
    g = GOLDEN[name]
    assert got.status == g["status"]
    assert got.file["file_type"] == str(g["file_type"])
    assert (got.error is None) == (g["status"] == "ok")
    assert got.n_records == g["records"]
    assert len(got.sessions) == len(g["sessions"])
    for s, w in zip(got.sessions, g["sessions"], strict=True):
        assert (s["sport"], s["is_summarised"]) == (w["sport"], w["summarised"])
        if not s["is_summarised"]:
            assert s["sub_sport"] == w["sub_sport"]
        assert close(s["total_distance_m"], w["distance_m"], 0.01)
        assert close(s["total_timer_time_s"], w["timer_s"], 0.001)
    weights = [(w["measured_at_utc"], w["body_mass_kg"], w["body_fat_percent"], w["user_profile_index"])
               for w in got.weights]
    assert weights == g.get("weights", [])
    active = [s for s in got.sets if s["set_type"] == "active"]
    if g["strength"] is None:
        assert not active
    else:
        w = g["strength"]
        assert len(active) == w["active_sets"]
        assert sum(s["repetitions"] or 0 for s in active) == w["total_reps"]
        assert sum((s["repetitions"] or 0) * (s["weight_kg"] or 0) for s in active) == pytest.approx(w["volume_kg"])
        assert sorted({s["category_names"][0] for s in active}) == sorted(w["categories"])


def sdk_messages(data: bytes) -> dict:
    messages, _ = garmin_fit_sdk.Decoder(garmin_fit_sdk.Stream.from_byte_array(bytearray(data))).read(
        merge_heart_rates=False)
    return messages


def golden_decides(name: str, data: bytes, got: DecodedFit, cells: set[tuple[str, str]]) -> None:
    """The goldens (and garmin-fit-sdk, Garmin's decoder) settle every known disagreement."""
    g = GOLDEN[name]
    sdk = sdk_messages(data)
    for table, col in cells:
        key = {"sessions": "session_mesgs", "laps": "lap_mesgs", "records": "record_mesgs"}[table]
        sdk_rows = sdk[key]
        mine = (records_as_lists(got.records)[col] if table == "records"
                else [r[col] for r in getattr(got, table)])
        want = [next((r[f] for f in SDK_FIELDS[col] if r.get(f) is not None), None) for r in sdk_rows]
        assert len(mine) == len(want), (table, col)
        assert all(close(a, b, 1e-9) for a, b in zip(mine, want, strict=True)), (table, col)
        if (table, col) == ("sessions", "avg_speed_mps"):
            for s, w in zip(got.sessions, g["sessions"], strict=True):
                assert s[col] == pytest.approx(w["distance_m"] / w["timer_s"], abs=0.001)
        if (table, col) == ("records", "distance_m"):
            assert np.nanmax(got.records[col]) == pytest.approx(g["sessions"][0]["distance_m"], abs=0.005)


# --- the corpus ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_differential(name):
    data = (CORPUS / name).read_bytes()
    ref = reference(name)
    got = ColumnarDecoder().decode(data)
    assert "fallback" not in got.decoder, got.decoder
    assert isinstance(got.records["timestamp_utc"], np.ndarray)
    assert_declared_columns(got)
    assert_declared_columns(ref.raw)
    # with fitparse's duplicate-name rule fixed, every value is fitparse's
    assert decoded_diffs(ref.fixed, got) == set()
    # against the reference as it is: equal except for the known, explained cells, where goldens decide
    known = KNOWN_DISAGREEMENTS.get(name, set())
    assert decoded_diffs(ref.raw, got) == known
    if known:
        golden_decides(name, data, got, known)
    check_goldens(name, got)


def _py(v):
    """A decode_columns value as the Python value fitparse gives (None for NULL)."""
    if v is None or v is np.ma.masked:
        return None
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else v.astype("datetime64[us]").astype(dt.datetime)
    if isinstance(v, np.floating):
        return None if np.isnan(v) else float(v)
    if isinstance(v, np.generic):
        return v.item()
    return v


def _same_value(mine, theirs) -> bool:
    if isinstance(theirs, (dt.time, bool)):
        return True  # times of day and booleans: not compared here (rare, not in the pipeline)
    if isinstance(theirs, int) and not isinstance(theirs, bool) and isinstance(mine, str):
        return mine == str(theirs)  # named type without a name for this value: the number as text
    if isinstance(theirs, dt.datetime):
        return mine == theirs
    if isinstance(theirs, int) and theirs < columnar.MIN_DATE_TIME and mine is None:
        return True  # date_time below 0x10000000 (seconds since power-up): NULL in columns
    if isinstance(theirs, tuple) or isinstance(mine, tuple):
        return isinstance(mine, tuple) and len(mine) == len(theirs) and all(
            close(a, b) for a, b in zip(mine, theirs, strict=True))
    return close(mine, theirs, 1e-9)


@pytest.mark.parametrize("name", [n for n in CORPUS_FILES if n.startswith(("garmin-fenix6s/", "misc/"))
                                  or GOLDEN[n]["status"] != "skipped"])
def test_corpus_columns_match_fitparse(name):
    """decode_columns: event, device_info, split (and the stored types) equal fitparse's values."""
    ref = reference(name)
    types = sorted(ref.values)
    cols, _ = decode_columns((CORPUS / name).read_bytes(), types)
    for t in types:
        want = ref.values[t]
        got = cols[t]
        n = len(next(iter(got.values()))) if got else 0
        assert n == len(want), (t, n, len(want))
        for i, row in enumerate(want):
            for k, v in row.items():
                if not isinstance(k, str) or k.startswith("unknown_"):
                    continue
                mine = _py(got[k][i]) if k in got else None
                if v is None:
                    assert mine is None, (t, i, k, mine)
                else:
                    assert _same_value(mine, v), (t, i, k, mine, v)


def test_fallback_rate_over_the_corpus(capsys):
    decoder = ColumnarDecoder()
    before = sum(columnar.FALLBACKS.values())
    for name in CORPUS_FILES:
        decoder.decode((CORPUS / name).read_bytes())
    n = sum(decoder.fallbacks.values())
    rate = n / len(CORPUS_FILES)
    with capsys.disabled():
        print(f"\ncolumnar fallback rate over ../shared/fit-corpus: {n}/{len(CORPUS_FILES)} files "
              f"({rate:.1%}); reasons: {dict(decoder.fallbacks) or 'none'}")
    assert sum(columnar.FALLBACKS.values()) - before == n
    assert rate < 0.10


# --- generated files -----------------------------------------------------------------------------------

START = dt.datetime(2026, 3, 14, 6, 30, 5, tzinfo=UTC)


def _run(seed: int, **kw) -> bytes:
    args = dict(start_utc=START + dt.timedelta(days=seed), utc_offset_s=3600 * (seed % 5 - 2),
                duration_s=300 + 97 * seed, distance_m=900.0 + 310.0 * seed, seed=seed)
    args.update(kw)
    return fit_writer.encode_run(**args)


def _strength(seed: int) -> bytes:
    sets = fit_writer.demo_strength_sets(seed, seed, 0.5)
    return fit_writer.encode_strength(start_utc=START + dt.timedelta(days=seed, hours=11), utc_offset_s=-7 * 3600,
                                 sets=sets, seed=seed)


GENERATED = {
    **{f"run-{s}": (lambda s=s: _run(s)) for s in (1, 2, 3)},
    "run-no-gps-no-dynamics": lambda: _run(4, with_positions=False, with_dynamics=False, sub_sport="treadmill"),
    **{f"strength-{s}": (lambda s=s: _strength(s)) for s in (1, 2)},
}


@pytest.fixture(scope="module")
def generated() -> dict[str, bytes]:
    return {k: f() for k, f in GENERATED.items()}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_files(generated, name):
    data = generated[name]
    ref = RefRun(data)
    got = ColumnarDecoder().decode(data)
    assert got.status == "ok" and "fallback" not in got.decoder
    assert decoded_diffs(ref.raw, got) == set()  # Garmin's encoder: no case where fitparse is wrong
    assert got.n_records > 200 and got.sessions


@pytest.mark.parametrize("name", ["run-1", "strength-1", "corpus:fitparse-tests/Activity.fit",
                                  "corpus:garmin-fenix6s/training.fit",
                                  "corpus:fitparse-tests/2015-10-13-08-43-15.fit"])
def test_transforms_decode_like_the_reference_and_like_the_original(generated, name):
    data = (CORPUS / name[7:]).read_bytes() if name.startswith("corpus:") else generated[name]
    decoder = ColumnarDecoder()
    original = decoder.decode(data)
    variants = {
        "big-endian": to_endian(data, True),
        "little-endian": to_endian(data, False),
        "compressed timestamps": compress_timestamps(data),
        "compressed timestamps, big-endian": to_endian(compress_timestamps(data, every=3), True),
    }
    for what, variant in variants.items():
        got = decoder.decode(variant)
        ref = RefRun(variant)
        assert decoded_diffs(ref.raw, got) - KNOWN_DISAGREEMENTS.get(name[7:], set()) == set(), what
        same = decoded_diffs(original, got)
        assert same == set(), (what, same)  # the transforms do not change what the file says
    assert not decoder.fallbacks


_SETS = st.lists(st.builds(fit_writer.SynthSet,
                           st.sampled_from(["squat", "deadlift", "bench_press", "row", "plank", "unknown"]),
                           st.integers(1, 20), st.floats(0, 200).map(lambda w: round(w * 16) / 16),
                           st.floats(5, 90), st.floats(10, 200)), min_size=1, max_size=6)


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.one_of(
    st.fixed_dictionaries({"duration_s": st.integers(60, 400), "distance_m": st.floats(50, 3000),
                           "avg_hr": st.integers(90, 190), "cadence_spm": st.floats(120, 200),
                           "ascent_m": st.floats(0, 200), "seed": st.integers(0, 2**31 - 1),
                           "utc_offset_s": st.integers(-12, 14).map(lambda h: h * 3600),
                           "with_positions": st.booleans(), "with_dynamics": st.booleans()}),
    st.fixed_dictionaries({"sets": _SETS, "seed": st.integers(0, 2**31 - 1), "avg_hr": st.integers(80, 160),
                           "utc_offset_s": st.integers(-12, 14).map(lambda h: h * 3600)})),
    st.sampled_from(["as written", "big-endian", "compressed timestamps", "chained x2"]))
def test_random_encoded_files_decode_like_the_reference(args, transform):
    """Random valid files from Garmin's encoder (and byte transforms of them): identical to the reference."""
    start = dt.datetime(2025, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=args["seed"] % 10**8)
    data = (fit_writer.encode_strength(start_utc=start, **args) if "sets" in args
            else fit_writer.encode_run(start_utc=start, **args))
    data = {"as written": lambda d: d, "big-endian": lambda d: to_endian(d, True),
            "compressed timestamps": compress_timestamps,
            "chained x2": lambda d: d + to_endian(d, True)}[transform](data)
    got = ColumnarDecoder().decode(data)
    assert got.status == "ok" and "fallback" not in got.decoder
    assert decoded_diffs(RefRun(data).raw, got) == set()


def test_compressed_timestamps_are_really_written(generated):
    data = compress_timestamps(generated["run-1"])
    headers = [e.time_offset for f in read_fit(data) for e in f if isinstance(e, Message)]
    assert sum(h is not None for h in headers) > 200
    assert ColumnarDecoder().decode(data).records["timestamp_utc"].astype("int64").tolist() == \
        ColumnarDecoder().decode(generated["run-1"]).records["timestamp_utc"].astype("int64").tolist()


def test_chained_files(generated):
    a, b, c = generated["run-1"], to_endian(generated["strength-1"], True), compress_timestamps(generated["run-2"])
    data = a + b + c
    got = ColumnarDecoder().decode(data)
    ref = RefRun(data)
    assert decoded_diffs(ref.raw, got) == set()
    parts = [ColumnarDecoder().decode(x) for x in (a, b, c)]
    assert got.status == "ok"
    assert got.n_records == sum(p.n_records for p in parts)
    assert [s["sport"] for s in got.sessions] == ["running", "training", "running"]
    assert got.file == parts[0].file
    assert len(got.sets) == len(parts[1].sets)
    # a bad CRC in the second file: the first file's rows are kept, the rest is lost, as in fitparse
    bad = bytearray(data)
    end_b = len(a) + len(b)
    bad[end_b - 1] ^= 0xFF
    got = ColumnarDecoder().decode(bytes(bad))
    assert got.status == "partial" and got.error.startswith("file CRC mismatch")
    assert decoded_diffs(RefRun(bytes(bad)).raw, got) == set()


def test_redefinition_does_not_reset_accumulated_distance():
    """Deliberate difference: fitparse restarts compressed_speed_distance's accumulated distance at 0
    whenever the record definition is written again; the FIT SDK (and this decoder) carry on."""
    data = (CORPUS / "fitparse-tests/compressed-speed-distance.fit").read_bytes()
    again = redefine(data, 20, 100)
    assert len(again) > len(data)
    original, got = ColumnarDecoder().decode(data), ColumnarDecoder().decode(again)
    assert decoded_diffs(original, got) == set()
    dist = got.records["distance_m"]
    assert np.all(np.diff(dist[~np.isnan(dist)]) >= 0)
    assert ("records", "distance_m") in decoded_diffs(RefRun(again).raw, got)  # fitparse's distance drops back


def test_hr_event_timestamps_are_seeded_like_garmin_sdk():
    """The same rule on real data: hr messages (HRM-Swim buffered heart rate) carry a real
    event_timestamp, then 12-bit compressed ones that accumulate onto it. garmin-fit-sdk gives the
    absolute times (the columns hold the last of a message's 8); fitparse restarts from 0."""
    data = (CORPUS / "fitparse-tests/event_timestamp.fit").read_bytes()
    cols, _ = decode_columns(data, ["hr"])
    mine = cols["hr"]["event_timestamp"]
    sdk = [m.get("event_timestamp") for m in sdk_messages(data)["hr_mesgs"]]
    sdk = [x[-1] if isinstance(x, list) else x for x in sdk]
    assert len(mine) == len(sdk) == 1415
    assert np.allclose(mine, np.array(sdk, dtype=float), rtol=0, atol=1e-6)


def test_developer_fields_do_not_shadow_profile_fields():
    """Deliberate difference: a developer field named like a profile field (here the Concept2 app's
    record field "Heart Rate" renamed "heart_rate") does not replace the watch's value; in fitparse's
    get_values() it does."""
    data = (CORPUS / "fitparse-tests/20170518-191602-1740899583.fit").read_bytes()
    i = data.index(b"Heart Rate\0")
    renamed = bytearray(data)
    renamed[i:i + 10] = b"heart_rate"
    end = renamed[0] + struct.unpack_from("<I", renamed, 4)[0]
    struct.pack_into("<H", renamed, end, crc(bytes(renamed[:end])))
    renamed = bytes(renamed)
    original, got = ColumnarDecoder().decode(data), ColumnarDecoder().decode(renamed)
    assert got.status == "ok" and decoded_diffs(original, got) == set()
    assert ("records", "heart_rate_bpm") in decoded_diffs(RefRun(renamed).raw, got)


def seed_distance(data: bytes, at: int, add_m: float) -> bytes:
    """The ``at``-th record written again with a real distance field = its accumulated distance +
    ``add_m`` (a new definition on a free local message), instead of its compressed header."""
    dist = ColumnarDecoder().decode(data).records["distance_m"]
    files, k = [], 0
    for events in read_fit(data):
        used = {e.local for e in events}
        free = next(x for x in range(15, 3, -1) if x not in used)
        out = []
        for e in events:
            if isinstance(e, Message) and e.definition.glob == RECORD:
                if k == at:
                    d = e.definition
                    seeded = Definition.new(free, d.big, RECORD, d.fields + [[5, 4, 0x86]], d.devs)
                    value = int(round((dist[k] + add_m) * 100))
                    out += [seeded, Message.new(seeded, e.payload + struct.pack(">I" if d.big else "<I", value))]
                    k += 1
                    continue
                k += 1
            out.append(e)
        files.append(out)
    return write_fit(files)


def test_real_distance_seeds_the_accumulator():
    """Deliberate difference: a record's real ``distance`` sets the accumulator that
    compressed_speed_distance adds to (Garmin SDK); fitparse ignores it. 256 m = one wrap of the
    12-bit counter (1/16 m), so the later records' low bits still agree with the seed."""
    data = (CORPUS / "fitparse-tests/compressed-speed-distance.fit").read_bytes()
    at = 300
    seeded = seed_distance(data, at, 256.0)
    original, got = ColumnarDecoder().decode(data), ColumnarDecoder().decode(seeded)
    a, b = original.records["distance_m"], got.records["distance_m"]
    assert b[at] == pytest.approx(a[at] + 256.0, abs=0.01)
    assert np.allclose(b[at + 1:], a[at + 1:] + 256.0, atol=0.01)
    assert np.allclose(b[:at], a[:at], equal_nan=True)
    ref = RefRun(seeded).raw
    ref_dist = np.array([np.nan if x is None else x for x in ref.records["distance_m"]])
    # fitparse ignores the real distance, and the new definition restarts its accumulator at 0
    assert ref_dist[at + 1] < a[at] < b[at + 1]


# --- representation and loading -------------------------------------------------------------------------

def test_records_load_into_duckdb_through_arrow(generated):
    """connectors/fit/arrow.py's table() with from_pandas=True (the one change the Arrow conversion needs)."""
    import duckdb

    from runlift.connectors.fit.arrow import SCHEMAS

    got = ColumnarDecoder().decode(_run(5, duration_s=120))
    got.records["heart_rate_bpm"][3] = np.ma.masked
    got.records["speed_mps"][4] = np.nan
    schema = SCHEMAS["fit_records"]
    table = pa.table({n: pa.array(got.records[n], type=schema.field(n).type, from_pandas=True) for n in schema.names},
                     schema=schema)
    con = duckdb.connect()
    con.register("t", table)
    n, hr_null, speed_null, ts_null = con.execute(
        "SELECT count(*), count(*) - count(heart_rate_bpm), count(*) - count(speed_mps), "
        "count(*) - count(timestamp_utc) FROM t").fetchall()[0]
    assert (n, hr_null, speed_null, ts_null) == (120, 1, 1, 0)
    # without from_pandas, NaN would be stored as NaN, not NULL: hence the one-line change
    assert pa.array(got.records["speed_mps"], type=pa.float64()).null_count == 0


def test_columns_of_any_type_load_into_duckdb(generated):
    import duckdb

    cols, error = decode_columns(generated["run-2"])
    assert error is None
    assert len(cols["record"]["timestamp"]) > 200 and len(cols["event"]["event"]) >= 2
    assert set(cols["device_info"]["manufacturer"].tolist()) == {"garmin"}
    con = duckdb.connect()
    for t in ("event", "device_info", "record", "lap", "session"):
        table = pa.table({k: pa.array(v, from_pandas=True) for k, v in cols[t].items()
                          if not (v.dtype == object and any(isinstance(x, tuple) for x in v))})
        con.register(t, table)
        assert con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] == len(next(iter(cols[t].values())))


def test_crc16_matches_garmin():
    rng = np.random.default_rng(1)
    for n in (0, 1, 17, 255, 256, 1000, 4097, 65537, 300_001):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert columnar.crc16(data) == crc(data), n


# --- fuzz -------------------------------------------------------------------------------------------------

FUZZ_SEEDS = ["fitparse-tests/Activity.fit", "fitparse-tests/activity-activity-filecrc.fit",
              "fitparse-tests/antfs-dump.63.fit", "fitparse-tests/DeveloperData.fit",
              "fitparse-tests/2015-10-13-08-43-15.fit", "garmin-fenix6s/training.fit",
              "fitparse-tests/compressed-speed-distance.fit", "misc/unterminated-strings.fit"]
_SEED_DATA = {n: (CORPUS / n).read_bytes() for n in FUZZ_SEEDS}
_FUZZ_DECODER = ColumnarDecoder()


def _check(data: bytes) -> DecodedFit:
    t = time.perf_counter()
    out = _FUZZ_DECODER.decode(data)
    assert time.perf_counter() - t < 1.0
    assert out.status in STATUSES
    assert (out.error is None) == (out.status == "ok")
    assert len({len(v) for v in out.records.values()}) == 1
    assert list(out.records) == list(RECORD_COLUMNS)
    return out


FUZZ = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@FUZZ
@given(st.sampled_from(FUZZ_SEEDS), st.floats(0, 1))
def test_fuzz_truncated(name, frac):
    data = _SEED_DATA[name]
    out = _check(data[:int(len(data) * frac)])
    if frac < 1:
        assert out.status != "ok"


@FUZZ
@given(st.sampled_from(FUZZ_SEEDS), st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 7)),
                                             min_size=1, max_size=8))
def test_fuzz_bit_flips(name, flips):
    data = bytearray(_SEED_DATA[name])
    for where, bit in flips:
        data[int(where * len(data))] ^= 1 << bit
    _check(bytes(data))


@FUZZ
@given(st.binary(max_size=3000), st.booleans())
def test_fuzz_random_bytes(body, with_header):
    data = body
    if with_header:
        head = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
        data = head + struct.pack("<H", crc(head)) + body
    out = _check(data)
    if not with_header and data[8:12] != b".FIT":
        assert out.status == "rejected"


@FUZZ
@given(st.sampled_from(FUZZ_SEEDS), st.integers(0, 2**32 - 1))
def test_fuzz_header_data_size(name, size):
    data = bytearray(_SEED_DATA[name])
    struct.pack_into("<I", data, 4, size)
    _check(bytes(data))


@contextmanager
def fitparse_reads_base_type_numbers():
    """fitparse looks base types up by the whole byte (0x04 is not uint16, it falls back to bytes);
    the FIT spec (and garmin-fit-sdk, and the columnar decoder) read bits 0-4, the base type number."""
    table = fitparse.records.BASE_TYPES
    by_number = {bt.identifier & 0x1F: bt for bt in table.values()}
    added = {b: by_number[b & 0x1F] for b in range(256) if b not in table and b & 0x1F in by_number}
    table.update(added)
    try:
        yield
    finally:
        for b in added:
            del table[b]


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(["fitparse-tests/Activity.fit", "fitparse-tests/DeveloperData.fit",
                        "fitparse-tests/antfs-dump.63.fit", "fitparse-tests/2015-10-13-08-43-15.fit"]),
       st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 7)), min_size=1, max_size=4),
       st.floats(0.3, 1.0))
def test_fuzz_differential_against_the_reference(name, flips, keep):
    """Damaged files decode as the reference decodes them (status, reason, every row), except where
    fitparse itself crashes: an AttributeError on a definition whose unknown field has a size that
    is not a multiple of its type (it formats a warning with field.name, and field is None), which
    the columnar decoder reads as bytes, as fitparse does for known fields."""
    data = bytearray(_SEED_DATA[name] if name in _SEED_DATA else (CORPUS / name).read_bytes())
    for where, bit in flips:
        data[int(where * len(data))] ^= 1 << bit
    data = bytes(data[:max(12, int(len(data) * keep))])
    with fitparse_reads_base_type_numbers():  # also for the files the columnar decoder hands to fitparse
        got = _check(data)
        ref = RefRun(data)
    if "AttributeError: 'NoneType' object has no attribute 'name'" in (ref.raw.error or ""):
        return
    assert decoded_diffs(ref.fixed, got) == set()


def test_adversarial_inputs_use_bounded_memory():
    """Headers that promise 4 GB, definitions of 255 fields x 255 bytes, thousands of definitions."""
    def head(size: int) -> bytes:
        return struct.pack("<BBHI4s", 12, 0x20, 2132, size, b".FIT")

    wide = bytes([0x40, 0, 0]) + struct.pack("<H", 20) + bytes([255]) + bytes([7, 255, 7] * 255)
    many = b"".join(bytes([0x40 | k % 16, 0, 0]) + struct.pack("<H", k) + bytes([1, 0, 1, 2]) for k in range(3000))
    cases = [head(2**32 - 1), head(2**32 - 1) + wide + b"\0" * 100, head(len(wide) + 20_000) + wide + b"\0" * 20_000,
             head(len(many)) + many + b"\0\0", head(50_000) + bytes(range(256)) * 200]
    for data in cases:
        tracemalloc.start()
        try:
            out = _check(data)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert out.status in ("rejected", "partial")
        assert peak < 50 * len(data) + 8_000_000, peak


def test_not_fit_and_empty():
    d = ColumnarDecoder()
    assert (d.decode(b"").status, d.decode(b"").error) == ("rejected", "empty file (0 bytes)")
    assert d.decode(b"hello world, not fit").status == "rejected"
    ref = FitparseDecoder()
    for data in (b"", b"x" * 11, b"\x0e\x10\x00\x00\x00\x00\x00\x00.FIT",
                 b"\x0c\x10\x00\x00\x00\x00\x00\x00.FIT\x00\x00"):
        a, b = ref.decode(data), d.decode(data)
        assert (a.status, a.error) == (b.status, b.error), data


# --- the FIT field mapping (connectors/fit/fields.py): declared once, checked on data ------------------

def assert_declared_columns(d: DecodedFit) -> None:
    """Every row and the records carry exactly the declared columns, in their order."""
    assert tuple(d.file) == FILE_COLUMNS
    for table_rows, cols in ((d.sessions, SESSION_COLUMNS), (d.laps, LAP_COLUMNS), (d.sets, SET_COLUMNS),
                             (d.weights, WEIGHT_COLUMNS)):
        for row in table_rows:
            assert tuple(row) == cols
    assert tuple(d.records) == RECORD_COLUMNS


class _Reads(dict):
    """A message's values that remember which fields a row builder asked for."""

    def __init__(self, values: dict) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)


MAPPING_FILES = ["garmin-fenix6s/training_with_workout.fit", "garmin-fenix6s/running_with_3x1km_workout.fit",
                 "garmin-fenix6s/training_4pull_up_3push_up_3curl_3bench_press_1deadlift_1sit_up_5unknown.fit",
                 "fitparse-tests/Activity.fit", "fitparse-tests/2019-02-17-062644-ELEMNT-297E-195-0.fit",
                 "fitparse-tests/WeightScaleMultiUser.fit"]


def test_row_builders_read_only_declared_fields():
    """The columnar decoder decodes only the FIT fields fields.py declares (columnar._FEW is derived
    from it): the row builders, fed real messages of corpus files, ask for no other field. Every
    message type the builders read occurs in these files, so no builder goes unchecked."""
    read: dict[str, set[str]] = {}
    steps: dict = {}
    titles: dict = {}
    records = {c: [] for c in RECORD_COLUMNS}
    looked_up = []

    def set_row(v):
        looked_up.append(bool(titles and steps))
        return rows.set_row(0, v, steps, titles)

    builders = {
        "file_id": lambda v: rows.file_row(v), "session": lambda v: rows.session_row(0, v, 3600),
        "lap": lambda v: rows.lap_row(0, v), "set": set_row,
        "record": lambda v: rows.record_into(records, 0, v), "activity": lambda v: rows.utc_offset(v),
        "exercise_title": lambda v: rows.add_title(titles, v), "workout_step": lambda v: rows.add_step(steps, v),
        "sport": lambda v: rows.sport_of(v), "weight_scale": lambda v: rows.weight_row(0, v),
    }
    assert set(builders) == set(fields.COLUMNS) | set(fields.MESSAGE_FIELDS)
    for name in MAPPING_FILES:
        steps.clear()
        titles.clear()
        messages = [m for m in fitparse.FitFile(str(CORPUS / name)).get_messages() if m.name in builders]
        first = ("exercise_title", "workout_step")  # so that sets look their titles up, wherever they are
        for msg in [m for m in messages if m.name in first] + [m for m in messages if m.name not in first]:
            values = _Reads(fixed_values(msg))
            builders[msg.name](values)
            read.setdefault(msg.name, set()).update(values.read)
    assert set(read) == set(builders)
    for message, keys in read.items():
        assert keys <= fields.fields_read(message), (message, keys - fields.fields_read(message))
        assert keys, message
    assert any(looked_up)  # sets whose titles were looked up through workout steps


def test_mapping_gives_the_columns_and_schemas():
    """Column lists, quality bounds and Arrow schemas are the declarations of fields.py."""
    from runlift.connectors.fit import arrow, contract

    for table, message in fields.TABLES.items():
        cols = fields.COLUMNS[message]
        assert arrow.SCHEMAS[table].names == [c.name for c in cols]
    assert tuple(c.name for c in fields.SESSION) == contract.SESSION_COLUMNS
    assert list(contract.SET_BOUNDS) == ["repetitions", "weight_kg", "duration_s"]  # the reasons' order
    assert contract.SESSION_BOUNDS["total_distance_m"] == (0.0, 2_000_000.0)
    for cols in fields.COLUMNS.values():
        for c in cols:
            assert c.conv in ("num", "int", "name", "time", "semicircles", "derived"), c
            assert c.type in {"int16", "int32", "int64", "float64", "bool", "string", "timestamp", "list<int32>",
                              "list<string>"}, c
            assert (c.conv == "derived") or c.fit, c  # a converted column reads at least one field


def test_mapping_matches_the_raw_tables(tmp_path):
    """Every declared column exists in its raw table (warehouse/migrations) with the declared type."""
    from runlift.connectors.fit import arrow
    from runlift.warehouse import db as wdb

    con = wdb.connect(tmp_path / "w.duckdb")
    try:
        for table, schema in {**arrow.SCHEMAS, "fit_files": arrow.FILE_SCHEMA}.items():
            have = con.sql(f"SELECT * FROM raw.{table} LIMIT 0").to_arrow_table().schema
            for f in schema:
                assert f.name in have.names, (table, f.name)
                typ = have.field(f.name).type
                if pa.types.is_list(typ):  # DuckDB names the list's item "l"
                    typ = pa.list_(typ.value_type)
                assert typ == f.type, (table, f.name, typ, f.type)
    finally:
        con.close()
