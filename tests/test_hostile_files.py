"""Hostile files and folders for the FIT import: special files, links out of the inbox, unlistable
folders, inputs built to exhaust memory or temporary space. Each import runs in a subprocess bounded
in time, with the peak memory of its whole process tree measured from /proc."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from runlift.connectors.fit.columnar import crc16
from runlift.connectors.fit.limits import MAX_MESSAGES, count_messages
from runlift.connectors.fit.sources import MAX_FIT_BYTES
from runlift.standins.fit_bytes import wrap

from helpers import q

ROOT = Path(__file__).resolve().parents[1]
GOOD = "fitparse-tests/activity-small-fenix2-run.fit"
GiB = 1024 ** 3


def hostile_fit(n_records: int) -> bytes:
    """A valid FIT file of ``n_records`` 2-byte record messages (a header byte and a heart rate)."""
    definition = bytes([0x40, 0, 0]) + struct.pack("<H", 20) + bytes([1, 3, 1, 2])
    return wrap(definition + b"\x00\x64" * n_records, crc16=crc16)


def _tree(pid: int) -> list[int]:
    out = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                for child in fh.read().split():
                    out += _tree(int(child))
    except OSError:
        pass
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _shm(pids: list[int]) -> int:
    """Bytes of the import's decoded tables waiting in /dev/shm (RAM, but in no process's RSS)."""
    total = 0
    for pid in pids:
        for folder in Path("/dev/shm").glob(f"runlift-import-{pid}-*"):
            for f in folder.glob("*"):
                with contextlib.suppress(OSError):  # a file the import removed meanwhile
                    total += f.stat().st_size
    return total


def run_measured(args: list[str], *, timeout: float, cwd: Path, env: dict[str, str] | None = None,
                 launcher: tuple[str, ...] = ()) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``runlift *args``; returns the result and its peak memory: the RSS summed over its process
    tree plus its decoded tables in /dev/shm (a file there is unlinked as soon as it is mapped).

    A run that passes ``timeout`` is killed (with its children) and the test fails: nothing hangs."""
    full_env = {**os.environ, "RUNLIFT_HOME": str(cwd / "home"), "PYTHONPATH": str(ROOT), **(env or {})}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([*launcher, sys.executable, "-m", "runlift.flows.cli", *args], stdout=out, stderr=err,
                                text=True, cwd=cwd, env=full_env, start_new_session=True)
        peak = 0
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            pids = _tree(proc.pid)
            peak = max(peak, sum(_rss(p) for p in pids) + _shm(pids))
            if time.monotonic() > deadline or peak > 3 * GiB:
                os.killpg(proc.pid, 9)
                proc.wait()
                pytest.fail(f"runlift {' '.join(args)} still running after {timeout} s or over 3 GiB "
                            f"(peak {peak / 2**20:.0f} MiB): killed")
            time.sleep(0.02)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(args, proc.returncode, out.read(), err.read()), peak


def import_fit(db: Path, *paths: Path, timeout: float = 90, **kw) -> tuple[subprocess.CompletedProcess[str], int]:
    return run_measured(["import-fit", "--no-prefect", "--db", str(db), *map(str, paths)],
                        timeout=timeout, cwd=db.parent, **kw)


# --- special files, links, unreadable folders (issue 12, item 3) ---------------------------------

def test_a_fifo_in_the_inbox_is_skipped_not_waited_for(corpus, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(corpus / GOOD, inbox / "a.fit")
    os.mkfifo(inbox / "b.fit")
    proc, _ = import_fit(tmp_path / "w.duckdb", inbox, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"unreadable: {inbox / 'b.fit'}: not a regular file (a FIFO (named pipe)), skipped" in proc.stdout
    assert "1 new" in proc.stdout
    assert q(tmp_path / "w.duckdb", "SELECT count(*) FROM raw.fit_files") == [(1,)]
    # named on the command line, it is not opened either
    proc, _ = import_fit(tmp_path / "w.duckdb", inbox / "b.fit", timeout=60)
    assert "not a regular file (a FIFO (named pipe))" in proc.stdout


def test_a_link_to_dev_zero_does_not_grow_memory(corpus, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(corpus / GOOD, inbox / "a.fit")
    (inbox / "zero.fit").symlink_to("/dev/zero")
    (inbox / "zero.fit.gz").symlink_to("/dev/zero")
    proc, peak = import_fit(tmp_path / "w.duckdb", inbox, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "zero.fit: symbolic link to a file outside the folders given (/dev/zero), not followed" in proc.stdout
    assert "1 new" in proc.stdout
    assert peak < GiB
    # named on the command line the link is followed (the user named it), but a device is not read
    proc, peak = import_fit(tmp_path / "w.duckdb", inbox / "zero.fit", timeout=60)
    assert "not a regular file (a character device), skipped" in proc.stdout
    assert peak < GiB


def test_a_link_to_a_file_outside_the_inbox_is_not_followed(corpus, tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    outside = tmp_path / "private"
    outside.mkdir()
    shutil.copy(corpus / GOOD, outside / "secret.fit")
    shutil.copy(corpus / "fitparse-tests/Activity.fit", inbox / "sub" / "real.fit")
    (inbox / "stolen.fit").symlink_to(outside / "secret.fit")
    (inbox / "inside.fit").symlink_to(inbox / "sub" / "real.fit")  # inside the folder given: read
    (inbox / "elsewhere").symlink_to(outside, target_is_directory=True)
    db = tmp_path / "w.duckdb"
    proc, _ = import_fit(db, inbox)
    assert proc.returncode == 0, proc.stderr
    assert (f"unreadable: {inbox / 'stolen.fit'}: symbolic link to a file outside the folders given "
            f"({outside / 'secret.fit'}), not followed") in proc.stdout
    assert f"{inbox / 'elsewhere'}: symbolic link to a folder outside the folders given" in proc.stdout
    rows = q(db, "SELECT first_path FROM raw.fit_files")
    assert rows == [(str(inbox / "inside.fit"),)]  # the same content under sub/ is already known
    assert len(list((tmp_path / "w.duckdb.blobs").rglob("*.gz"))) == 1  # nothing of the private file kept


def test_an_unreadable_subfolder_is_reported(corpus):
    # As root every folder is readable: the import then runs as the unprivileged user nobody.
    as_root = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="runlift-perm-"))
    try:
        os.chmod(base, 0o755)
        inbox = base / "inbox"
        (inbox / "locked").mkdir(parents=True)
        shutil.copy(corpus / GOOD, inbox / "a.fit")
        shutil.copy(corpus / "fitparse-tests/Activity.fit", inbox / "locked" / "b.fit")
        launcher: tuple[str, ...] = ()
        if as_root:
            if not shutil.which("setpriv"):
                pytest.skip("running as root without setpriv (util-linux): cannot make a folder unreadable")
            for p in [base, *base.rglob("*")]:
                os.chown(p, 65534, 65534)
            launcher = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
            probe = subprocess.run([*launcher, sys.executable, "-c", "import runlift.flows.cli"], capture_output=True,
                                   text=True, timeout=60)
            if probe.returncode != 0:  # e.g. the checkout lies in a folder of mode 0700 (mktemp -d)
                pytest.skip("the user nobody cannot read this checkout or its .venv, so the import cannot run "
                            f"as nobody: {probe.stderr.strip().splitlines()[-1:]}")
        os.chmod(inbox / "locked", 0o000)
        if not as_root and os.access(inbox / "locked", os.R_OK):
            pytest.skip("this user can read a folder of mode 000; no way to make one unreadable here")
        proc, _ = import_fit(base / "w.duckdb", inbox, launcher=launcher)
        assert proc.returncode == 0, proc.stderr
        assert f"unreadable: {inbox / 'locked'}: cannot read folder: Permission denied" in proc.stdout
        assert "1 new" in proc.stdout
    finally:
        os.chmod(base / "inbox" / "locked", 0o700)
        shutil.rmtree(base, ignore_errors=True)


# --- memory and temporary space (issue 12, item 9) -----------------------------------------------

def test_count_messages_stops_past_the_cap():
    data = hostile_fit(MAX_MESSAGES + 10)
    assert count_messages(data, 10 ** 9) == MAX_MESSAGES + 10
    assert count_messages(data) == MAX_MESSAGES + 1
    assert count_messages(hostile_fit(1000)) == 1000


def test_a_file_of_millions_of_tiny_records_is_rejected_within_memory(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "tiny.fit").write_bytes(hostile_fit(4_000_000))  # 8 MB, under the size cap
    (inbox / "huge.fit").write_bytes(hostile_fit(21_000_000))  # 42 MB: over it, never read whole
    (inbox / "ok.fit").write_bytes(hostile_fit(20_000))
    db = tmp_path / "w.duckdb"
    proc, peak = import_fit(db, inbox)
    assert proc.returncode == 0, proc.stderr
    assert f"rejected: {inbox / 'tiny.fit'}: more than {MAX_MESSAGES:,} FIT messages" in proc.stdout
    assert f"unreadable: {inbox / 'huge.fit'}: larger than {MAX_FIT_BYTES} bytes, not a FIT activity" in proc.stdout
    print(f"tiny records: peak {peak / 2**20:.0f} MiB")
    assert peak < GiB, f"peak {peak / 2**20:.0f} MiB"
    assert q(db, "SELECT n_records FROM raw.fit_files ORDER BY n_records") == [(0,), (20_000,)]


def test_big_gzipped_files_are_refused_without_inflating_them(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    big = gzip.compress(b"\0" * (64 * 2**20), compresslevel=1)  # 64 MiB inflated, ~64 KB on disk
    for i in range(8):
        (inbox / f"{i}.fit.gz").write_bytes(big)
    proc, peak = import_fit(tmp_path / "w.duckdb", inbox, env={"RUNLIFT_IMPORT_WORKERS": "2"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(f"larger than {MAX_FIT_BYTES} bytes uncompressed") == 8
    print(f"gz bombs: peak {peak / 2**20:.0f} MiB")
    assert peak < 600 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_many_files_of_tiny_records_keep_memory_bounded(tmp_path):
    """Each file is under the caps; together their decoded tables would not fit in memory at once."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    one = hostile_fit(240_000)  # 480 KB, 240,000 records each: ~20 MB of Arrow
    for i in range(60):  # 29 MB of FIT in all: 14 million records
        (inbox / f"{i:02d}.fit").write_bytes(one[:-2] + bytes([i, 0]))  # distinct content (bad CRC: partial)
    db = tmp_path / "w.duckdb"
    proc, peak = import_fit(db, inbox, timeout=300, env={"RUNLIFT_IMPORT_WORKERS": "2"})
    assert proc.returncode == 0, proc.stderr
    assert "60 new" in proc.stdout
    print(f"many tiny-record files: peak {peak / 2**20:.0f} MiB")
    assert peak < GiB, f"peak {peak / 2**20:.0f} MiB"
    assert q(db, "SELECT count(*) FROM raw.fit_records") == [(60 * 240_000,)]


def test_a_small_zip_holding_a_huge_inner_zip_writes_no_temporary_file(corpus, tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_STORED) as z:
        z.writestr("zeros.fit", b"\0" * (200 * 2**20))  # stored: the inner zip is 200 MB
    outer = tmp_path / "export.zip"
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("inner.zip", inner.getvalue())
        z.writestr("a.fit", (corpus / GOOD).read_bytes())
    del inner
    assert outer.stat().st_size < 5 * 2**20
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc, peak = import_fit(tmp_path / "w.duckdb", outer, env={"TMPDIR": str(tmp)})
    assert proc.returncode == 0, proc.stderr
    assert "inner.zip: an inner zip that inflates" in proc.stdout and "a zip bomb, not read" in proc.stdout
    assert "1 new" in proc.stdout
    assert peak < GiB
    assert not list(tmp.rglob("*"))  # nothing was spooled


def test_inner_zips_beyond_the_temporary_space_are_not_read(monkeypatch, corpus, tmp_path):
    from runlift.connectors.fit import sources

    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.fit", (corpus / GOOD).read_bytes())
    inner_bytes = inner.getvalue()
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_STORED) as z:
        z.writestr("one.zip", inner_bytes)
    monkeypatch.setattr(sources, "MAX_TEMP_BYTES", len(inner_bytes) - 1)
    found = list(sources._from_zip("x.zip", io.BytesIO(outer.getvalue()), False, sources.MAX_TEMP_BYTES))
    assert [(s.path, s.error) for s in found] == [
        ("x.zip!/one.zip", f"an inner zip of {len(inner_bytes)} bytes, over the {len(inner_bytes) - 1} bytes "
                           "of temporary space for archives, not read")]


# --- disk full (issue 12, item 10) ----------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of 8 MiB (needs root); skipped with the reason where it cannot be mounted."""
    disk = tmp_path / "disk"
    disk.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {proc.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_disk_full_reports_the_real_error_and_leaves_no_blobs_without_rows(small_disk, tmp_path):
    from runlift.connectors.fit.sources import FitSource
    from runlift.flows.fit_pipeline import import_sources
    from runlift.standins.fit_writer import vary
    from runlift.warehouse import db as wdb

    con = wdb.connect(small_disk / "w.duckdb")
    blobs = tmp_path / "blobs"
    data = (ROOT.parent / "shared/fit-corpus/fitparse-tests/activity-large-fenxi2-multisport.fit").read_bytes()
    try:
        with pytest.raises(Exception) as caught:
            import_sources(con, blobs, "me", (FitSource(f"f{k}.fit", vary(data, k)) for k in range(40)), workers=1)
        assert "No space left on device" in str(caught.value)
        assert "no transaction is active" not in str(caught.value)
        assert "Current transaction is aborted" not in str(caught.value)
        rows = {r[0] for r in con.execute("SELECT blob_path FROM raw.fit_files").fetchall()}
    finally:
        con.close()
    kept = {str(p.relative_to(blobs)) for p in blobs.rglob("*.gz")}
    assert kept == rows  # no kept bytes without rows (here: none of either)


def test_disk_full_through_the_command_says_so_in_one_line(small_disk, tmp_path):
    from runlift.standins.fit_writer import vary

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    data = (ROOT.parent / "shared/fit-corpus/fitparse-tests/activity-large-fenxi2-multisport.fit").read_bytes()
    for k in range(40):
        (inbox / f"{k:02d}.fit").write_bytes(vary(data, k))
    db = small_disk / "w.duckdb"
    proc, _ = import_fit(db, inbox, timeout=120)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.count("\n") == 2, proc.stderr  # "importing ..." and the error
    error = proc.stderr.splitlines()[-1]
    assert error.startswith("runlift: error: disk full: ") and "No space left on device" in error, error
    assert "transaction" not in error.lower() or "Failed to commit" in error
    rows = {r[0] for r in q(db, "SELECT blob_path FROM raw.fit_files")}
    kept = {str(p.relative_to(small_disk / "w.duckdb.blobs")) for p in (small_disk / "w.duckdb.blobs").rglob("*.gz")}
    assert kept == rows  # every kept blob has its rows (the batches that committed), nothing else


# --- owner-only data files, stale publish temp files (issue 12, items 10 and 12) ------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Import and build + publish as a user whose umask is 022, with a publish's leftovers planted."""
    from runlift.warehouse import db as wdb

    base = tmp_path_factory.mktemp("modes")
    db = base / "w.duckdb"
    old = os.umask(0o022)
    try:
        con = wdb.connect(db, upto=wdb.latest_version() - 1)  # an older warehouse: the import migrates it
        con.close()
    finally:
        os.umask(old)
    db.chmod(0o644)  # as an earlier runlift left it
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = [base / f".w.published.duckdb.{dead.pid}.tmp", base / f".w.published.duckdb.{dead.pid}.tmp.wal"]
    alive = base / f".w.published.duckdb.{os.getpid()}.tmp"  # a publish still running (this process)
    for f in (*stale, alive):
        f.write_bytes(b"x" * 1000)
    env = {**os.environ, "RUNLIFT_HOME": str(base / "home"), "PYTHONPATH": str(ROOT)}
    for args in (["import-fit", "--no-prefect", "--db", str(db), str(ROOT.parent / "shared/fit-corpus" / GOOD)],
                 ["build", "--db", str(db)]):
        proc = subprocess.run([sys.executable, "-m", "runlift.flows.cli", *args], capture_output=True, text=True,
                              env=env, cwd=base, timeout=300, preexec_fn=lambda: os.umask(0o022))
        assert proc.returncode == 0, proc.stderr
    return base, stale, alive


def test_data_files_and_folders_are_owner_only(built):
    base, _, _ = built
    files = [base / "w.duckdb", base / "w.duckdb.lock", base / "w.published.duckdb",
             *base.glob("w.duckdb.bak-*"), *(base / "w.duckdb.blobs").rglob("*")]
    assert list(base.glob("w.duckdb.bak-*")), "the migration made a backup"
    assert len(list((base / "w.duckdb.blobs").rglob("*.gz"))) == 1
    modes = {str(f.relative_to(base)): oct(f.stat().st_mode & 0o777) for f in [base / "w.duckdb.blobs", *files]}
    assert all(m in ("0o600", "0o700") for m in modes.values()), modes


def test_a_failed_publish_leaves_no_temp_files_behind(built):
    base, stale, alive = built
    assert not any(f.exists() for f in stale)  # their process is gone: swept by the next publish
    assert alive.exists()  # a publish whose process still runs is left alone
    assert [f.name for f in base.glob(".w.published.duckdb.*")] == [alive.name]


def test_the_import_reports_what_a_folder_holds_but_is_not_read(corpus, tmp_path):
    from runlift.flows.fit_pipeline import import_paths

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(corpus / GOOD, inbox / "a.fit")
    os.mkfifo(inbox / "b.fit")
    (inbox / "z.fit").symlink_to("/dev/zero")
    summary = import_paths(tmp_path / "w.duckdb", "me", [str(inbox)], workers=1)
    assert summary.files_new == 1
    assert sorted(summary.unreadable) == [
        (str(inbox / "b.fit"), "not a regular file (a FIFO (named pipe)), skipped"),
        (str(inbox / "z.fit"), "symbolic link to a file outside the folders given (/dev/zero), not followed"),
    ]


def test_kept_bytes_left_by_an_interrupted_import_are_swept_by_the_next(tmp_path, corpus):
    """A blob written before a kill -9 reached its commit has no row: the next import removes it (and
    half-written blob files), keeps every blob that rows point at, and says so in its summary."""
    from runlift.flows.fit_pipeline import import_paths
    from runlift.warehouse import db as wdb

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(corpus / GOOD, inbox / "good.fit")
    db = tmp_path / "w.duckdb"
    first = import_paths(db, "me", [inbox], workers=1)
    assert first.files_new == 1 and not first.notes
    blobs = wdb.blob_dir(db)
    (kept,) = [p for p in blobs.rglob("*.fit.gz")]
    orphan = blobs / "ab" / ("ab" + "0" * 62 + ".fit.gz")
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(gzip.compress(b"bytes of a file whose rows never committed"))
    half = kept.parent / ".tmp-x1y2z3.gz"
    half.write_bytes(b"\x1f\x8b")
    again = import_paths(db, "me", [inbox], workers=1)
    assert again.files_known == 1 and again.files_new == 0
    assert again.notes == ["removed 2 kept file(s) without rows, left by an interrupted import"]
    assert sorted(blobs.rglob("*.gz")) == [kept]
    assert q(db, "SELECT blob_path FROM raw.fit_files") == [(str(kept.relative_to(blobs)),)]
