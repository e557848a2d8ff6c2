"""`runlift import-lifts`: a Strong or Hevy CSV export into raw.lift_csv_sets (docs/hevy.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from runlift.connectors.lift_csv import LiftCsvError, parse_lift_csv
from runlift.flows.settings import Settings
from runlift.warehouse import db as wdb
from runlift.warehouse import lift_csv_loader
from runlift.warehouse.lock import writer

MAX_CSV_BYTES = 256 * 1024 * 1024


@dataclass
class LiftImport:
    path: Path
    app: str
    sets: int = 0
    new: int = 0
    changed: int = 0
    workouts: int = 0
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{self.path.name}: {self.app} export, {self.workouts} workouts, {self.sets} sets: "
               f"{self.new} new, {self.changed} changed, {self.sets - self.new - self.changed} already stored"]
        out += [f"{self.path.name}: {p}" for p in self.problems[:20]]
        if len(self.problems) > 20:
            out.append(f"{self.path.name}: ... and {len(self.problems) - 20} more lines skipped")
        return out


def import_lifts(settings: Settings, athlete_id: str, path: Path, *, weight_unit: str | None = None,
                 distance_unit: str | None = None) -> LiftImport:
    """Read ``path`` (a Strong or Hevy CSV export) and store its sets for ``athlete_id``.
    Raises :class:`LiftCsvError` when the file is not one (one line saying what to do)."""
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            raise LiftCsvError(f"{path} is larger than {MAX_CSV_BYTES // 2**20} MB; not a lifting app's export")
        text = path.read_bytes().decode("utf-8-sig", "replace")
    except OSError as exc:
        raise LiftCsvError(f"cannot read {path}: {exc.strerror or exc}") from None
    parsed = parse_lift_csv(text, weight_unit=weight_unit, distance_unit=distance_unit)
    result = LiftImport(path, parsed.app, sets=len(parsed.rows), problems=parsed.problems,
                        workouts=len({r["started_local"] for r in parsed.rows}))
    with writer(settings.target, athlete_id) as con:
        result.new, result.changed = lift_csv_loader.save_sets(con, athlete_id, parsed.app, parsed.rows, path.name)
        wdb.checkpoint(con)
    return result
