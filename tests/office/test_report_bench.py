"""The report benchmark's short run: a small and a larger district give the same number of queries."""

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

BENCH = Path(__file__).resolve().parents[2] / "bench" / "report.py"


def test_the_report_benchmark_runs_and_its_queries_do_not_grow_with_the_data():
    spec = importlib.util.spec_from_file_location("bench_report", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    result = bench.run(small=30, city=150, city_departments=6, city_communities=12)

    assert result["small"]["queries"] == result["city"]["queries"]
    assert result["city"]["handled"] > result["small"]["handled"] > 0
    assert result["city"]["pdf_kb"] > 10
