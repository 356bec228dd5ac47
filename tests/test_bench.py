"""bench/run.py --smoke: the benchmark's query counts, as CI runs them (no wrk, nothing timed).

It builds the demo catalogue and a 300-product "large" one in throwaway SQLite databases and
counts the SQL statements per page with the test client; it fails when a page's count changes
with the catalogue's size, or goes over its budget (bench/run.py QUERY_BUDGET).
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bench_smoke_query_counts_hold():
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke", "--products", "300"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Query counts hold." in result.stdout
    assert "/products logged in: user+roles" in result.stdout
