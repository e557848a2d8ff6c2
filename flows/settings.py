"""runlift's settings: one TOML file, overridden by environment variables, overridden by options.

Precedence for every setting: command-line option > environment variable > settings file > default.
A missing or invalid setting raises :class:`SettingsError` naming the setting.
"""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
import math
import os
import re
import tomllib
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from runlift.warehouse.db import Lake, Target

if TYPE_CHECKING:
    from runlift.warehouse.app_exercises import AppExercise

DEFAULT_ATHLETE = "me"
DB_FILENAME = "runlift.duckdb"
UNITS = ("metric", "imperial")
SEXES = ("female", "male", "unspecified")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names it and says what to do."""


# An athlete id names files (the token file) and appears in every row: letters, digits, '_', '.', '-',
# 1 to 64 of them, starting with a letter or digit, never '..' (documented in docs/security.md).
ATHLETE_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
ATHLETE_ID_RULE = ("1 to 64 letters (A-Z, a-z), digits, '_', '.' or '-', starting with a letter or digit, "
                   "without '..'")


def check_athlete_id(athlete_id: object, origin: str) -> str:
    """``athlete_id`` if it matches :data:`ATHLETE_ID_PATTERN`, else a SettingsError naming it and ``origin``."""
    if (not isinstance(athlete_id, str) or not ATHLETE_ID_PATTERN.fullmatch(athlete_id) or ".." in athlete_id):
        shown = repr(athlete_id) if len(repr(athlete_id)) <= 80 else repr(athlete_id)[:77] + "..."
        raise SettingsError(f"athlete id {shown} (from {origin}) is not valid: use {ATHLETE_ID_RULE}")
    return athlete_id


def is_loopback_host(host: str | None) -> bool:
    """127.0.0.0/8, ::1 or localhost: traffic that never leaves this machine."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str, origin: str, name: str = "strava.base_url", example: str = "https://www.strava.com",
                   what: str = "the client secret and tokens") -> str:
    """https://, or http:// to a loopback address only: the client secret (Hevy: the API key) must not travel in
    clear text. ``name``, ``example`` and ``what`` name the setting, a valid value and what would travel."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise SettingsError(f"setting `{name}` (from {origin}): {url!r} is not a URL like {example}")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise SettingsError(f"setting `{name}` (from {origin}): {url!r} would send {what} "
                            "unencrypted; use https:// (plain http:// is allowed only to 127.0.0.1, ::1 or "
                            "localhost, e.g. the emulator)")
    return url


DEFAULT_BODY_MASS_KG = 70.0  # neither the settings nor a scale file give one


@dataclass(frozen=True)
class BodyMass:
    """Body mass in kilograms, in force from ``since`` (None: from the beginning)."""

    kg: float
    since: dt.date | None = None


@dataclass(frozen=True)
class Race:
    """A planned race: its taper (``taper_days`` before race day, default 21 from 42 km on, else 14)
    raises no low-load flag."""

    date: dt.date
    name: str
    distance_km: float | None = None
    taper_days: int | None = None


@dataclass(frozen=True)
class Block:
    """A training block (``athletes.<id>.blocks``): its days ``start`` .. ``end`` inclusive and,
    optionally, the name of its goal race (one of ``athletes.<id>.races``)."""

    name: str
    start: dt.date
    end: dt.date
    race: str | None = None


@dataclass(frozen=True)
class Athlete:
    id: str
    timezone: str = "UTC"
    body_mass: tuple[BodyMass, ...] = ()  # (): not in the settings (the scale's, else DEFAULT_BODY_MASS_KG)
    sex: str = "unspecified"
    max_hr_bpm: int | None = None
    resting_hr_bpm: int | None = None
    fit_inbox: tuple[Path, ...] = ()
    strava_token_file: Path | None = None
    garmin_token_file: Path | None = None
    acwr_flags: bool | None = None  # None: the [flags] acwr default
    races: tuple[Race, ...] = ()
    hevy_api_key: str | None = field(default=None, repr=False)  # this athlete's Hevy API key (a secret)
    blocks: tuple[Block, ...] = ()  # (): 12-week blocks ending at the latest data (docs/metrics.md)

    def body_mass_on(self, day: dt.date) -> float:
        """Body mass in kg the settings give for ``day`` (the latest dated value not after it; before
        the first date, the earliest value; none given: DEFAULT_BODY_MASS_KG). The marts also use
        scale measurements where the settings give none (docs/metrics.md)."""
        if not self.body_mass:
            return DEFAULT_BODY_MASS_KG
        current = None
        for bm in sorted(self.body_mass, key=lambda b: b.since or dt.date.min):
            if bm.since is None or bm.since <= day:
                current = bm.kg
        return current if current is not None else sorted(
            self.body_mass, key=lambda b: b.since or dt.date.min)[0].kg


@dataclass(frozen=True)
class StravaSettings:
    """[strava]: the application's credentials and how the sync behaves."""

    client_id: str | None = None
    client_secret: str | None = None
    base_url: str = "https://www.strava.com"
    lookback_days: int = 7
    full_listing_every_days: int = 7
    relist_after_s: int = 3600
    fetch_details: bool = False
    stream_sport_types: tuple[str, ...] = ("Run", "TrailRun", "VirtualRun")
    stream_keys: tuple[str, ...] = ("time", "distance", "velocity_smooth", "heartrate", "cadence", "altitude",
                                    "grade_smooth", "moving")
    rate_headroom: int = 5
    rate_window_s: int = 900
    rate_day_s: int = 86400
    retries: int = 3
    timeout_s: float = 30.0
    callback_port: int = 8723
    gear_refresh_days: int = 7


@dataclass(frozen=True)
class HevySettings:
    """[hevy]: the Hevy API (docs/hevy.md). ``api_key`` (env HEVY_API_KEY) is the key of ``athlete``
    (default: the only configured athlete, else "me"); athletes.<id>.hevy_api_key gives any athlete one."""

    api_key: str | None = field(default=None, repr=False)
    athlete: str | None = None
    base_url: str = "https://api.hevyapp.com"
    min_interval_s: float = 0.5
    retries: int = 3
    backoff_s: float = 1.0
    timeout_s: float = 30.0
    lookback_hours: int = 24
    templates_every_days: int = 7
    body_measurements: bool = True


@dataclass(frozen=True)
class GarminSettings:
    """[garmin]: Garmin Connect's address and how the sync behaves (docs/garmin.md)."""

    base_url: str = "https://connectapi.garmin.com"
    lookback_days: int = 7
    page_size: int = 100
    pace_s: float = 1.0
    weigh_ins: bool = True
    history_days: int = 3650
    retries: int = 2
    timeout_s: float = 30.0


@dataclass(frozen=True)
class PublishSettings:
    """[publish]: the read-only copy for dashboards."""

    path: Path | None = None  # default: <warehouse>.published.duckdb beside the warehouse
    include_location: bool = False


@dataclass(frozen=True)
class FlagSettings:
    """[flags]: which disputed flags are raised (per athlete: athletes.<id>.acwr_flags)."""

    acwr: bool = False


@dataclass(frozen=True)
class GearSettings:
    """[gear]: running shoes."""

    shoe_replacement_km: tuple[float, float] = (500.0, 800.0)  # docs/metrics.md "Shoe mileage"


@dataclass(frozen=True)
class Settings:
    config_path: Path | None
    db_path: Path
    units: str
    athletes: Mapping[str, Athlete]
    athlete_id: str
    sources: Mapping[str, str] = field(default_factory=dict)  # setting -> where its value came from
    strava: StravaSettings = field(default_factory=StravaSettings)
    garmin: GarminSettings = field(default_factory=GarminSettings)
    home: Path = field(default_factory=lambda: data_home())
    publish: PublishSettings = field(default_factory=PublishSettings)
    webhook_url: str | None = None
    flags: FlagSettings = field(default_factory=FlagSettings)
    gear: GearSettings = field(default_factory=GearSettings)
    hevy: HevySettings = field(default_factory=HevySettings)
    lake: Lake | None = None  # warehouse.lake: the warehouse is a DuckLake (docs/lake.md)

    @property
    def target(self) -> Target:
        """Where commands write: the lake (warehouse.lake) or the DuckDB file (warehouse.path)."""
        return self.lake if self.lake is not None else self.db_path

    def hevy_key(self, athlete_id: str | None = None) -> str | None:
        """The athlete's Hevy API key: athletes.<id>.hevy_api_key, else HEVY_API_KEY / hevy.api_key when the
        athlete is hevy.athlete (default: the only configured athlete); None: no Hevy for this athlete."""
        athlete_id = athlete_id or self.athlete_id
        own = self.athletes[athlete_id].hevy_api_key if athlete_id in self.athletes else None
        if own:
            return own
        owner = self.hevy.athlete or (next(iter(self.athletes)) if len(self.athletes) == 1 else DEFAULT_ATHLETE)
        return self.hevy.api_key if athlete_id == owner and self.hevy.api_key else None

    def acwr_flags(self, athlete_id: str) -> bool:
        """Whether the athlete gets acwr_high / acwr_low flags: athletes.<id>.acwr_flags, else flags.acwr."""
        own = self.athletes[athlete_id].acwr_flags
        return self.flags.acwr if own is None else own

    @property
    def published_path(self) -> Path:
        """The file dashboards read (setting publish.path, env RUNLIFT_PUBLISHED)."""
        return self.publish.path or self.db_path.with_name(self.db_path.stem + ".published.duckdb")

    @property
    def exercise_map_path(self) -> Path:
        """The person's mapping of the lifting apps' exercise names (docs/sources.md): ``exercise_map.csv``
        in the settings folder (beside the settings file; without one, runlift's home)."""
        return (self.config_path.resolve().parent if self.config_path else self.home) / EXERCISE_MAP_FILE

    @property
    def dashboard_path(self) -> Path:
        return self.published_path.with_name(self.db_path.stem + "-dashboard.html")

    def token_file(self, athlete_id: str | None = None) -> Path:
        """The athlete's Strava token file: setting athletes.<id>.strava_token_file, else in runlift's home."""
        a = self.athletes[check_athlete_id(athlete_id or self.athlete_id, "the athlete asked for")]
        return a.strava_token_file or self.home / "tokens" / f"strava-{check_athlete_id(a.id, 'the settings')}.json"

    def garmin_token_file(self, athlete_id: str | None = None) -> Path:
        """The athlete's Garmin token file: setting athletes.<id>.garmin_token_file, else in runlift's home."""
        a = self.athletes[check_athlete_id(athlete_id or self.athlete_id, "the athlete asked for")]
        return a.garmin_token_file or self.home / "tokens" / f"garmin-{check_athlete_id(a.id, 'the settings')}.json"

    @property
    def athlete(self) -> Athlete:
        return self.athletes[self.athlete_id]


EXERCISE_MAP_FILE = "exercise_map.csv"


def load_exercise_map(settings: Settings) -> tuple[AppExercise, ...]:
    """The rows of ``exercise_map.csv`` in the settings folder (:attr:`Settings.exercise_map_path`);
    () without the file. Raises SettingsError naming the file and line of a bad row."""
    from runlift.warehouse.app_exercises import parse

    path = settings.exercise_map_path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read the exercise mapping {path}: {exc}") from exc
    try:
        return tuple(parse(text, where=str(path), user=True))
    except ValueError as exc:
        raise SettingsError(f"{exc} (the exercise mapping file; docs/sources.md)") from exc


def data_home(env: Mapping[str, str] | None = None) -> Path:
    """runlift's data folder: ``RUNLIFT_HOME``, else the platform's user data dir (never the cwd)."""
    env = os.environ if env is None else env
    if env.get("RUNLIFT_HOME"):
        return Path(env["RUNLIFT_HOME"]).expanduser().resolve()
    return Path(platformdirs.user_data_dir("runlift", appauthor=False)).resolve()


def system_timezone() -> str:
    """Best guess of this machine's IANA time zone, for a default athlete; UTC if unknown."""
    tz = os.environ.get("TZ", "").lstrip(":")
    candidates = [tz] if tz else []
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return "UTC"


def find_config(option: str | os.PathLike[str] | None, env: Mapping[str, str]) -> tuple[Path | None, str]:
    if option:
        return Path(option).expanduser(), "--config"
    if env.get("RUNLIFT_CONFIG"):
        return Path(env["RUNLIFT_CONFIG"]).expanduser(), "RUNLIFT_CONFIG"
    local = Path("runlift.toml")
    if local.is_file():
        return local, "./runlift.toml"
    return None, "none"


ATHLETE_KEYS = ("timezone", "body_mass_kg", "sex", "max_hr_bpm", "resting_hr_bpm", "fit_inbox",
                "strava_token_file", "garmin_token_file", "acwr_flags", "races", "hevy_api_key", "blocks")
BODY_MASS_KEYS = ("since", "kg")


def _known_names() -> dict[str, tuple[str, ...]]:
    """Every name runlift reads, per table ('athletes.*': the table of any athlete)."""
    return {
        "": ("units", "warehouse", "athletes", "flags", "publish", "notify", "strava", "gear", "hevy", "garmin"),
        "warehouse": ("path", "lake", "data_path", "lake_expire_snapshots_days"),
        "athletes.*": ATHLETE_KEYS,
        "athletes.*.body_mass_kg[]": BODY_MASS_KEYS,
        "athletes.*.races[]": RACE_KEYS,
        "athletes.*.blocks[]": BLOCK_KEYS,
        "flags": tuple(FlagSettings.__dataclass_fields__),
        "publish": ("path", "include_location"),
        "notify": ("webhook_url",),
        "strava": tuple(StravaSettings.__dataclass_fields__),
        "gear": tuple(GearSettings.__dataclass_fields__),
        "hevy": tuple(HevySettings.__dataclass_fields__),
        "garmin": tuple(GarminSettings.__dataclass_fields__),
    }


def check_names(doc: Mapping[str, Any], where: str = "the settings file") -> None:
    """Raise :class:`SettingsError` for the first name runlift does not know, with the closest known
    name when there is one: a mistyped setting would otherwise be a default applied in silence
    (a 70 kg body mass skewing every joint-load number, a warehouse written somewhere else)."""
    known = _known_names()

    def check(table: Mapping[str, Any], kind: str, shown: str) -> None:
        names = known[kind]
        for key in table:
            if key in names:
                continue
            full = f"{shown}.{key}" if shown else key
            close = difflib.get_close_matches(key.lower(), names, n=1, cutoff=0.6)
            if close:
                hint = f"did you mean `{shown + '.' if shown else ''}{close[0]}`?"
            else:
                hint = f"known {'in [' + shown + ']' if shown else 'at the top'}: {', '.join(names)}"
            raise SettingsError(f"unknown setting `{full}` in {where}; {hint}")

    check(doc, "", "")
    for table in ("warehouse", "flags", "publish", "notify", "strava", "gear", "hevy", "garmin"):
        if isinstance(doc.get(table), Mapping):
            check(doc[table], table, table)
    athletes = doc.get("athletes")
    if isinstance(athletes, Mapping):
        for athlete_id, raw in athletes.items():
            if not isinstance(raw, Mapping):
                continue
            check(raw, "athletes.*", f"athletes.{athlete_id}")
            for key, kind in (("body_mass_kg", "athletes.*.body_mass_kg[]"), ("races", "athletes.*.races[]"),
                              ("blocks", "athletes.*.blocks[]")):
                if isinstance(raw.get(key), list):
                    for i, item in enumerate(raw[key]):
                        if isinstance(item, Mapping):
                            check(item, kind, f"athletes.{athlete_id}.{key}[{i}]")


def _read_toml(path: Path, origin: str) -> dict[str, Any]:
    if not path.is_file():
        raise SettingsError(f"settings file {path} (from {origin}) does not exist; "
                            f"create one with `runlift init --config {path}`")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from None


def _expect(value: Any, kinds: type | tuple[type, ...], name: str, hint: str) -> Any:
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise SettingsError(f"setting `{name}`: {value!r} is not valid; expected {hint}")
    if not isinstance(value, kinds):
        raise SettingsError(f"setting `{name}`: {value!r} is not valid; expected {hint}")
    return value


def _parse_body_mass(raw: Any, name: str) -> tuple[BodyMass, ...]:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        values = [BodyMass(float(raw))]
    elif isinstance(raw, list) and raw:
        values = []
        for i, item in enumerate(raw):
            item_name = f"{name}[{i}]"
            _expect(item, dict, item_name, "a table like { since = 2025-01-01, kg = 72.5 }")
            kg = _expect(item.get("kg"), (int, float), f"{item_name}.kg", "a number of kilograms")
            since = item.get("since")
            if since is not None and not isinstance(since, dt.date):
                raise SettingsError(f"setting `{item_name}.since`: {since!r} is not a date (write 2025-01-01)")
            if isinstance(since, dt.datetime):
                since = since.date()
            values.append(BodyMass(float(kg), since))
    else:
        raise SettingsError(f"setting `{name}`: {raw!r} is not valid; expected a number of kilograms "
                            "or a list of { since = DATE, kg = NUMBER }")
    for bm in values:
        if not 20 <= bm.kg <= 400:
            raise SettingsError(f"setting `{name}`: {bm.kg} kg is outside 20..400 kg")
    return tuple(values)


RACE_KEYS = ("date", "name", "distance_km", "taper_days")


def _parse_races(raw: Any, name: str) -> tuple[Race, ...]:
    hint = 'a list like [{ date = 2026-04-12, name = "Half", distance_km = 21.1 }]'
    _expect(raw, list, name, hint)
    races: list[Race] = []
    for i, item in enumerate(raw):
        item_name = f"{name}[{i}]"
        _expect(item, dict, item_name, "a table like { date = 2026-04-12, name = \"Half\", distance_km = 21.1 }")
        day = item.get("date")
        if isinstance(day, dt.datetime):
            day = day.date()
        if not isinstance(day, dt.date):
            raise SettingsError(f"setting `{item_name}.date`: {day!r} is not a date (write 2026-04-12)")
        race_name = _expect(item.get("name", "race"), str, f"{item_name}.name", "a string")
        distance = item.get("distance_km")
        if distance is not None:
            _expect(distance, (int, float), f"{item_name}.distance_km", "a number of kilometres")
            if not 0 < distance <= 1000:
                raise SettingsError(f"setting `{item_name}.distance_km`: {distance} is outside 0..1000 km")
            distance = float(distance)
        taper = item.get("taper_days")
        if taper is not None:
            _expect(taper, int, f"{item_name}.taper_days", "a whole number of days")
            if not 0 <= taper <= 42:
                raise SettingsError(f"setting `{item_name}.taper_days`: {taper} is outside 0..42 days")
        race = Race(day, race_name, distance, taper)
        if any(r.date == race.date and r.name == race.name for r in races):
            raise SettingsError(f"setting `{item_name}`: the race {race_name!r} on {day} is listed twice")
        races.append(race)
    return tuple(races)


BLOCK_KEYS = ("name", "start", "end", "race")


def _parse_blocks(raw: Any, name: str, races: tuple[Race, ...]) -> tuple[Block, ...]:
    hint = 'a list of tables like [[athletes.me.blocks]] name = "Spring half", start = 2026-01-05, end = 2026-04-12'
    _expect(raw, list, name, hint)
    blocks: list[Block] = []
    for i, item in enumerate(raw):
        item_name = f"{name}[{i}]"
        _expect(item, dict, item_name, 'a table like { name = "Spring half", start = 2026-01-05, end = 2026-04-12 }')
        block_name = item.get("name")
        if not isinstance(block_name, str) or not block_name.strip():
            raise SettingsError(f"setting `{item_name}.name`: {block_name!r} is not valid; expected the block's name")
        ends: dict[str, dt.date] = {}
        for key in ("start", "end"):
            day = item.get(key)
            if isinstance(day, dt.datetime):
                day = day.date()
            if not isinstance(day, dt.date):
                raise SettingsError(f"setting `{item_name}.{key}`: {day!r} is not a date (write 2026-01-05)")
            ends[key] = day
        if ends["end"] < ends["start"]:
            raise SettingsError(f"setting `{item_name}`: the block {block_name!r} ends ({ends['end']}) before it "
                                f"starts ({ends['start']})")
        race = item.get("race")
        if race is not None:
            _expect(race, str, f"{item_name}.race", "the name of one of the athlete's races")
            if race not in {r.name for r in races}:
                known = ", ".join(repr(r.name) for r in races) or "none"
                raise SettingsError(f"setting `{item_name}.race`: {race!r} is not one of the athlete's races "
                                    f"(`{name.removesuffix('.blocks')}.races`: {known})")
        block = Block(block_name, ends["start"], ends["end"], race)
        for other in blocks:
            if other.name == block.name:
                raise SettingsError(f"setting `{item_name}`: the block name {block_name!r} is used twice")
            if other.start <= block.end and block.start <= other.end:
                raise SettingsError(f"setting `{item_name}`: the block {block_name!r} ({block.start} to "
                                    f"{block.end}) overlaps {other.name!r} ({other.start} to {other.end}); "
                                    "a day belongs to one block")
        blocks.append(block)
    return tuple(blocks)


def _parse_athlete(athlete_id: str, raw: Mapping[str, Any], base: Path) -> Athlete:
    prefix = f"athletes.{athlete_id}"
    tz = raw.get("timezone", system_timezone())
    _expect(tz, str, f"{prefix}.timezone", "an IANA time zone name such as 'America/Denver'")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"setting `{prefix}.timezone`: {tz!r} is not a known time zone; "
                            "use an IANA name such as 'America/Denver'") from None
    body_mass = (() if raw.get("body_mass_kg") is None
                 else _parse_body_mass(raw["body_mass_kg"], f"{prefix}.body_mass_kg"))
    sex = raw.get("sex", "unspecified")
    if sex not in SEXES:
        raise SettingsError(f"setting `{prefix}.sex`: {sex!r} is not one of {', '.join(SEXES)}")
    hr: dict[str, int | None] = {}
    for key, lo, hi in (("max_hr_bpm", 100, 250), ("resting_hr_bpm", 25, 120)):
        value = raw.get(key)
        if value is not None:
            _expect(value, int, f"{prefix}.{key}", "a whole number of beats per minute")
            if not lo <= value <= hi:
                raise SettingsError(f"setting `{prefix}.{key}`: {value} is outside {lo}..{hi} bpm")
        hr[key] = value
    inbox_raw = raw.get("fit_inbox", [])
    if isinstance(inbox_raw, str):
        inbox_raw = [inbox_raw]
    _expect(inbox_raw, list, f"{prefix}.fit_inbox", "a folder path or a list of folder paths")
    inbox = []
    for i, item in enumerate(inbox_raw):
        _expect(item, str, f"{prefix}.fit_inbox[{i}]", "a folder path")
        p = Path(item).expanduser()
        inbox.append(p if p.is_absolute() else (base / p))
    token_files: dict[str, Path | None] = {}
    for key in ("strava_token_file", "garmin_token_file"):
        token_file = raw.get(key)
        if token_file is not None:
            _expect(token_file, str, f"{prefix}.{key}", "a file path")
            token_file = Path(token_file).expanduser()
            token_file = token_file if token_file.is_absolute() else base / token_file
        token_files[key] = token_file
    acwr_flags = raw.get("acwr_flags")
    if acwr_flags is not None:
        _expect(acwr_flags, bool, f"{prefix}.acwr_flags", "true or false")
    races = _parse_races(raw.get("races", []), f"{prefix}.races")
    hevy_key = raw.get("hevy_api_key")
    if hevy_key is not None:
        _expect(hevy_key, str, f"{prefix}.hevy_api_key", "a string (the key from https://hevy.com/settings?developer)")
    blocks = _parse_blocks(raw.get("blocks", []), f"{prefix}.blocks", races)
    return Athlete(id=athlete_id, timezone=tz, body_mass=body_mass, sex=sex,
                   max_hr_bpm=hr["max_hr_bpm"], resting_hr_bpm=hr["resting_hr_bpm"],
                   fit_inbox=tuple(inbox), strava_token_file=token_files["strava_token_file"],
                   garmin_token_file=token_files["garmin_token_file"], acwr_flags=acwr_flags, races=races,
                   hevy_api_key=hevy_key or None, blocks=blocks)


def _table_values(raw: Any, table: str, defaults: Any) -> dict[str, Any]:
    """The values a [strava] / [garmin] / [hevy] table gives, each checked against its default's type."""
    _expect(raw, dict, table, f"a [{table}] table")
    values: dict[str, Any] = {}
    for key, default in ((f, getattr(defaults, f)) for f in type(defaults).__dataclass_fields__):
        if key not in raw:
            continue
        value = raw[key]
        if isinstance(default, bool):
            _expect(value, bool, f"{table}.{key}", "true or false")
        elif isinstance(default, int):
            _expect(value, int, f"{table}.{key}", "a whole number")
            if value < 0:
                raise SettingsError(f"setting `{table}.{key}`: {value} must not be negative")
        elif isinstance(default, float):
            _expect(value, (int, float), f"{table}.{key}", "a number")
            if value < 0:
                raise SettingsError(f"setting `{table}.{key}`: {value} must not be negative")
            value = float(value)
        elif isinstance(default, tuple):
            _expect(value, list, f"{table}.{key}", "a list of strings")
            value = tuple(str(v) for v in value)
        elif key in ("client_id", "client_secret"):
            _expect(value, (str, int), f"{table}.{key}", "a string")
            value = str(value)
        else:
            _expect(value, str, f"{table}.{key}", "a string")
        values[key] = value
    return values


def _parse_garmin(raw: Any, env: Mapping[str, str]) -> GarminSettings:
    values = _table_values(raw, "garmin", GarminSettings())
    if values.get("page_size", 1) < 1 or values.get("page_size", 1) > 1000:
        raise SettingsError(f"setting `garmin.page_size`: {values['page_size']} is outside 1..1000")
    origin = "the settings file"
    if env.get("RUNLIFT_GARMIN_BASE_URL"):
        values["base_url"], origin = env["RUNLIFT_GARMIN_BASE_URL"], "RUNLIFT_GARMIN_BASE_URL"
    check_base_url(values.get("base_url", GarminSettings.base_url), origin, "garmin.base_url")
    return GarminSettings(**values)


def _parse_strava(raw: Any, env: Mapping[str, str]) -> StravaSettings:
    defaults = StravaSettings()
    values = _table_values(raw, "strava", defaults)
    if env.get("STRAVA_CLIENT_ID"):
        values["client_id"] = env["STRAVA_CLIENT_ID"]
    if env.get("STRAVA_CLIENT_SECRET"):
        values["client_secret"] = env["STRAVA_CLIENT_SECRET"]
    origin = "the settings file"
    if env.get("RUNLIFT_STRAVA_BASE_URL"):
        values["base_url"], origin = env["RUNLIFT_STRAVA_BASE_URL"], "RUNLIFT_STRAVA_BASE_URL"
    check_base_url(values.get("base_url", defaults.base_url), origin)
    return StravaSettings(**values)


def _parse_gear(raw: Any) -> GearSettings:
    _expect(raw, dict, "gear", "a [gear] table")
    if "shoe_replacement_km" not in raw:
        return GearSettings()
    value = raw["shoe_replacement_km"]
    hint = "two distances in km, low and high, e.g. [500, 800]"
    _expect(value, list, "gear.shoe_replacement_km", hint)
    if len(value) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise SettingsError(f"setting `gear.shoe_replacement_km`: {value!r} is not {hint}")
    low, high = float(value[0]), float(value[1])
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low <= high <= 100_000):
        raise SettingsError(f"setting `gear.shoe_replacement_km`: {value!r} must be low <= high, both over 0 km "
                            "(and under 100,000 km)")
    return GearSettings((low, high))


def _parse_hevy(raw: Any, env: Mapping[str, str]) -> HevySettings:
    defaults = HevySettings()
    values = _table_values(raw, "hevy", defaults)
    if values.get("athlete") is not None:
        check_athlete_id(values["athlete"], "setting hevy.athlete")
    if env.get("HEVY_API_KEY"):
        values["api_key"] = env["HEVY_API_KEY"]
    origin = "the settings file"
    if env.get("RUNLIFT_HEVY_BASE_URL"):
        values["base_url"], origin = env["RUNLIFT_HEVY_BASE_URL"], "RUNLIFT_HEVY_BASE_URL"
    check_base_url(values.get("base_url", defaults.base_url), origin, "hevy.base_url", defaults.base_url,
                   "the Hevy API key")
    return HevySettings(**values)


def load_settings(config: str | os.PathLike[str] | None = None, *, db: str | os.PathLike[str] | None = None,
                  athlete: str | None = None, units: str | None = None,
                  env: Mapping[str, str] | None = None, require_athlete: bool = True) -> Settings:
    """Read settings with the documented precedence (option > environment > file > default).

    ``require_athlete=False`` is for jobs over every athlete: no error when several athletes are
    configured, none is chosen and none is called "me".
    """
    env = os.environ if env is None else env
    path, origin = find_config(config, env)
    doc: dict[str, Any] = _read_toml(path, origin) if path else {}
    check_names(doc, str(path))
    base = path.resolve().parent if path else Path.cwd()
    sources: dict[str, str] = {"config": origin}

    warehouse = doc.get("warehouse", {})
    _expect(warehouse, dict, "warehouse", "a [warehouse] table")
    if db:
        db_path, sources["warehouse.path"] = Path(db).expanduser(), "--db"
    elif env.get("RUNLIFT_DB"):
        db_path, sources["warehouse.path"] = Path(env["RUNLIFT_DB"]).expanduser(), "RUNLIFT_DB"
    elif "path" in warehouse:
        raw_path = _expect(warehouse["path"], str, "warehouse.path", "a file path")
        db_path = Path(raw_path).expanduser()
        db_path = db_path if db_path.is_absolute() else base / db_path
        sources["warehouse.path"] = str(path)
    else:
        db_path, sources["warehouse.path"] = data_home(env) / DB_FILENAME, "default"
    # a lake set in the file is the warehouse whatever names a file (the night passes its --db to each
    # task); the file's path then only names the published and dashboard files
    lake = _parse_lake(warehouse, base)
    if lake is not None:
        sources["warehouse.lake"] = str(path)

    unit_value = units or env.get("RUNLIFT_UNITS") or doc.get("units", "metric")
    if unit_value not in UNITS:
        raise SettingsError(f"setting `units`: {unit_value!r} is not one of {', '.join(UNITS)}")

    athletes_raw = doc.get("athletes", {})
    _expect(athletes_raw, dict, "athletes", "[athletes.<id>] tables")
    athletes: dict[str, Athlete] = {}
    for athlete_id, raw in athletes_raw.items():
        check_athlete_id(athlete_id, f"an [athletes.<id>] table in {path}")
        _expect(raw, dict, f"athletes.{athlete_id}", "a table")
        athletes[athlete_id] = _parse_athlete(athlete_id, raw, base)

    explicit = athlete if athlete is not None else env.get("RUNLIFT_ATHLETE")
    if explicit is not None and (explicit or athlete is not None):
        sources["athlete"] = "--athlete" if athlete is not None else "RUNLIFT_ATHLETE"
        chosen = check_athlete_id(explicit, sources["athlete"])
    elif len(athletes) == 1 or (athletes and not require_athlete and DEFAULT_ATHLETE not in athletes):
        chosen = next(iter(athletes))
    else:
        chosen = DEFAULT_ATHLETE
    if chosen not in athletes:  # the chosen athlete is always in `athletes` from here on
        if athletes:
            raise SettingsError(f"athlete {chosen!r} is not configured; configured: {', '.join(athletes)} "
                                "(pick one with --athlete, or add [athletes.<id>] to the settings file)")
        if chosen != DEFAULT_ATHLETE:
            # an athlete named on purpose but set up nowhere would get this machine's time zone and a
            # 70 kg body mass in silence; only the zero-configuration athlete "me" works without settings
            where = f"to {path}" if path else "to a settings file (`runlift init` writes one)"
            raise SettingsError(f"athlete {chosen!r} (from {sources['athlete']}) is not configured: add "
                                f"[athletes.{chosen}] with its timezone {where}")
        athletes[chosen] = _parse_athlete(chosen, {}, base)
    strava = _parse_strava(doc.get("strava", {}), env)
    hevy = _parse_hevy(doc.get("hevy", {}), env)
    garmin = _parse_garmin(doc.get("garmin", {}), env)
    publish_raw = doc.get("publish", {})
    _expect(publish_raw, dict, "publish", "a [publish] table")
    pub_path: Path | None = None
    if env.get("RUNLIFT_PUBLISHED"):
        pub_path = Path(env["RUNLIFT_PUBLISHED"]).expanduser()
    elif "path" in publish_raw:
        pub_path = Path(_expect(publish_raw["path"], str, "publish.path", "a file path")).expanduser()
        pub_path = pub_path if pub_path.is_absolute() else base / pub_path
    include_location = _expect(publish_raw.get("include_location", False), bool, "publish.include_location",
                               "true or false")
    notify_raw = doc.get("notify", {})
    _expect(notify_raw, dict, "notify", "a [notify] table")
    webhook = env.get("RUNLIFT_WEBHOOK_URL") or notify_raw.get("webhook_url")
    if webhook is not None:
        _expect(webhook, str, "notify.webhook_url", "an http(s) URL")
        if not webhook.startswith(("http://", "https://")):
            raise SettingsError(f"setting `notify.webhook_url`: {webhook!r} is not an http(s) URL")
    flags_raw = doc.get("flags", {})
    _expect(flags_raw, dict, "flags", "a [flags] table")
    flags = FlagSettings(acwr=_expect(flags_raw.get("acwr", False), bool, "flags.acwr", "true or false"))
    gear = _parse_gear(doc.get("gear", {}))
    return Settings(config_path=path, db_path=db_path.resolve(), units=unit_value, flags=flags, gear=gear,
                    athletes=athletes, athlete_id=chosen, sources=sources, strava=strava, garmin=garmin,
                    home=data_home(env),
                    publish=PublishSettings(pub_path.resolve() if pub_path else None, include_location),
                    webhook_url=webhook, hevy=hevy, lake=lake)


def _parse_lake(warehouse: Mapping[str, Any], base: Path) -> Lake | None:
    """warehouse.lake / data_path / lake_expire_snapshots_days (None: no lake, the DuckDB file)."""
    if "lake" not in warehouse:
        for name in ("data_path", "lake_expire_snapshots_days"):
            if name in warehouse:
                raise SettingsError(f"setting `warehouse.{name}` is for a lake: set warehouse.lake too, or remove it")
        return None
    attach = _expect(warehouse["lake"], str, "warehouse.lake",
                     "a DuckLake attach string (ducklake:postgres:dbname=runlift host=...)")
    if not attach.startswith("ducklake:"):
        raise SettingsError(f"setting `warehouse.lake`: {attach!r} is not a DuckLake attach string "
                            "(ducklake:postgres:dbname=runlift host=...)")
    if "data_path" not in warehouse:
        raise SettingsError("setting `warehouse.data_path` is missing: a lake needs the folder or object-storage "
                            "URL its Parquet files go to")
    data = _expect(warehouse["data_path"], str, "warehouse.data_path", "a folder or an object-storage URL")
    if "://" not in data:
        folder = Path(data).expanduser()
        data = str(folder if folder.is_absolute() else (base / folder).resolve())
    days = _expect(warehouse.get("lake_expire_snapshots_days", 7), (int, float), "warehouse.lake_expire_snapshots_days",
                   "a number of days")
    if isinstance(days, bool) or days < 0:
        raise SettingsError(f"setting `warehouse.lake_expire_snapshots_days`: {days!r} is not a number of days >= 0")
    return Lake(attach, data, float(days))


EXAMPLE_TOML = '''\
# runlift settings. Precedence: command-line option > environment variable > this file > default.
# Find this file with --config PATH, or RUNLIFT_CONFIG, or ./runlift.toml in the current folder.

# Display units for everything shown to people: "metric" (km, kg) or "imperial" (miles, lb).
# Storage is always SI (metres, seconds, kilograms). Env: RUNLIFT_UNITS.
units = "metric"

[warehouse]
# The DuckDB file. Default: $RUNLIFT_HOME/runlift.duckdb, else the platform's user data folder
# (on Linux ~/.local/share/runlift/runlift.duckdb), never the current folder, so cron and a
# Prefect worker find the same warehouse. A relative path is relative to this file. Env: RUNLIFT_DB.
# path = "~/runlift/runlift.duckdb"
# Or a DuckLake, for many workers writing at once (a squad, docs/lake.md; needs `pip install
# 'runlift[lake]'`): the catalog in PostgreSQL, the data as Parquet files in data_path (a folder all
# workers share, or an object-storage URL). path (or --db) then only names the published file.
# lake = "ducklake:postgres:dbname=runlift host=127.0.0.1"
# data_path = "/srv/runlift/lake"
# lake_expire_snapshots_days = 7   # `runlift lake maintain` expires older snapshots

# One table per athlete; every row in the warehouse carries its id. --athlete (env RUNLIFT_ATHLETE)
# picks one; the default is the only one configured, else "me". An id is 1 to 64 letters, digits,
# '_', '.' or '-', starting with a letter or digit, without '..'.
[athletes.me]
# IANA time zone: decides which day an activity belongs to when the file carries no local time.
timezone = "America/Denver"
# Body mass in kilograms: one number (every day), or dated values (each in force from its date):
# body_mass_kg = [{ since = 2025-01-01, kg = 74.0 }, { since = 2026-03-01, kg = 71.5 }]
# Days the settings give none for (left out, or before the first date) take the body mass of the
# Garmin scale (FIT weight) files you import; neither: 70 kg. See docs/metrics.md, "Body mass".
# body_mass_kg = 70.0
# "female", "male" or "unspecified" (the heart-rate load's weighting).
sex = "unspecified"
# Heart rate in beats per minute (optional), for the heart-rate load (TRIMP). Without them the
# maximum is estimated from your data and the resting value taken as 60 (docs/metrics.md).
# max_hr_bpm = 190
# resting_hr_bpm = 50
# Folders scanned for new .fit / .fit.gz / .zip files by the nightly sync.
fit_inbox = ["~/GarminInbox"]
# Raise acwr_high / acwr_low flags for this athlete (overrides [flags] acwr below).
# acwr_flags = true
# Planned races: their taper (taper_days before race day, to race day; default 21 days for 42 km or
# more, else 14) raises no low-load flag. name, distance_km and taper_days are optional.
# races = [{ date = 2026-04-12, name = "Spring half", distance_km = 21.1 },
#          { date = 2026-10-04, name = "Marathon", distance_km = 42.2, taper_days = 21 }]
# Strava token file (written by `runlift strava auth`, mode 0600). Default:
# <runlift home>/tokens/strava-<athlete id>.json
# strava_token_file = "~/.local/share/runlift/tokens/strava-me.json"
# Training blocks (marts.block_summary compares each with the one before): name, start and end (inclusive),
# optionally race = the name of one of the races above. Blocks may not overlap. Without any, the
# marts use consecutive 12-week blocks ending with your latest data (docs/metrics.md).
# blocks = [{ name = "Winter base", start = 2025-10-13, end = 2026-01-04 },
#           { name = "Spring half", start = 2026-01-05, end = 2026-04-12, race = "Spring half" }]
# Garmin Connect token file (written by `runlift garmin auth`, mode 0600; never the password). Default:
# <runlift home>/tokens/garmin-<athlete id>.json. The nightly sync reads Garmin Connect for every
# athlete that has one.
# garmin_token_file = "~/.local/share/runlift/tokens/garmin-me.json"

[flags]
# Acute:chronic workload ratio flags (acwr_high / acwr_low) for every athlete. Off by default: the
# ratio stays a descriptive series in marts.daily_training_load, as its predictive value is disputed
# (docs/metrics.md). An athlete's own acwr_flags overrides this.
acwr = false

[gear]
# Running shoes' replacement range in km (the usual guidance is 500-800 km; docs/metrics.md "Shoe mileage").
# A shoe past the upper end raises an info flag (shoe_past_range); retired shoes (Strava) never do.
shoe_replacement_km = [500, 800]

[publish]
# The read-only copy of the marts that dashboards and `runlift sql` read, swapped in atomically after
# every build. Default: <warehouse name>.published.duckdb beside the warehouse. Env: RUNLIFT_PUBLISHED.
# path = "~/runlift/runlift.published.duckdb"
# GPS positions (and start/end coordinates, map polylines) stay in the working warehouse unless this
# asks for them in the published file too.
include_location = false

[notify]
# A failed night POSTs a JSON message here (e.g. a Slack/Discord/ntfy webhook). Env: RUNLIFT_WEBHOOK_URL.
# webhook_url = "https://ntfy.sh/my-runlift"

[strava]
# Your Strava API application (https://www.strava.com/settings/api). Better kept out of this file:
# the environment variables STRAVA_CLIENT_ID and STRAVA_CLIENT_SECRET override these.
# client_id = "12345"
# client_secret = "..."
# For a first unattended run (a server, CI), STRAVA_REFRESH_TOKEN may give the first refresh token.
# Strava's address (env RUNLIFT_STRAVA_BASE_URL); point it at `runlift strava emulator` to try things.
# https:// only; plain http:// is refused except to 127.0.0.1, ::1 or localhost.
base_url = "https://www.strava.com"
# Incremental syncs list activities from the latest one seen minus this many days (late uploads, edits).
lookback_days = 7
# A full listing (which also finds deleted activities) runs this often, in days; `--full` forces one.
full_listing_every_days = 7
# While a backfill still has streams to fetch, a run within this many seconds of the last finished
# listing skips listing again (saves one call per rate-limit window); nightly runs always list.
relist_after_s = 3600
# GET /activities/{id} for device name, calories and perceived exertion: one API call per activity.
fetch_details = false
# Which sport types get their streams (per-second data), and which streams.
stream_sport_types = ["Run", "TrailRun", "VirtualRun"]
stream_keys = ["time", "distance", "velocity_smooth", "heartrate", "cadence", "altitude", "grade_smooth", "moving"]
# Calls of each rate-limit window never spent (left for your other Strava tools).
rate_headroom = 5
# Rate-limit window lengths in seconds (Strava: 15 minutes and a UTC day).
rate_window_s = 900
rate_day_s = 86400
# Retries of a request after a connection error, time-out or 5xx, and each request's overall deadline
# in seconds (connect, send and every read together).
retries = 3
timeout_s = 30.0
# Port on 127.0.0.1 where `runlift strava auth` receives Strava's redirect.
callback_port = 8723
# Gear names (GET /gear/{id}, one call per shoe or bike) are asked once, then again at most this often,
# in days (to see a rename or a retirement); they come after the activities and wait when calls run short.
gear_refresh_days = 7


[hevy]
# Hevy's API (lifts logged in the Hevy app; docs/hevy.md). It needs Hevy Pro: the API key is at
# https://hevy.com/settings?developer. Better kept out of this file: the environment variable
# HEVY_API_KEY overrides api_key. runlift never writes the key anywhere.
# api_key = "..."
# Whose key api_key / HEVY_API_KEY is (default: the only configured athlete, else "me"); any athlete
# may have its own key instead: hevy_api_key = "..." in its [athletes.<id>] table.
# athlete = "me"
# Hevy's address (env RUNLIFT_HEVY_BASE_URL); point it at `runlift hevy emulator` to try things.
# https:// only; plain http:// is refused except to 127.0.0.1, ::1 or localhost.
base_url = "https://api.hevyapp.com"
# Hevy publishes no rate limit: runlift waits at least this many seconds between two requests.
min_interval_s = 0.5
# Retries after a connection error, time-out or 5xx, waiting backoff_s, then twice as long each time
# (at most 30 s); each request's overall deadline in seconds.
retries = 3
backoff_s = 1.0
timeout_s = 30.0
# The events feed is read from the end of the last complete sync minus this many hours (clock skew,
# late uploads from an offline phone); reading an event twice changes nothing.
lookback_hours = 24
# The exercise templates are listed again this often, in days (and whenever a workout uses one not
# stored yet, or with --full).
templates_every_days = 7
# Body measurements logged in Hevy (weight as dated body mass): listed on every sync.
body_measurements = true

[garmin]
# Garmin Connect (its unofficial web API: docs/garmin.md). `runlift garmin auth` signs in once; the
# nightly sync then downloads each new activity's original FIT file and the weigh-ins.
# Garmin Connect's address (env RUNLIFT_GARMIN_BASE_URL); point it at `runlift garmin emulator` to try
# things. https:// only; plain http:// is refused except to 127.0.0.1, ::1 or localhost.
base_url = "https://connectapi.garmin.com"
# Incremental syncs list activities from the latest one fetched minus this many days, and weigh-ins
# from the last day fetched minus this many days (late uploads, edits, deletions).
lookback_days = 7
# Activities per page of the listing.
page_size = 100
# One request at a time, at least this many seconds apart.
pace_s = 1.0
# Fetch weigh-ins (dated body mass), and how many days back the first sync asks for them.
weigh_ins = true
history_days = 3650
# Retries of a request after a connection error or a 5xx (never after a 429), and each request's
# time-out in seconds.
retries = 2
timeout_s = 30.0
'''


def known_secrets(settings: Settings | None = None) -> list[str]:
    """The secrets runlift knows (client secret, bootstrap refresh token), for redact() on text that may
    quote them."""
    known = [os.environ.get("STRAVA_REFRESH_TOKEN"), os.environ.get("STRAVA_CLIENT_SECRET"),
             os.environ.get("HEVY_API_KEY")]
    if settings is not None:
        known += [settings.strava.client_secret, settings.hevy.api_key]
        known += [a.hevy_api_key for a in settings.athletes.values()]
    return [s for s in known if s]
