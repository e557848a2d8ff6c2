"""Test isolation: every test gets its own runlift home, and Prefect runs against one temporary
local server for the whole session (started only when a test asks for it)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The shared corpus sits beside the project folder (../shared), in CI as here.
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "fit-corpus"

# Prefect reads its settings at import time: isolate it before anything imports it.
_PREFECT_HOME = tempfile.mkdtemp(prefix="runlift-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
for var in ("RUNLIFT_CONFIG", "RUNLIFT_DB", "RUNLIFT_ATHLETE", "RUNLIFT_UNITS", "PREFECT_API_URL"):
    os.environ.pop(var, None)

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNLIFT_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture(scope="session")
def prefect_server():
    from prefect.testing.utilities import prefect_test_harness

    # 240 s, not 60: on a busy machine (load 10+ on 2 cores) the start took over 60 s, and a failed
    # session fixture turns every later Prefect test on that worker into an error
    with prefect_test_harness(server_startup_timeout=240):
        yield


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"FIT corpus not found at {CORPUS} (it is expected beside the project as ../shared)")
    return CORPUS


# The slowest test files (setup + call, from `--durations`), slowest first. `make test` runs
# `pytest -n 2 --dist loadfile --no-loadscope-reorder`: each file runs whole on one worker (its module
# fixtures, e.g. the dashboard's demo, run once instead of once per worker), and xdist hands the files
# out in collection order, so these start first and the two workers finish together. Files not
# listed (new ones too) keep their place after them.
SLOW_FILES = ("test_options.py", "test_squad.py", "test_quiet_nights.py", "test_strava.py", "test_import.py",
              "test_nightly.py", "test_hostile_files.py", "test_garmin.py", "test_publish.py", "test_lift_csv.py",
              "test_flows_cli.py", "test_marts.py", "test_direct_commands.py", "test_marts_match.py",
              "test_fit_hostile.py", "test_columnar.py", "test_dashboard.py", "test_marts_effort.py",
              "test_synth.py", "test_gear_night.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
