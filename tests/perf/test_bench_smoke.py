"""The city benchmarks' short run: a small city builds, is checked against week_publish, and is measured."""

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench_module(name: str):
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_small_city_builds_and_its_listings_and_city_pages_are_measured():
    city, availability, city_pages = bench_module("city"), bench_module("availability"), bench_module("city_pages")
    lines = []
    city.build(**city.SMALL, log=lines.append)
    counts = city.counts()
    assert counts["departments"] == city.SMALL["departments"]
    assert counts["petitions"] == counts["appointments"] == city.SMALL["petitions"]
    assert counts["seats"] == 2 * counts["slots"] > 0
    assert any("identical" in line for line in lines)

    figures = availability.measure(rounds=5)
    assert figures["queries"][0] == 2  # the listing: its slots with their taken seats, and the closures
    assert figures["queries"][1] == 2  # the kiosk's days: the calendar's facts, then the slots
    assert figures["queries"][2:] == (0, 0)  # with the department's times and calendar in the cache: none
    assert figures["rows"][0] > 0

    pages = city_pages.measure()
    assert set(pages) == {"publish next week", "office dashboard", "weekly report"}
    assert not pages["publish next week"][2].startswith("0 slots")
