"""Hostile FIT files (issue 12, items 2, 8, 14, 15): a crafted file never stops an import, absurd
values get a data-quality reason, one imported file can be removed, reports stay readable, a
single exercise category is read, and a seeded fuzz run through the real import never crashes."""

from __future__ import annotations

import io
import random
import re
import resource
import time
import zipfile
from pathlib import Path

import pytest
from garmin_fit_sdk import Encoder, Profile

from runlift.connectors.fit.columnar import ColumnarDecoder
from runlift.connectors.fit.contract import DecodedFit
from runlift.connectors.fit.reference import FitparseDecoder
from runlift.connectors.fit.sources import FitSource
from runlift.flows import fit_pipeline
from runlift.flows.fit_pipeline import ImportSummary, import_paths, import_sources, reprocess, shown
from runlift.standins import hostile_fit as h
from runlift.warehouse import db as wdb

from helpers import q, runlift

CRAFTED = {
    "heart rate uint32 = 100000": (h.RECORD, 3, h.UINT32, 100_000, "fit_records.heart_rate_bpm = 100000"),
    "num_laps = 4e9": (h.SESSION, 26, h.UINT32, 4_000_000_000, "fit_sessions.num_laps = 4000000000"),
    "repetitions = 3e9": (h.SET, 3, h.UINT32, 3_000_000_000, "fit_sets.repetitions = 3000000000"),
    "repetitions float64 inf": (h.SET, 3, h.FLOAT64, float("inf"), "fit_sets.repetitions = inf"),
    "total_strides float64 inf (a run)": (h.SESSION, 10, h.FLOAT64, float("inf"), "fit_sessions.total_strides = inf"),
    "distance float64 inf": (h.SESSION, 9, h.FLOAT64, float("inf"), "fit_sessions.total_distance_m = inf"),
    "serial number uint64": (h.FILE_ID, 3, h.UINT64, 2**64 - 2, "fit_files.serial_number = 18446744073709551614"),
    "record power float64 1e300": (h.RECORD, 7, h.FLOAT64, 1e300, "fit_records.power_w = 1e+300"),
}


def crafted(case: str, seed: int) -> bytes:
    glob, num, base_type, value, _ = CRAFTED[case]
    base = h.run(seed) if "(a run)" in case else h.strength(seed)
    return h.set_field(base, glob, num, base_type, value)


def blobs(db: Path) -> set[str]:
    return {p.name.removesuffix(".fit.gz") for p in wdb.blob_dir(db).rglob("*.fit.gz")}


def good_folder(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a_run.fit").write_bytes(h.run(2))
    (folder / "c_strength.fit").write_bytes(h.strength(3))
    return ["a_run.fit", "c_strength.fit"]


@pytest.mark.parametrize("case", sorted(CRAFTED))
@pytest.mark.parametrize("decoder", ["columnar", "fitparse"])
def test_a_crafted_file_is_recorded_partial_and_the_rest_is_imported(tmp_path, case, decoder):
    why = CRAFTED[case][-1]
    folder = tmp_path / "in"
    good = good_folder(folder)
    (folder / "b_crafted.fit").write_bytes(crafted(case, 1))
    db = tmp_path / "w.duckdb"
    dec = ColumnarDecoder() if decoder == "columnar" else FitparseDecoder()
    s = import_paths(db, "me", [folder], workers=1, decoder=dec)
    assert (s.files_new, s.ok, s.partial, s.rejected) == (3, 2, 1, 0), s.lines()
    status = {Path(p).name: (st, err) for p, st, err in q(db, "SELECT first_path, status, error FROM raw.fit_files")}
    assert status["b_crafted.fit"][0] == "partial"
    assert "values out of range for their column, set to NULL" in status["b_crafted.fit"][1]
    assert why in status["b_crafted.fit"][1]
    assert all(status[g] == ("ok", None) for g in good)
    # the crafted file's other rows are there; every kept blob belongs to a row and back
    assert q(db, "SELECT count(*) FROM raw.fit_sessions s JOIN raw.fit_files f USING (athlete_id, file_sha256) "
                 "WHERE f.first_path LIKE '%b_crafted.fit'")[0][0] == 1
    assert blobs(db) == {r[0] for r in q(db, "SELECT file_sha256 FROM raw.fit_files")}
    again = import_paths(db, "me", [folder], workers=1, decoder=dec)
    assert (again.files_new, again.files_known) == (0, 3)


def test_crafted_files_through_the_command_exit_0_and_the_nightly_rerun_adds_nothing(tmp_path):
    folder = tmp_path / "inbox"
    good_folder(folder)
    for i, case in enumerate(CRAFTED):
        (folder / f"crafted_{i}.fit").write_bytes(crafted(case, 10 + i))
    db = tmp_path / "w.duckdb"
    proc = runlift("import-fit", "--no-prefect", "--db", str(db), str(folder), check=False)
    assert proc.returncode == 0, proc.stderr
    assert f"new files: 2 ok, {len(CRAFTED)} partial, 0 rejected, 0 skipped" in proc.stdout
    assert sum(line.startswith("partial: ") and "crafted_" in line for line in proc.stdout.splitlines()) == len(CRAFTED)
    before = q(db, "SELECT count(*), sum(n_records) FROM raw.fit_files")
    proc = runlift("import-fit", "--no-prefect", "--db", str(db), str(folder), check=False)
    assert proc.returncode == 0 and f"0 new, {len(CRAFTED) + 2} already known" in proc.stdout
    assert q(db, "SELECT count(*), sum(n_records) FROM raw.fit_files") == before
    assert len(blobs(db)) == len(CRAFTED) + 2


class _Hostile:
    """A decoder as a crafted file could make any step behave: it raises on one file (decoding) or
    hands back rows the warehouse refuses (two sessions with the same key: writing)."""

    def __init__(self, poison: bytes, how: str) -> None:
        self.inner = ColumnarDecoder()
        self.name = self.inner.name
        self.poison, self.how = poison, how

    def decode(self, data: bytes) -> DecodedFit:
        out = self.inner.decode(data)
        if data == self.poison:
            if self.how == "decode":
                raise TypeError("'>=' not supported between instances of 'tuple' and 'int'")
            out.sessions.append(dict(out.sessions[0]))  # session_index 0 twice: a primary key violation
        return out


@pytest.mark.parametrize("how,step", [("decode", "decoding"), ("write", "writing its rows")])
def test_a_crash_in_any_step_names_the_file_and_the_rest_goes_on(tmp_path, how, step):
    folder = tmp_path / "in"
    good_folder(folder)
    poison = h.strength(7)
    (folder / "b_poison.fit").write_bytes(poison)
    db = tmp_path / "w.duckdb"
    s = import_paths(db, "me", [folder], workers=1, decoder=_Hostile(poison, how))
    assert (s.files_new, s.ok, s.rejected) == (3, 2, 1)
    [(path, status, reason)] = s.problems
    assert path.endswith("b_poison.fit") and status == "rejected"
    assert reason.startswith(f"import error while {step}: ")
    assert q(db, "SELECT count(*) FROM raw.fit_sessions")[0][0] == 2  # the good files' sessions, none of the poison's
    assert blobs(db) == {r[0] for r in q(db, "SELECT file_sha256 FROM raw.fit_files")}


def test_reprocess_leaves_the_rows_of_a_file_it_cannot_write_as_they_were(tmp_path):
    folder = tmp_path / "in"
    good_folder(folder)
    poison = h.strength(7)
    (folder / "b_poison.fit").write_bytes(poison)
    db = tmp_path / "w.duckdb"
    import_paths(db, "me", [folder], workers=1)
    before = q(db, "SELECT first_path, status, n_sessions, n_sets FROM raw.fit_files ORDER BY 1")
    s = reprocess(db, "me", decoder=_Hostile(poison, "write"), workers=1)
    [(path, reason)] = s.unreadable
    assert path.endswith("b_poison.fit")
    assert reason.startswith("import error while writing its rows: ") and reason.endswith("left as they were")
    assert s.ok == 2
    assert q(db, "SELECT first_path, status, n_sessions, n_sets FROM raw.fit_files ORDER BY 1") == before
    assert q(db, "SELECT count(*) FROM raw.fit_sessions")[0][0] == 3


# --- item 8: absurd but decodable values ---------------------------------------------------------------

def test_absurd_values_get_a_data_quality_reason_on_the_session_or_set(tmp_path):
    folder = tmp_path / "in"
    good_folder(folder)
    (folder / "far_run.fit").write_bytes(h.set_field(h.run(5), h.SESSION, 9, h.FLOAT64, 1e300))  # x 1/100: 1e298 m
    (folder / "heavy_sets.fit").write_bytes(h.set_field(h.strength(5), h.SET, 4, h.FLOAT64, 1.6e10))  # /16: 1e9 kg
    (folder / "fast_run.fit").write_bytes(h.set_field(h.run(6), h.SESSION, 9, h.UINT32, 36_000_000))  # 360 km in 4 min
    db = tmp_path / "w.duckdb"
    s = import_paths(db, "me", [folder], workers=1)
    assert s.ok == 5  # kept as the file said, marked
    rows = dict(q(db, "SELECT f.first_path, s.dq_reason FROM raw.fit_sessions s JOIN raw.fit_files f "
                      "USING (athlete_id, file_sha256)"))
    by_name = {Path(p).name: r for p, r in rows.items()}
    assert by_name["far_run.fit"] == "total_distance_m = 1e+298 outside [0, 2e+06]"
    assert by_name["fast_run.fit"] == "implied speed 1500 m/s (distance / timer time) above 150"
    assert by_name["a_run.fit"] is None and by_name["c_strength.fit"] is None
    sets = q(db, "SELECT s.weight_kg, s.dq_reason "
                 "FROM raw.fit_sets s JOIN raw.fit_files f USING (athlete_id, file_sha256) "
                 "WHERE f.first_path LIKE '%heavy_sets.fit' ORDER BY set_index")
    assert sets == [(1e9, "weight_kg = 1e+09 outside [0, 1000]")] * 3  # (the rest between the sets too)
    flagged = {Path(p).name: r for p, r in s.flagged}
    assert set(flagged) == {"far_run.fit", "heavy_sets.fit", "fast_run.fit"}
    assert "flagged: " in "\n".join(s.lines())
    # the reference decoder marks the same
    ref = FitparseDecoder().decode((folder / "heavy_sets.fit").read_bytes())
    assert [r["dq_reason"] for r in ref.sets] == ["weight_kg = 1e+09 outside [0, 1000]"] * 3


def test_remove_fit_removes_rows_and_blob_in_one_go_and_later_imports_skip_it(tmp_path):
    folder = tmp_path / "in"
    good_folder(folder)
    (folder / "far_run.fit").write_bytes(h.set_field(h.run(5), h.SESSION, 9, h.FLOAT64, 1e300))
    db = tmp_path / "w.duckdb"
    runlift("import-fit", "--no-prefect", "--db", str(db), str(folder))
    [(sha, n_records)] = q(db, "SELECT file_sha256, n_records FROM raw.fit_files WHERE first_path LIKE '%far_run.fit'")
    assert sha in blobs(db)
    # a name that matches nothing, or a prefix too short to be a hash: an error, nothing removed
    bad = runlift("remove-fit", "--db", str(db), "nothing.fit", check=False)
    assert bad.returncode == 2 and "no imported FIT file of athlete me matches 'nothing.fit'" in bad.stderr
    assert q(db, "SELECT count(*) FROM raw.fit_files")[0][0] == 3
    out = runlift("remove-fit", "--db", str(db), "far_run.fit").stdout
    assert f"removed {folder / 'far_run.fit'} (sha256 {sha}, status ok): 1 session, 1 lap, 0 sets, " \
           f"{n_records} records; kept bytes deleted" in out
    for t in ("fit_files", "fit_sessions", "fit_laps", "fit_sets", "fit_records"):
        assert q(db, f"SELECT count(*) FROM raw.{t} WHERE file_sha256 = ?", [sha])[0][0] == 0
    assert sha not in blobs(db) and len(blobs(db)) == 2
    assert q(db, "SELECT file_sha256 FROM ops.fit_removed_files") == [(sha,)]
    # the nightly import of the same inbox does not bring it back ...
    again = runlift("import-fit", "--no-prefect", "--db", str(db), str(folder)).stdout
    assert "0 new, 3 already known" in again and q(db, "SELECT count(*) FROM raw.fit_files")[0][0] == 2
    # ... until it is readmitted, by its hash prefix
    runlift("remove-fit", "--db", str(db), "--readmit", sha[:12])
    runlift("import-fit", "--no-prefect", "--db", str(db), str(folder))
    assert q(db, "SELECT count(*) FROM raw.fit_files")[0][0] == 3 and sha in blobs(db)


def test_remove_fit_with_an_ambiguous_name_removes_nothing(tmp_path):
    for sub, seed in (("a", 1), ("b", 2)):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "same.fit").write_bytes(h.run(seed))
    db = tmp_path / "w.duckdb"
    import_paths(db, "me", [tmp_path / "a", tmp_path / "b"], workers=1)
    proc = runlift("remove-fit", "--db", str(db), "same.fit", check=False)
    assert proc.returncode == 2 and "'same.fit' matches 2 imported FIT files" in proc.stderr
    assert q(db, "SELECT count(*) FROM raw.fit_files")[0][0] == 2 and len(blobs(db)) == 2


# --- item 14: reports stay readable -----------------------------------------------------------------

def nested_zip(depth: int, member: bytes) -> bytes:
    data = member
    name = "junk.fit"
    for _ in range(depth):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            z.writestr(name, data)
        data, name = buf.getvalue(), "z.zip"
    return data


def test_control_characters_in_names_never_split_a_line_and_long_paths_are_shortened(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("evil\nrejected: forged.fit", b"not a fit file")
        z.writestr("bell\x07\x1b[31mred\u202e.fit", b"also junk")
    (tmp_path / "names.zip").write_bytes(buf.getvalue())
    (tmp_path / "deep.zip").write_bytes(nested_zip(1500, b"junk junk junk"))
    db = tmp_path / "w.duckdb"
    s = import_paths(db, "me", [tmp_path / "names.zip", tmp_path / "deep.zip"], workers=1)
    assert s.rejected == 2
    # the deep archive: its innermost member (rejected) or, where the reader gives up, unreadable
    [(deep_path, _)] = [(p, r) for p, _, r in s.problems if "deep.zip" in p] or s.unreadable
    assert len(deep_path) > 5000
    lines = "\n".join(s.lines()).split("\n")
    rejected = [line for line in lines if line.startswith("rejected: ")]
    assert len([line for line in rejected if "names.zip" in line]) == 2  # no forged line from a newline
    assert any("evil\\nrejected: forged.fit" in line for line in rejected)
    assert any("bell\\x07\\x1b[31mred\\u202e.fit" in line for line in rejected)
    assert all(line.isprintable() and len(line) <= 600 for line in lines)
    deep = next(line for line in lines if "deep.zip" in line)
    assert re.search(r"/deep\.zip!/\.\.\.\(\d+ chars\)\.\.\..*z\.zip!/z\.zip", deep) and len(deep) < 600


def test_many_junk_files_are_summarised_by_reason(tmp_path):
    folder = tmp_path / "junk"
    folder.mkdir()
    for i in range(60):  # odd: text; even: a FIT header of an irregular size
        (folder / f"j{i:02d}.fit").write_bytes(b"junk %d" % i if i % 2 else bytes([13, 16, 0, 0, i, 0, 0, 0]) + b".FIT")
    db = tmp_path / "w.duckdb"
    s = import_paths(db, "me", [folder], workers=1)
    assert s.rejected == 60
    problems = s.problem_lines()
    def eg(*names: str) -> str:  # paths as the summary shows them (long ones shortened in the middle)
        return "; ".join(shown(f"{folder}/{n}", 80) for n in names)

    assert problems[:2] == [
        f"rejected: 30 files: corrupt FIT header: e.g. {eg('j00.fit', 'j02.fit', 'j04.fit')} (and 27 more)",
        f"rejected: 30 files: not a FIT file: e.g. {eg('j01.fit', 'j03.fit', 'j05.fit')} (and 27 more)",
    ]
    assert len(problems) == 3 and "raw.fit_files" in problems[2]
    assert len(s.lines()) == 4 + 3
    # 20,000 of them (the summary alone: importing them is the bench's job)
    big = ImportSummary(problems=[(f"/in/junk_{i}.fit", "rejected", f"not a FIT file (header {i})")
                                  for i in range(20_000)])
    big.unreadable = [(f"/in/x{i}.zip", f"not a valid zip ({i})") for i in range(5000)]
    big.flagged = [(f"/in/far{i}.fit", f"session 0: total_distance_m = {i + 3}e+06 outside [0, 2e+06]")
                   for i in range(30)]
    lines = big.problem_lines()
    assert len(lines) == 4 and lines[0].startswith("rejected: 20000 files: not a FIT file: e.g. /in/junk_0.fit;")
    assert lines[1].startswith("unreadable: 5000 files: not a valid zip: e.g. ")
    assert lines[2] == ("flagged: 30 files: total_distance_m: e.g. /in/far0.fit; /in/far1.fit; /in/far2.fit "
                        "(and 27 more)")
    few = ImportSummary(problems=[(f"/in/{i}.fit", "rejected", "x") for i in range(fit_pipeline.LISTED_MAX)])
    assert len(few.problem_lines()) == fit_pipeline.LISTED_MAX  # few problems: one line each, as before


def test_a_definition_of_255_fields_of_255_bytes_decodes(tmp_path):
    files = h.read_fit(h.strength(1))
    for glob in (h.SESSION, h.SET, h.RECORD, 0xFF00):
        d = h.Definition.new(15, False, glob, [[k, 255, h.BYTE] for k in range(255)])
        files[0][3:3] = [d, h.Message.new(d, bytearray(range(255)) * 255)]
    data = h.write_fit(files)
    out = ColumnarDecoder().decode(data)
    assert (out.status, out.error) == ("ok", None)
    assert out.decoder.startswith("runlift-columnar")  # not the fallback
    (tmp_path / "wide.fit").write_bytes(data)
    s = import_paths(tmp_path / "w.duckdb", "me", [tmp_path / "wide.fit"], workers=1)
    assert (s.ok, s.problems) == (1, [])
    # the wide messages are sessions / sets / records with nothing usable: no dates, no numbers
    assert q(tmp_path / "w.duckdb", "SELECT count(*), count(start_time_utc) FROM raw.fit_sessions") == [(2, 1)]


# --- item 15: a single exercise category -----------------------------------------------------------

def single_category_strength() -> bytes:
    """A strength session as Garmin's own encoder writes it when given one category per set."""
    mesg = {v: k for k, v in Profile["types"]["mesg_num"].items()}
    cats = {v: k for k, v in Profile["types"]["exercise_category"].items()}
    t0 = 1_100_000_000
    enc = Encoder()
    enc.write_mesg({"mesg_num": mesg["file_id"], "type": "activity", "manufacturer": "garmin", "product": 4315,
                    "serial_number": 1234, "time_created": t0})
    sets = [("squat", 6, 5, 100.0), ("bench_press", 1, 8, 60.0), ("deadlift", 0, 3, 140.0)]  # barbell variants
    for k, (cat, name, reps, kg) in enumerate(sets):
        enc.write_mesg({"mesg_num": mesg["set"], "timestamp": t0 + 60 * k + 40, "start_time": t0 + 60 * k,
                        "duration": 40.0, "set_type": "active", "message_index": k, "repetitions": reps,
                        "weight": kg, "category": cats[cat], "category_subtype": name})
    enc.write_mesg({"mesg_num": mesg["session"], "timestamp": t0 + 200, "start_time": t0, "total_elapsed_time": 200.0,
                    "total_timer_time": 200.0, "sport": "training", "sub_sport": "strength_training", "num_laps": 1})
    return enc.close()


@pytest.mark.parametrize("decoder", [ColumnarDecoder, FitparseDecoder])
def test_a_single_exercise_category_is_read_like_the_first_of_three(decoder):
    data = single_category_strength()
    sizes = [f[1] for e in h.read_fit(data)[0] if isinstance(e, h.Definition) and e.glob == h.SET
             for f in e.fields if f[0] in (7, 8)]
    assert sizes == [2, 2]  # the encoder wrote one uint16 each, not arrays of three
    out = decoder().decode(data)
    got = [(s["category"], s["category_ids"], s["subtype_names"]) for s in out.sets]
    assert got == [("squat", [28], ["barbell_back_squat"]), ("bench_press", [0], ["barbell_bench_press"]),
                   ("deadlift", [8], ["barbell_deadlift"])]


def test_single_category_sets_reach_the_warehouse(tmp_path):
    (tmp_path / "gym.fit").write_bytes(single_category_strength())
    db = tmp_path / "w.duckdb"
    import_paths(db, "me", [tmp_path / "gym.fit"], workers=1)
    assert q(db, "SELECT category, subtype_names[1] FROM raw.fit_sets ORDER BY set_index") == [
        ("squat", "barbell_back_squat"), ("bench_press", "barbell_bench_press"), ("deadlift", "barbell_deadlift")]


# --- fuzz: mutated files through the real import ------------------------------------------------------

FUZZ_CASES = 40
FUZZ_CASE_S = 5.0  # a case slower than this is a hang
FUZZ_RSS_MB = 1024


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _peak_rss_kb() > 0


def _peak_rss_kb() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def test_fuzz_mutated_files_through_the_real_import(tmp_path, capsys):
    """A fixed, seeded set of mutated files (bit flips, truncation, field size / type changes,
    absurd values, duplicated messages, wide definitions), each imported with a good file beside it
    into one real warehouse: no case raises, each finishes within FUZZ_CASE_S, memory stays bounded,
    every file is recorded and every good file imported. bench/fuzz_fit.py runs a longer budget."""
    rng = random.Random(20261206)
    # this test's own peak, not the pytest worker's lifetime peak (ru_maxrss): an xdist worker that
    # ran other files' big imports first failed it; "5" resets the peak RSS (VmHWM) on Linux
    own_peak = _reset_peak_rss()
    bases = h.seeds()
    db = tmp_path / "w.duckdb"
    con = wdb.connect(db)
    slowest = 0.0
    try:
        for case in range(FUZZ_CASES):
            data = h.mutate(rng.choice(bases), rng)
            good = h.vary_run(case)
            t0 = time.perf_counter()
            s = import_sources(con, wdb.blob_dir(db), "me", [FitSource(f"case{case}.fit", data),
                                                             FitSource(f"good{case}.fit", good)], workers=1)
            slowest = max(slowest, time.perf_counter() - t0)
            assert s.files_seen == 2 and not s.unreadable
            assert s.files_known + s.ok + s.partial + s.rejected + s.skipped == 2
    finally:
        con.close()
    rss_mb = (_peak_rss_kb() if own_peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024
    with capsys.disabled():
        print(f"\nFIT fuzz: {FUZZ_CASES} cases, 0 crashes, slowest {slowest:.2f} s, peak RSS {rss_mb:.0f} MB")
    assert slowest < FUZZ_CASE_S and rss_mb < FUZZ_RSS_MB
    goods = q(db, "SELECT status, count(*) FROM raw.fit_files WHERE first_path LIKE 'good%' GROUP BY ALL")
    assert goods == [("ok", FUZZ_CASES)]
    assert blobs(db) == {r[0] for r in q(db, "SELECT file_sha256 FROM raw.fit_files")}


def test_remove_fit_keeps_the_bytes_another_athlete_imported_too(tmp_path):
    (tmp_path / "run.fit").write_bytes(h.run(4))
    db = tmp_path / "w.duckdb"
    for athlete in ("me", "you"):
        import_paths(db, athlete, [tmp_path / "run.fit"], workers=1)
    out = runlift("remove-fit", "--db", str(db), "--athlete", "me", "run.fit").stdout
    assert "kept bytes not deleted (another athlete has the same file)" in out
    assert q(db, "SELECT athlete_id FROM raw.fit_files") == [("you",)]
    assert q(db, "SELECT count(*) FROM raw.fit_records WHERE athlete_id = 'you'")[0][0] == 240
    assert len(blobs(db)) == 1
