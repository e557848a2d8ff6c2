"""Prefect flow ``import_fit``: FIT files, folders and archives into the warehouse.

One task imports everything the flow is given: the import's own pipeline walks the folders,
streams archives, decodes on every core with one pool of processes and commits file by file, so
splitting it into tasks would only add work (a Prefect task per file costs 6-8 ms and ~27 KB of
Prefect's database, more than decoding a small FIT file; tasks of 250 files each started their
own decoding processes: 31.5 s instead of 13.1 s for 3,000 files). `runlift import-fit` without a
Prefect server calls the same pipeline directly.

In the lake mode (docs/lake.md) the flows take ``lake`` (the attach string) and ``data_path``
beside ``db_path``, and import into the lake.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task

from runlift.flows.fit_pipeline import ImportSummary, Progress, import_paths, reprocess
from runlift.flows.settings import check_athlete_id
from runlift.warehouse.db import Lake, Target

_progress: Progress | None = None  # set by the CLI for a progress bar in this process


def set_progress(callback: Progress | None) -> None:
    global _progress
    _progress = callback


def target_of(db_path: str, lake: str | None = None, data_path: str | None = None) -> Target:
    """The warehouse the flows write: the lake ``lake`` (with its ``data_path``) where given, else
    the DuckDB file ``db_path``."""
    if lake is None:
        return Path(db_path)
    if not data_path:
        raise ValueError(f"the lake {lake} needs its data_path (warehouse.data_path, docs/lake.md)")
    return Lake(lake, data_path)


@task(name="import-fit", task_run_name="import {athlete_id}: {label}")
def import_fit_files(db_path: str, athlete_id: str, paths: list[str], label: str = "",
                     reread: bool = False, lake: str | None = None, data_path: str | None = None) -> ImportSummary:
    """Import FIT files, folders and archives (no retries: a decode is not a network call)."""
    return import_paths(target_of(db_path, lake, data_path), athlete_id, paths, progress=_progress, reread=reread)


@task(name="reprocess-fit")
def reprocess_fit(db_path: str, athlete_id: str | None, lake: str | None = None,
                  data_path: str | None = None) -> ImportSummary:
    return reprocess(target_of(db_path, lake, data_path), athlete_id, progress=_progress)


@flow(name="import_fit", log_prints=False)
def import_fit(db_path: str, athlete_id: str, paths: list[str], reprocess_kept: bool = False,
               reread: bool = False, lake: str | None = None, data_path: str | None = None) -> ImportSummary:
    """Import FIT files for one athlete; with ``reprocess_kept``, re-decode every kept file;
    ``reread``: read every file, even one unchanged since an import read it whole. ``lake`` and
    ``data_path``: import into that lake instead of the file ``db_path`` (docs/lake.md)."""
    check_athlete_id(athlete_id, "the import_fit flow's athlete_id parameter")
    logger = get_run_logger()
    total = ImportSummary()
    if reprocess_kept:
        total.add(reprocess_fit(db_path, athlete_id, lake=lake, data_path=data_path))
    if paths:
        label = paths[0] if len(paths) == 1 else f"{len(paths)} paths"
        total.add(import_fit_files(db_path, athlete_id, paths, label=label, reread=reread, lake=lake,
                                   data_path=data_path))
    for line in total.lines():
        logger.info(line)
    return total


@flow(name="import_fit_inbox")
def import_fit_inbox(config: str | None = None, athlete: str | None = None,
                     db: str | None = None) -> dict[str, ImportSummary]:
    """Import the fit_inbox folders of every configured athlete (or one), as the settings say.

    ``db`` overrides the warehouse path (as --db does). This is what the `fit-inbox` deployment
    in prefect.yaml runs.
    """
    from runlift.flows.settings import load_settings

    logger = get_run_logger()
    settings = load_settings(config, db=db, athlete=athlete, require_athlete=athlete is not None)
    chosen = [athlete] if athlete else list(settings.athletes)
    results: dict[str, ImportSummary] = {}
    for athlete_id in chosen:
        folders = [str(p) for p in settings.athletes[athlete_id].fit_inbox]
        if not folders:
            logger.info("athlete %s has no fit_inbox folders; nothing to import", athlete_id)
            continue
        lake = settings.lake
        results[athlete_id] = import_fit(str(settings.db_path), athlete_id, folders,
                                         lake=lake.attach if lake else None, data_path=lake.data_path if lake else None)
    return results
