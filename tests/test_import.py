"""FIT import into a real DuckDB file: archives, duplicates, bad input, idempotency, kill -9, reprocess."""

import datetime as dt
import gzip
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import duckdb

from runlift.connectors.fit.reference import FitparseDecoder
from runlift.connectors.fit.sources import iter_sources
from runlift.flows.fit_pipeline import SCRATCH_PREFIX, import_paths, reprocess

from helpers import q, snapshot

SMALL = [
    "fitparse-tests/Activity.fit",
    "garmin-fenix6s/training.fit",
    "fitparse-tests/garmin-fenix-5-run.fit",
    "fitparse-tests/activity-filecrc.fit",
    "garmin-fenix6s/sleep1.fit",
]


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def garmin_export(corpus: Path, dest: Path) -> Path:
    """A Garmin 'Export your data' archive: a zip holding json and zips of FIT files."""
    part1 = zip_bytes({f"{i}_{Path(n).name}": (corpus / n).read_bytes() for i, n in enumerate(SMALL[:3])})
    part2 = zip_bytes({
        "7_copy_of_activity.FIT": (corpus / SMALL[0]).read_bytes(),  # duplicate content, other name
        "8_filecrc.fit": (corpus / SMALL[3]).read_bytes(),
        "9_sleep.fit": (corpus / SMALL[4]).read_bytes(),
        "10_run.fit.gz": gzip.compress((corpus / "garmin-fenix6s/running.fit").read_bytes()),
        "notes.txt": b"not a fit file, ignored",
    })
    outer = zip_bytes({
        "DI_CONNECT/DI-Connect-Fitness/user_profile.json": b"{}",
        "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip": part1,
        "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part2.zip": part2,
    })
    dest.write_bytes(outer)
    return dest


def test_sources_walk_zip_of_zips_in_order(corpus, tmp_path):
    archive = garmin_export(corpus, tmp_path / "export.zip")
    paths = [s.path.split("!/", 1)[1] for s in iter_sources([archive])]
    assert paths == [
        "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip!/0_Activity.fit",
        "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip!/1_training.fit",
        "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip!/2_garmin-fenix-5-run.fit",
        "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part2.zip!/7_copy_of_activity.FIT",
        "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part2.zip!/8_filecrc.fit",
        "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part2.zip!/9_sleep.fit",
        "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part2.zip!/10_run.fit.gz",
    ]


def test_import_garmin_export_then_reimport_adds_nothing(corpus, tmp_path):
    db = tmp_path / "w.duckdb"
    archive = garmin_export(corpus, tmp_path / "export.zip")
    s = import_paths(db, "me", [archive])
    assert (s.files_seen, s.files_new, s.files_known) == (7, 6, 1)
    assert (s.ok, s.partial, s.rejected, s.skipped) == (4, 1, 0, 1)
    assert s.sets == 8  # training.fit: 16 set messages, 8 active (the rest are rests)
    status = dict(q(db, "SELECT first_path, status FROM raw.fit_files"))
    first = [p for p in status if p.endswith("0_Activity.fit")]
    assert len(first) == 1 and not any(p.endswith("7_copy_of_activity.FIT") for p in status)
    assert any(p.endswith("10_run.fit.gz") for p in status)
    before = snapshot(db)
    # the same archive again, and the same files loose in a folder under other names
    loose = tmp_path / "loose"
    loose.mkdir()
    for i, name in enumerate(SMALL):
        (loose / f"renamed_{i}.fit").write_bytes((corpus / name).read_bytes())
    s2 = import_paths(db, "me", [archive, loose])
    assert (s2.files_new, s2.files_known) == (0, 12)
    assert snapshot(db) == before
    assert q(db, "SELECT count(*) FROM ops.import_runs")[0][0] == 2


def test_same_file_for_two_athletes_is_kept_for_each(corpus, tmp_path):
    db = tmp_path / "w.duckdb"
    f = corpus / SMALL[2]
    import_paths(db, "ana", [f])
    import_paths(db, "bo", [f])
    assert q(db, "SELECT athlete_id, count(*) FROM raw.fit_records GROUP BY 1 ORDER BY 1") == [("ana", 21), ("bo", 21)]


def test_bad_input_is_recorded_and_the_rest_goes_on(corpus, tmp_path):
    db = tmp_path / "w.duckdb"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a_empty.fit").write_bytes(b"")
    (inbox / "b_text.fit").write_bytes(b"hello, this is not a FIT file at all")
    (inbox / "c_broken.fit.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (inbox / "d_broken.zip").write_bytes(b"PK\x03\x04 not really")
    data = (corpus / SMALL[2]).read_bytes()
    (inbox / "e_truncated.fit").write_bytes(data[: len(data) // 2])
    (inbox / "f_good.fit").write_bytes(data)
    s = import_paths(db, "me", [inbox])
    rows = {Path(p).name: (st, err) for p, st, err in q(db, "SELECT first_path, status, error FROM raw.fit_files")}
    assert rows["a_empty.fit"] == ("rejected", "empty file (0 bytes)")
    assert rows["b_text.fit"][0] == "rejected" and "not a FIT file" in rows["b_text.fit"][1]
    assert rows["c_broken.fit.gz"][0] == "rejected" and "gzip" in rows["c_broken.fit.gz"][1]
    assert rows["e_truncated.fit"][0] == "partial" and "truncated" in rows["e_truncated.fit"][1]
    assert rows["f_good.fit"] == ("ok", None)
    assert [Path(p).name for p, _ in s.unreadable] == ["d_broken.zip"]
    assert "not a valid zip" in s.unreadable[0][1]
    # the good file is complete whatever came before it
    assert q(db, "SELECT count(*) FROM raw.fit_records r JOIN raw.fit_files f USING (athlete_id, file_sha256) "
                 "WHERE f.first_path LIKE '%f_good.fit'")[0][0] == 21


def test_blobs_keep_original_bytes_and_reprocess_rebuilds_the_same_warehouse(corpus, tmp_path):
    db = tmp_path / "w.duckdb"
    src = tmp_path / "src"
    src.mkdir()
    for name in SMALL:
        (src / Path(name).name).write_bytes((corpus / name).read_bytes())
    (src / "junk.fit").write_bytes(b"junk")
    import_paths(db, "me", [src])
    before = snapshot(db)
    blobs = sorted((tmp_path / "w.duckdb.blobs").rglob("*.fit.gz"))
    assert len(blobs) == len(SMALL) + 1
    for name in SMALL:
        data = (corpus / name).read_bytes()
        import hashlib
        sha = hashlib.sha256(data).hexdigest()
        assert gzip.decompress((tmp_path / "w.duckdb.blobs" / sha[:2] / f"{sha}.fit.gz").read_bytes()) == data
    for f in src.iterdir():  # the user's folder is gone: only the warehouse and its blobs remain
        f.unlink()
    src.rmdir()
    s = reprocess(db)
    assert s.files_seen == len(SMALL) + 1 and not s.unreadable
    assert snapshot(db) == before
    # blow away the rows and reprocess them back from the blobs alone
    con = duckdb.connect(str(db))
    con.execute("DELETE FROM raw.fit_records")
    con.close()
    reprocess(db, "me")
    assert snapshot(db) == before


# The reference decoder (python-fitparse, ~0.3 MB/s) on one core makes the import last long enough
# for the kill to land in the middle; the write path (batches, transactions, blobs) is the same.
KILL_SCRIPT = """
import sys
from pathlib import Path
from runlift.connectors.fit.reference import FitparseDecoder
from runlift.flows.fit_pipeline import import_paths
import_paths(Path(sys.argv[1]), "me", sys.argv[2:], decoder=FitparseDecoder(), workers=1,
             progress=lambda p, n: print(p, flush=True))
"""


def test_kill_9_mid_import_then_rerun_equals_clean_import(corpus, tmp_path):
    folder = corpus / "garmin-fenix6s"
    clean = tmp_path / "clean.duckdb"
    import_paths(clean, "me", [folder], decoder=FitparseDecoder())
    expected = snapshot(clean)

    db = tmp_path / "killed.duckdb"
    for files_before_kill in (3, 9):
        proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(db), str(folder)],
                                stdout=subprocess.PIPE, text=True)
        for _ in range(files_before_kill):
            assert proc.stdout.readline()
        time.sleep(0.05 * files_before_kill)  # land somewhere inside the next file's work
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        done = q(db, "SELECT count(*) FROM raw.fit_files")[0][0]
        assert 0 < done < 23
        # every file present is whole: its counts match its child rows
        bad = q(db, """SELECT f.file_sha256 FROM raw.fit_files f
                       LEFT JOIN (SELECT file_sha256, count(*) n FROM raw.fit_records GROUP BY 1) r USING (file_sha256)
                       WHERE f.n_records <> coalesce(r.n, 0)""")
        assert bad == []
    s = import_paths(db, "me", [folder], decoder=FitparseDecoder())
    assert s.files_known > 0 and s.files_new > 0
    assert snapshot(db) == expected


def _member_data_offset(archive: bytes, name: str) -> tuple[int, int]:
    """Where a member's stored bytes start in a zip, and how many there are."""
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        info = z.getinfo(name)
    off = info.header_offset
    name_len, extra_len = int.from_bytes(archive[off + 26:off + 28], "little"), int.from_bytes(
        archive[off + 28:off + 30], "little")
    return off + 30 + name_len + extra_len, info.compress_size


def test_zip_members_are_inflated_by_the_decoding_processes(corpus, tmp_path):
    """Zip members cross to the decoding processes as stored; their deflate streams become the blobs.

    Same rows as the same files loose in a folder; a duplicate under another name, a stored
    (uncompressed) member and a member whose bytes were damaged inside the archive are handled.
    """
    from runlift.standins.fit_writer import demo_fit_files, vary

    files = {f"{i:02d}_{name}": data for i, (name, data) in enumerate(demo_fit_files(
        dt.date(2026, 3, 1), weeks=2)[:10])}
    files["10_varied.fit"] = vary(next(iter(files.values())), 7)
    files["11_corpus.fit"] = (corpus / SMALL[1]).read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
        z.writestr("12_same_as_00.fit", files[next(iter(files))])
        z.writestr("13_stored.fit", (corpus / SMALL[0]).read_bytes(), compress_type=zipfile.ZIP_STORED)
        z.writestr("14_damaged.fit", (corpus / SMALL[2]).read_bytes())
    archive = bytearray(buf.getvalue())
    start, n = _member_data_offset(bytes(archive), "14_damaged.fit")
    archive[start + n // 2] ^= 0xFF  # one flipped byte inside the deflate stream
    (tmp_path / "a.zip").write_bytes(bytes(archive))

    shm = Path("/dev/shm")
    stale = shm / f"{SCRATCH_PREFIX}999999999-left"  # a killed import's scratch folder (no such pid)
    if shm.is_dir():
        stale.mkdir(exist_ok=True)
        (stale / "x.arrows").write_bytes(b"left over")

    db = tmp_path / "zip.duckdb"
    s = import_paths(db, "me", [tmp_path / "a.zip"], workers=2)
    assert (s.files_seen, s.files_new, s.files_known) == (14, 13, 1)
    assert [(p.split("!/")[1], r) for p, r in s.unreadable] == [
        ("14_damaged.fit", "cannot read from archive: bad CRC-32")]
    if shm.is_dir():
        assert not stale.exists()
        assert not list(shm.glob(f"{SCRATCH_PREFIX}{os.getpid()}-*"))  # this run's scratch is gone too

    # the blobs of deflated members are their own streams in a gzip wrapper: same content
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        for name in ("00_" + next(iter(files))[3:], "13_stored.fit"):
            data = z.read(name)
            import hashlib
            sha = hashlib.sha256(data).hexdigest()
            blob = tmp_path / "zip.duckdb.blobs" / sha[:2] / f"{sha}.fit.gz"
            assert gzip.decompress(blob.read_bytes()) == data

    # the same files loose in a folder (read whole, hashed in this process) give the same rows
    loose = tmp_path / "loose"
    loose.mkdir()
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        for name in z.namelist():
            if name != "14_damaged.fit":
                (loose / name).write_bytes(z.read(name))
    db2 = tmp_path / "loose.duckdb"
    import_paths(db2, "me", [loose], workers=1)
    ignore = {"imported_at", "decoder", "first_path"}
    assert snapshot(db, ignore) == snapshot(db2, ignore)
    # and reprocessing from the wrapped blobs (in the decoding processes) rebuilds the same warehouse
    before = snapshot(db)
    s = reprocess(db)
    assert (s.files_seen, s.files_new, s.ok, s.unreadable) == (13, 0, 13, [])
    assert snapshot(db) == before
    # a damaged and a missing blob are reported; their rows stay as they were, the rest is redone
    blobs = sorted((tmp_path / "zip.duckdb.blobs").rglob("*.fit.gz"))
    blobs[0].write_bytes(gzip.compress(b"not what was kept"))
    blobs[1].unlink()
    s = reprocess(db)
    assert s.files_seen == 11 and len(s.unreadable) == 2
    assert (sorted(r.split(" (")[0].split(":")[0] for _, r in s.unreadable)
            == ["kept bytes corrupt", "kept bytes missing"])
    assert snapshot(db) == before


UNGUARDED_SCRIPT = """
import sys
from pathlib import Path
from runlift.flows.fit_pipeline import import_paths
s = import_paths(Path(sys.argv[1]), "me", sys.argv[2:], workers=2)
print("\\n".join(s.lines()))
"""


def test_a_script_without_the_main_guard_finishes_in_one_process(tmp_path):
    """Spawned decoding processes re-run a caller's unguarded script: they stop at once, the import goes on."""
    from runlift.standins.fit_writer import demo_fit_files

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    files = demo_fit_files(dt.date(2026, 3, 1), weeks=2)
    for name, data in files:
        (inbox / name).write_bytes(data)
    script = tmp_path / "my_import.py"  # no `if __name__ == "__main__":`
    script.write_text(UNGUARDED_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "w.duckdb"), str(inbox)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"files: {len(files)} seen, {len(files)} new" in proc.stdout
    assert "note: the decoding processes stopped" in proc.stdout and "__main__" in proc.stdout
    assert "was called while a spawned decoding process was loading your script" in proc.stderr
    assert q(tmp_path / "w.duckdb", "SELECT count(*) FROM raw.fit_files")[0][0] == len(files)


def _children(pid: int) -> list[int]:
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            out.append(int(status.parent.name))
    return out


def _alive_pids(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/status").read_text().split("State:\t", 1)[1][0]
        except (OSError, IndexError):
            continue
        if state != "Z":  # a zombie has exited; reaping it is its new parent's business
            alive.append(pid)
    return alive


POOL_KILL_SCRIPT = """
import sys
from pathlib import Path
from runlift.flows.fit_pipeline import import_paths
if __name__ == "__main__":
    import_paths(Path(sys.argv[1]), "me", sys.argv[2:], workers=2, progress=lambda p, n: print(p, flush=True))
"""


def test_kill_9_of_a_parallel_import_then_rerun_equals_clean_import(tmp_path):
    """The pool path (decoding processes, tables handed over in /dev/shm) survives kill -9 too."""
    from runlift.standins.fit_writer import demo_fit_files, vary

    files = demo_fit_files(dt.date(2026, 3, 1), weeks=4)
    strength = [(name, data) for name, data in files if "strength" in name]
    buf = io.BytesIO()
    n = 0
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            z.writestr(name, data)
            n += 1
        k = 0
        while n < 600:  # three transactions of at most 256 files; small files keep the test quick
            k += 1
            for name, data in strength:
                z.writestr(f"{k}_{name}", vary(data, k))
                n += 1
    archive = tmp_path / "export.zip"
    archive.write_bytes(buf.getvalue())
    clean = tmp_path / "clean.duckdb"
    import_paths(clean, "me", [archive], workers=2)
    expected = snapshot(clean)

    db = tmp_path / "killed.duckdb"
    script = tmp_path / "run.py"
    script.write_text(POOL_KILL_SCRIPT)
    pids = []
    for lines_before_kill in (1, 257):  # progress comes per committed transaction
        proc = subprocess.Popen([sys.executable, str(script), str(db), str(archive)], stdout=subprocess.PIPE,
                                text=True, cwd=tmp_path)
        pids.append(proc.pid)
        for _ in range(lines_before_kill):
            assert proc.stdout.readline()
        workers = _children(proc.pid)
        assert len(workers) >= 2  # the decoding processes (and multiprocessing's resource tracker)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 20
        while _alive_pids(workers) and time.monotonic() < deadline:  # they notice the importer is gone
            time.sleep(0.1)
        assert _alive_pids(workers) == []
        done = q(db, "SELECT count(*) FROM raw.fit_files")[0][0]
        assert 0 < done < n
        bad = q(db, """SELECT f.file_sha256 FROM raw.fit_files f
                       LEFT JOIN (SELECT file_sha256, count(*) n FROM raw.fit_records GROUP BY 1) r USING (file_sha256)
                       WHERE f.n_records <> coalesce(r.n, 0)""")
        assert bad == []
    s = import_paths(db, "me", [archive], workers=2)
    assert s.files_known > 0 and s.files_new > 0 and s.files_known + s.files_new == n
    assert snapshot(db) == expected
    shm = Path("/dev/shm")
    if shm.is_dir():  # the killed runs' scratch folders were swept by the rerun
        assert not [p for pid in pids for p in shm.glob(f"{SCRATCH_PREFIX}{pid}-*")]
