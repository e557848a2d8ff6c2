#!/usr/bin/env python3
"""Benchmark: runlift's end-to-end FIT import of a Garmin-export-style archive, against decoders.

    .venv/bin/python bench/fit_import.py [--files N] [--sample K] [--out DIR]

1. Generates (once per N, cached in OUT) a zip of zips like Garmin's "Export your data":
   ~70% one-hour runs (3600 records at 1 Hz, running dynamics, GPS) and ~30% strength
   sessions, written with connectors.fit.synth (a handful of distinct encodings, the rest made
   distinct with synth.vary).
2. Imports the archive with flows.fit_pipeline.import_paths into a fresh warehouse, in a
   subprocess (its own ru_maxrss is the peak RSS of the import).
3. Decodes a sample of K files of the same archive (same run/strength mix, picked evenly) with
   fitparse 1.2.0 (the original package, in its own venv .venv-fitparse12, created if missing),
   python-fitparse 2.7.0 (raw message loop), runlift's FitparseDecoder and garmin-fit-sdk's
   Decoder, each in its own subprocess, one timing per file; medians over the files.
4. Prints a fixed-width summary with ratios against fitparse 1.2.0.

MB are 10^6 bytes of uncompressed FIT data. Top-level imports are standard library only: this
same file runs as the child process inside the fitparse 1.2.0 venv.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THIS = Path(__file__).resolve()
GEN_VERSION = 1  # bump when the generated archive changes
FP12_VENV = ROOT / ".venv-fitparse12"
FP12_REQ = "fitparse==1.2.0"
RESULT_TAG = "BENCH_RESULT "
RUN_SHARE = 0.7
N_BASE_RUNS = 8
N_BASE_STRENGTH = 4


def log(msg: str) -> None:
    print(msg, flush=True)


# --- 1. the archive ---------------------------------------------------------------------------

def _archive_paths(out: Path, n: int) -> tuple[Path, Path]:
    return out / f"garmin-export-N{n}.zip", out / f"garmin-export-N{n}.json"


def _strength_sets(rng, synth, profile) -> list:
    """4-6 exercises x 3 sets from synth.STRENGTH_PLAN, like a real gym session."""
    keys = list(synth.STRENGTH_PLAN)
    chosen = rng.sample(keys, rng.randint(4, 6))
    sets = []
    for key in chosen:
        cat, ex, (lo, hi), (r_lo, r_hi), (d_lo, d_hi) = synth.STRENGTH_PLAN[key]
        names = profile["types"].get(f"{cat}_exercise_name", {})
        subtype = next((num for num, name in names.items() if name == ex), None) if ex else None
        base = lo + (hi - lo) * rng.uniform(0.3, 0.8)
        reps = rng.randint(r_lo, r_hi)
        for s in range(3):
            w = 0.0 if hi == 0 else round(base * (1.0 + 0.04 * s) / 2.5) * 2.5
            sets.append(synth.SynthSet(category=cat, reps=reps, weight_kg=w,
                                       duration_s=round(rng.uniform(d_lo, d_hi), 1),
                                       rest_s=float(round(rng.uniform(75.0, 150.0))), subtype=subtype))
    return sets


def generate(out: Path, n: int) -> dict:
    """Write the archive and its manifest; return the manifest."""
    import datetime as dt
    import random

    from garmin_fit_sdk import Profile

    from connectors.fit import synth

    rng = random.Random(20260315)
    n_runs = max(1, round(n * RUN_SHARE)) if n > 1 else 1
    n_str = n - n_runs
    denver = -7 * 3600
    serial = 3_912_345_678

    t0 = time.perf_counter()
    base_runs: list[bytes] = []
    for i in range(min(N_BASE_RUNS, n_runs)):
        start = dt.datetime(2026, 3, 1 + i, 13, 30, rng.randrange(60))  # 06:30 local
        base_runs.append(synth.encode_run(
            start_utc=start, utc_offset_s=denver, duration_s=3600,
            distance_m=round(rng.uniform(9500.0, 13500.0), 1), avg_hr=rng.randint(140, 162),
            cadence_spm=round(rng.uniform(164.0, 180.0), 1), ascent_m=round(rng.uniform(25.0, 140.0)),
            seed=1000 + i, serial_number=serial))
    base_str: list[bytes] = []
    for i in range(min(N_BASE_STRENGTH, n_str)):
        start = dt.datetime(2026, 3, 1 + i, 1, 0, rng.randrange(60))  # 18:00 local the day before
        base_str.append(synth.encode_strength(
            start_utc=start, utc_offset_s=denver, sets=_strength_sets(rng, synth, Profile),
            avg_hr=rng.randint(100, 122), seed=2000 + i, serial_number=serial))
    t_encode = time.perf_counter() - t0

    kinds = ["run"] * n_runs + ["strength"] * n_str
    rng.shuffle(kinds)
    n_parts = 2 if n < 100 else 3
    n_parts = min(n_parts, n)
    per_part = -(-n // n_parts)
    files = []
    parts: list[dict[str, bytes]] = [{} for _ in range(n_parts)]
    seen = {"run": 0, "strength": 0}
    for i, kind in enumerate(kinds):
        bases = base_runs if kind == "run" else base_str
        b = seen[kind] % len(bases)
        seen[kind] += 1
        data = synth.vary(bases[b], i + 1)  # k = i + 1: every file distinct
        name = f"{17_000_000_000 + 7919 * i}_ACTIVITY.fit"
        part = i // per_part
        parts[part][name] = data
        files.append({"index": i, "kind": kind, "base": b, "part": part, "name": name, "bytes": len(data)})
    t_vary = time.perf_counter() - t0 - t_encode

    archive, manifest_path = _archive_paths(out, n)
    tmp = archive.with_suffix(".zip.tmp")
    inner_names = []
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as outer:
        outer.writestr("DI_CONNECT/DI-Connect-Fitness/runner@example.com_0_summarizedActivities.json",
                       json.dumps([{"summarizedActivitiesExport": []}]))
        for j, members in enumerate(parts):
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as inner:
                for name, data in members.items():
                    inner.writestr(name, data)
            inner_name = f"DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part{j + 1}.zip"
            outer.writestr(inner_name, buf.getvalue())
            inner_names.append(inner_name)
    os.replace(tmp, archive)
    gen_s = time.perf_counter() - t0
    manifest = {
        "version": GEN_VERSION, "n": n, "runs": n_runs, "strength": n_str,
        "distinct_runs": len(base_runs), "distinct_strength": len(base_str),
        "inner_zips": inner_names, "files": files, "fit_bytes": sum(f["bytes"] for f in files),
        "archive_bytes": archive.stat().st_size, "gen_seconds": gen_s,
        "encode_seconds": t_encode, "vary_seconds": t_vary,
    }
    manifest_path.write_text(json.dumps(manifest, indent=1))
    return manifest


def load_or_generate(out: Path, n: int) -> tuple[dict, bool]:
    archive, manifest_path = _archive_paths(out, n)
    if archive.exists() and manifest_path.exists():
        try:
            m = json.loads(manifest_path.read_text())
            if m.get("version") == GEN_VERSION and m.get("n") == n and m.get("archive_bytes") == archive.stat().st_size:
                return m, True
        except (OSError, ValueError):
            pass
    return generate(out, n), False


def pick_sample(manifest: dict, k: int) -> list[dict]:
    """k files with the archive's run/strength mix, evenly spaced within each kind."""
    files = manifest["files"]
    by_kind = {kind: [f for f in files if f["kind"] == kind] for kind in ("run", "strength")}
    k = min(k, len(files))
    k_run = min(len(by_kind["run"]), max(1 if by_kind["run"] else 0, round(k * len(by_kind["run"]) / len(files))))
    k_str = min(len(by_kind["strength"]), k - k_run)
    k_run = min(len(by_kind["run"]), k - k_str)
    picked = []
    for kind, count in (("run", k_run), ("strength", k_str)):
        pool = by_kind[kind]
        picked += [pool[int((j + 0.5) * len(pool) / count)] for j in range(count)]
    return sorted(picked, key=lambda f: f["index"])


def extract_sample(archive: Path, manifest: dict, sample: list[dict], dest: Path) -> list[Path]:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    wanted: dict[int, list[dict]] = {}
    for f in sample:
        wanted.setdefault(f["part"], []).append(f)
    paths = {}
    with zipfile.ZipFile(archive) as outer:
        for part, fs in wanted.items():
            with zipfile.ZipFile(io.BytesIO(outer.read(manifest["inner_zips"][part]))) as inner:
                for f in fs:
                    p = dest / f"{f['index']:05d}-{f['kind']}-{f['name']}"
                    p.write_bytes(inner.read(f["name"]))
                    paths[f["index"]] = p
    return [paths[f["index"]] for f in sample]


# --- children ---------------------------------------------------------------------------------

def child_import(archive: str, db: str) -> dict:
    t0 = time.perf_counter()
    from flows.fit_pipeline import import_paths
    t_mod = time.perf_counter() - t0
    t1 = time.perf_counter()
    s = import_paths(Path(db), "bench", [archive])
    wall = time.perf_counter() - t1
    return {
        "module_import_s": t_mod, "wall_s": wall, "summary_seconds": s.seconds,
        "files_seen": s.files_seen, "files_new": s.files_new, "ok": s.ok, "partial": s.partial,
        "rejected": s.rejected, "skipped": s.skipped, "sessions": s.sessions, "sets": s.sets,
        "records": s.records, "bytes_read": s.bytes_read,
        "problems": [list(p) for p in s.problems[:5]], "unreadable": [list(u) for u in s.unreadable[:5]],
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def _decoder(kind: str):
    """(label, decode(bytes) -> (messages or None, records))."""
    from importlib import metadata

    if kind in ("fitparse12", "fitparse27raw"):
        import fitparse

        try:
            label = f"python-fitparse {metadata.version('python-fitparse')} (raw loop)"
        except metadata.PackageNotFoundError:
            label = f"fitparse {metadata.version('fitparse')}"

        def decode(data: bytes):
            msgs = recs = 0
            for m in fitparse.FitFile(io.BytesIO(data), check_crc=True).get_messages():
                m.get_values()
                msgs += 1
                if m.name == "record":
                    recs += 1
            return msgs, recs
        return label, decode
    if kind == "runlift":
        from connectors.fit.decode import FitparseDecoder

        dec = FitparseDecoder()

        def decode(data: bytes):
            r = dec.decode(data)
            if r.status != "ok":
                raise RuntimeError(f"runlift decoder: {r.status}: {r.error}")
            return None, r.n_records
        return f"runlift FitparseDecoder ({dec.name})", decode
    if kind == "garmin":
        from garmin_fit_sdk import Decoder, Stream

        def decode(data: bytes):
            messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
            if errors:
                raise RuntimeError(f"garmin-fit-sdk: {errors[0]}")
            return sum(len(v) for v in messages.values()), len(messages.get("record_mesgs", ()))
        return f"garmin-fit-sdk {metadata.version('garmin-fit-sdk')} Decoder", decode
    raise SystemExit(f"unknown decoder {kind}")


def child_decode(kind: str, files: list[str]) -> dict:
    label, decode = _decoder(kind)
    blobs = [(Path(f).name, Path(f).read_bytes()) for f in files]
    decode(blobs[0][1])  # warm-up: lazy profile tables, caches
    rows = []
    for name, data in blobs:
        t0 = time.perf_counter()
        msgs, recs = decode(data)
        dt_s = time.perf_counter() - t0
        rows.append({"name": name, "bytes": len(data), "seconds": dt_s, "messages": msgs, "records": recs})
    return {"label": label, "python": sys.version.split()[0], "files": rows}


def run_child(python: str, args: list[str], timeout: float | None = None) -> tuple[dict | None, str, float]:
    """Run this file as a child; return (result, error text, wall seconds)."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run([python, str(THIS), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, str(exc), time.perf_counter() - t0
    wall = time.perf_counter() - t0
    for line in reversed(p.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):]), "", wall
    tail = "\n".join((p.stderr or p.stdout).strip().splitlines()[-15:])
    return None, f"exit {p.returncode}: {tail}", wall


# --- fitparse 1.2.0 venv ----------------------------------------------------------------------

def _fp12_version(py: Path) -> str | None:
    if not py.exists():
        return None
    p = subprocess.run([str(py), "-c", "from importlib import metadata as m; import fitparse; print(m.version('fitparse'))"],
                       capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else None


def ensure_fp12() -> tuple[Path | None, str]:
    """The python of .venv-fitparse12 with fitparse 1.2.0, creating it if missing; else (None, why)."""
    py = FP12_VENV / "bin" / "python"
    if _fp12_version(py) == "1.2.0":
        return py, "existing venv"
    base = shutil.which("python3") or getattr(sys, "_base_executable", sys.executable)
    steps = []
    if not py.exists():
        steps.append([base, "-m", "venv", str(FP12_VENV)])
    steps.append([str(FP12_VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", FP12_REQ])
    for cmd in steps:
        log(f"  $ {' '.join(cmd)}")
        try:
            p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"{' '.join(cmd)} failed: {exc}"
        if p.returncode != 0:
            tail = "\n".join((p.stderr or p.stdout).strip().splitlines()[-5:])
            return None, f"{' '.join(cmd)} failed (exit {p.returncode}): {tail}"
    v = _fp12_version(py)
    if v != "1.2.0":
        return None, f"{FP12_VENV.name} has fitparse {v!r}, not 1.2.0"
    return py, "created now"


# --- stats and report -------------------------------------------------------------------------

def decoder_stats(res: dict) -> dict:
    rows = res["files"]
    mbps = [r["bytes"] / 1e6 / r["seconds"] for r in rows]
    recs = [r["records"] / r["seconds"] for r in rows]
    msgs = [r["messages"] / r["seconds"] for r in rows if r["messages"] is not None]
    total_b = sum(r["bytes"] for r in rows)
    total_s = sum(r["seconds"] for r in rows)
    return {
        "label": res["label"], "n": len(rows), "mbps": statistics.median(mbps),
        "recs": statistics.median(recs), "msgs": statistics.median(msgs) if msgs else None,
        "total_mbps": total_b / 1e6 / total_s, "total_s": total_s,
        "records": sum(r["records"] for r in rows),
    }


def fmt(x: float | None, spec: str) -> str:
    return "n/a" if x is None else format(x, spec)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=500, help="activity files in the archive (default 500)")
    ap.add_argument("--sample", type=int, default=20, help="files decoded per decoder (default 20)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="work folder (default bench/out)")
    ap.add_argument("--child", choices=("import", "decode"), help=argparse.SUPPRESS)
    ap.add_argument("--archive", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--decoder", help=argparse.SUPPRESS)
    ap.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.child == "import":
        print(RESULT_TAG + json.dumps(child_import(a.archive, a.db)), flush=True)
        return 0
    if a.child == "decode":
        print(RESULT_TAG + json.dumps(child_decode(a.decoder, a.paths)), flush=True)
        return 0

    if a.files < 1 or a.sample < 1:
        ap.error("--files and --sample must be >= 1")
    out = a.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    n = a.files
    notes: list[str] = []
    log(f"runlift FIT import benchmark: N={n} files, sample K={a.sample}, out={out}")
    log(f"python {sys.version.split()[0]} ({sys.executable}), {os.cpu_count()} CPUs")

    # 1. archive
    log("\n[1/3] archive")
    manifest, cached = load_or_generate(out, n)
    archive, _ = _archive_paths(out, n)
    fit_mb = manifest["fit_bytes"] / 1e6
    if cached:
        log(f"  generation: skipped, cached {archive.name} (generated earlier in {manifest['gen_seconds']:.1f} s)")
    else:
        log(f"  generation: {manifest['gen_seconds']:.1f} s (encode {manifest['distinct_runs']} runs + "
            f"{manifest['distinct_strength']} strength sessions {manifest['encode_seconds']:.1f} s, "
            f"vary {manifest['vary_seconds']:.1f} s, zip {manifest['gen_seconds'] - manifest['encode_seconds'] - manifest['vary_seconds']:.1f} s)")
    log(f"  {archive}: {n} files ({manifest['runs']} one-hour runs from {manifest['distinct_runs']} encodings, "
        f"{manifest['strength']} strength sessions from {manifest['distinct_strength']}), "
        f"{len(manifest['inner_zips'])} inner zips, {fit_mb:.1f} MB FIT, {manifest['archive_bytes'] / 1e6:.1f} MB zipped")

    # 2. end-to-end import (first child: RUSAGE_CHILDREN then covers it alone)
    log("\n[2/3] end-to-end import (flows.fit_pipeline.import_paths, subprocess, fresh warehouse)")
    wh_dir = out / f"warehouse-N{n}"
    if wh_dir.exists():
        shutil.rmtree(wh_dir)
    wh_dir.mkdir(parents=True)
    imp, err, proc_wall = run_child(sys.executable, ["--child", "import", "--archive", str(archive),
                                                     "--db", str(wh_dir / "runlift.duckdb")])
    children_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if imp is None:
        log(f"  IMPORT FAILED: {err}")
        return 1
    imp_mb = imp["bytes_read"] / 1e6
    imp_wall = imp["wall_s"]
    imp_rss = imp["maxrss_kb"] / 1024
    e2e_mbps = imp_mb / imp_wall
    log(f"  {imp['files_seen']} files seen, {imp['ok']} ok, {imp['partial']} partial, {imp['rejected']} rejected, "
        f"{imp['skipped']} skipped; {imp['sessions']} sessions, {imp['sets']} active sets, {imp['records']} records")
    log(f"  import_paths wall {imp_wall:.1f} s (process wall incl. startup {proc_wall:.1f} s, module import "
        f"{imp['module_import_s']:.2f} s); peak RSS {imp_rss:.0f} MB (RUSAGE_CHILDREN {children_rss_mb:.0f} MB)")
    if imp["ok"] != n or imp["problems"] or imp["unreadable"]:
        notes.append(f"import: expected {n} ok files, got {imp['ok']}; problems {imp['problems']} {imp['unreadable']}")

    # 3. decoders on a sample
    sample = pick_sample(manifest, a.sample)
    n_run_s = sum(f["kind"] == "run" for f in sample)
    sample_paths = extract_sample(archive, manifest, sample, out / f"sample-N{n}-K{len(sample)}")
    spaths = [str(p) for p in sample_paths]
    log(f"\n[3/3] decoders on a sample of {len(sample)} files ({n_run_s} runs, {len(sample) - n_run_s} strength), "
        f"{sum(f['bytes'] for f in sample) / 1e6:.1f} MB")
    stats: dict[str, dict] = {}
    log(f"  fitparse 1.2.0 venv: {FP12_VENV}")
    fp12_py, why = ensure_fp12()
    plan = []
    if fp12_py is None:
        note = f"fitparse 1.2.0 baseline SKIPPED: could not set up {FP12_VENV.name}: {why}"
        log(f"  {note}")
        notes.append(note)
    else:
        log(f"  fitparse 1.2.0 venv ready ({why})")
        plan.append(("fitparse12", str(fp12_py)))
    plan += [("fitparse27raw", sys.executable), ("runlift", sys.executable), ("garmin", sys.executable)]
    for kind, py in plan:
        res, err, _ = run_child(py, ["--child", "decode", "--decoder", kind, *spaths])
        if res is None:
            note = f"decoder {kind} FAILED: {err}"
            log(f"  {note}")
            notes.append(note)
            continue
        st = decoder_stats(res)
        stats[kind] = st
        log(f"  {st['label']:<48} median {st['mbps']:6.3f} MB/s, {st['recs']:8.0f} records/s, "
            f"{fmt(st['msgs'], '8.0f')} msgs/s (python {res['python']}; sample total {st['total_s']:.1f} s)")
        if st["records"] != stats[next(iter(stats))]["records"]:
            notes.append(f"{kind}: decoded {st['records']} records, others {stats[next(iter(stats))]['records']}")

    base = stats.get("fitparse12")
    base_mbps = base["mbps"] if base else None

    def ratio(x: float) -> str:
        return f"{x / base_mbps:.2f}x" if base_mbps else "n/a"

    # 4. summary
    lines = [
        "",
        "=" * 96,
        f"runlift FIT import benchmark  N={n}  sample K={len(sample)}  python {sys.version.split()[0]}  "
        f"{os.cpu_count()} CPUs",
        "=" * 96,
        f"archive   {archive.name}: {manifest['runs']} runs (1 h, 3600 records @ 1 Hz) + {manifest['strength']} "
        f"strength, {len(manifest['inner_zips'])} inner zips, {fit_mb:.1f} MB FIT / {manifest['archive_bytes'] / 1e6:.1f} MB zipped",
        f"generation  {'cached (skipped); first generated in' if cached else 'took'} {manifest['gen_seconds']:.1f} s",
        "",
        "End-to-end import (import_paths in a subprocess, fresh warehouse; MB = uncompressed FIT)",
        f"{'files':>7} {'MB':>8} {'wall s':>8} {'files/s':>8} {'MB/s':>8} {'records/s':>10} {'peak RSS MB':>12}",
        f"{imp['files_seen']:>7} {imp_mb:>8.1f} {imp_wall:>8.1f} {imp['files_seen'] / imp_wall:>8.2f} "
        f"{e2e_mbps:>8.3f} {imp['records'] / imp_wall:>10.0f} {imp_rss:>12.0f}",
        "",
        f"Decoders on {len(sample)} sample files ({n_run_s} runs, {len(sample) - n_run_s} strength); medians of per-file rates",
        f"{'decoder':<52} {'MB/s':>7} {'records/s':>10} {'msgs/s':>9} {'vs 1.2.0':>9} {'sum MB/s':>9}",
    ]
    for kind in ("fitparse12", "fitparse27raw", "runlift", "garmin"):
        st = stats.get(kind)
        if st is None:
            label = {"fitparse12": "fitparse 1.2.0"}.get(kind, kind)
            lines.append(f"{label:<52} {'skipped':>7}")
            continue
        lines.append(f"{st['label']:<52} {st['mbps']:>7.3f} {st['recs']:>10.0f} {fmt(st['msgs'], '.0f'):>9} "
                     f"{ratio(st['mbps']):>9} {st['total_mbps']:>9.3f}")
    lines += [
        f"{'runlift end-to-end import (all files, wall)':<52} {e2e_mbps:>7.3f} {imp['records'] / imp_wall:>10.0f} "
        f"{'':>9} {ratio(e2e_mbps):>9} {e2e_mbps:>9.3f}",
        "(sum MB/s: total MB / total seconds, over the sample for decoders, over all files for the import)",
        "",
        f"runlift end-to-end MB/s / fitparse 1.2.0 median MB/s = "
        + (f"{e2e_mbps:.3f} / {base_mbps:.3f} = {e2e_mbps / base_mbps:.2f}" if base_mbps else "n/a (baseline skipped)"),
    ]
    lines += [f"note: {x}" for x in notes]
    lines.append("=" * 96)
    log("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
