"""The short form of benchmarks/batch.py runs in CI: it must complete and print every figure.

Speed targets are not asserted here (CI machines are shared and noisy); the figures, with the
command behind them, are reported by hand. What is asserted cannot depend on load: the static
self-check never imports TensorFlow, and a cached re-run is far cheaper than grading.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


# Slow (the default suite was over its 15 minutes): a benchmark's own output; the batch behaviour it
# times is tested in test_batch.py
@pytest.mark.slow
def test_short_benchmark_prints_every_figure(tmp_path: Path) -> None:
    figures_file = tmp_path / "figures.json"
    proc = subprocess.run([sys.executable, "benchmarks/batch.py", "--short", "--json", str(figures_file)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for label in ("static self-check", "-j 1", "-j 2", "cached re-run", "plain nbclient"):
        assert label in proc.stdout
    figures = json.loads(figures_file.read_text())
    assert figures["selfcheck"]["tensorflow_imported"] is False
    assert figures["batch"]["j1_s"] > 0 and figures["batch"]["j2_s"] > 0
    assert figures["cached"]["ratio"] < 0.5
    assert figures["overhead"]["ratio"] > 0
