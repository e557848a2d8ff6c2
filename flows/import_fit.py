"""Prefect flow ``import_fit``: FIT files, folders and archives into the warehouse.

Tasks batch many files each: a Prefect task per file would cost 6-8 ms and ~27 KB of Prefect's
database per file, more than decoding a small FIT file. The flow expands folders into their
files and cuts them into batches; an archive is one batch (its members stream in order).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from prefect import flow, get_run_logger, task

from runlift.connectors.fit.sources import fit_kind, walk_folder
from runlift.flows.fit_pipeline import ImportSummary, Progress, import_paths, reprocess
from runlift.flows.settings import check_athlete_id

BATCH_FILES = 250
_progress: Progress | None = None  # set by the CLI for a progress bar in this process


def set_progress(callback: Progress | None) -> None:
    global _progress
    _progress = callback


def plan_batches(paths: list[str], batch_files: int = BATCH_FILES,
                 skipped: list[tuple[str, str]] | None = None) -> Iterator[list[str]]:
    """Cut the inputs into batches: plain files in groups of ``batch_files``, each archive alone.

    What a folder holds but is not read (special files, links out of the folder, folders that
    cannot be listed) goes to ``skipped`` as (path, reason), as ``walk_folder`` says.
    """
    batch: list[str] = []
    for p in paths:
        path = Path(p).expanduser()
        for found in walk_folder(path, skipped) if path.is_dir() else [path]:
            if fit_kind(found.name) == "zip":
                yield [str(found)]
                continue
            batch.append(str(found))
            if len(batch) >= batch_files:
                yield batch
                batch = []
    if batch:
        yield batch


@task(name="import-fit-batch", task_run_name="import {athlete_id}: {label}")
def import_fit_batch(db_path: str, athlete_id: str, paths: list[str], label: str = "") -> ImportSummary:
    """Import one batch of FIT files (no retries: a decode is not a network call)."""
    return import_paths(Path(db_path), athlete_id, paths, progress=_progress)


@task(name="reprocess-fit")
def reprocess_fit(db_path: str, athlete_id: str | None) -> ImportSummary:
    return reprocess(Path(db_path), athlete_id, progress=_progress)


@flow(name="import_fit", log_prints=False)
def import_fit(db_path: str, athlete_id: str, paths: list[str], reprocess_kept: bool = False) -> ImportSummary:
    """Import FIT files for one athlete; with ``reprocess_kept``, re-decode every kept file."""
    check_athlete_id(athlete_id, "the import_fit flow's athlete_id parameter")
    logger = get_run_logger()
    total = ImportSummary()
    if reprocess_kept:
        total.add(reprocess_fit(db_path, athlete_id))
    skipped: list[tuple[str, str]] = []
    for i, batch in enumerate(plan_batches(paths, skipped=skipped)):
        label = batch[0] if len(batch) == 1 else f"batch {i + 1} ({len(batch)} files)"
        total.add(import_fit_batch(db_path, athlete_id, batch, label=label))
    total.unreadable.extend(skipped)
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
        results[athlete_id] = import_fit(str(settings.db_path), athlete_id, folders)
    return results
