"""What grading a TensorFlow notebook of assignment 06 costs over running it plainly (issue 18).

For each notebook, in the same run, paired and alternating which goes first:
- plain: nbclient in a fresh kernel with only what the notebook needs to run offline (the
  in-kernel data/weights setup, grader/execute/inkernel/10_setup.py and 15_adapt.py) and the
  same quick-profile training caps as the grader (the rubric's `profiles.quick`, applied by the
  grader's own cap function from inkernel/50_capture.py wrapped around `keras.Model.fit`);
- graded: `python -m grader run NB --profile quick --force` with the real rubric, a fresh process.

It prints the ratio graded/plain per notebook (median of the pairs' ratios), the time split from the
result's `environment.timings` (kernel cells, the rest of the execution: sandbox, kernel start,
capture hooks; the evaluator; the checks; the process and reports, i.e. wall minus grading),
the CPU seconds of every process of each run (far less sensitive to load than wall time),
the capture's own cost per fit / evaluate / model save (the hooks' time, the Keras call not
counted), then a batch of N copies at -j 1 and -j 2 (notebooks per minute, speed-up,
per-notebook ratio against the plain runs), a cached re-run of that unchanged batch against its
first run, the static self-check in a fresh process (benchmarks/selfcheck_speed.py), and the
small-notebook figures of benchmarks/batch.py as a second line. Every figure line says the load
average when it was measured: on a shared 2-core machine the figures are only comparable at
similar load.

    python benchmarks/grading_overhead.py                # 3 notebooks x 3 pairs, batch of 8, all lines
    python benchmarks/grading_overhead.py --short        # 1 small notebook, 1 pair, no batch (smoke test)
    python benchmarks/grading_overhead.py --repeat 2 --batch 4 --no-small --no-selfcheck

Switches to measure what each cut saves (set in the environment of the run):
GRADER_EARLY_EVALUATOR=0 (evaluator started only when a model is measured),
GRADER_EARLY_EXECUTION=0 (the notebook runs after the static items, not beside them),
GRADER_KEEP_EVALUATOR=0 (a batch worker starts one evaluator per submission),
GRADER_CACHE_DIR=off (official data sets hashed again in every process).

Notebooks: submissions/alice.ipynb (Q9 CNN + Q10 transfer), tests/notebooks/redteam/
honest_small_cnn.ipynb (a correct small Q9), tests/notebooks/models/q9_fake_accuracy.ipynb (a
failing Q9: its printed accuracy is not what the model scores).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOTEBOOKS = {
    "alice": ROOT / "submissions" / "alice.ipynb",
    "honest_small": ROOT / "tests" / "notebooks" / "redteam" / "honest_small_cnn.ipynb",
    "fake_accuracy": ROOT / "tests" / "notebooks" / "models" / "q9_fake_accuracy.ipynb",
}

_CAP_WRAPPER = '''
import inspect as _grader_inspect
import keras as _grader_keras

_grader_fit = _grader_keras.Model.fit
_grader_fit_sig = _grader_inspect.signature(_grader_fit)


def _grader_capped_fit(self, *args, **kwargs):
    bound = _grader_fit_sig.bind(self, *args, **kwargs)
    kw = dict(bound.arguments)
    kw.pop("self", None)
    kw.update(kw.pop("kwargs", {}) or {})
    _grader_apply_caps(kw, _grader_config["budget"], _grader_config["seed"])
    return _grader_fit(self, **kw)


_grader_keras.Model.fit = _grader_capped_fit
'''


def _cap_functions() -> str:
    """The grader's own cap code (`_grader_apply_caps`, `_grader_is_array`), cut from 50_capture.py."""
    source = (ROOT / "grader" / "execute" / "inkernel" / "50_capture.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    wanted = {"_grader_apply_caps", "_grader_is_array"}
    parts = [ast.get_source_segment(source, node) for node in tree.body
             if isinstance(node, ast.FunctionDef) and node.name in wanted]
    if len(parts) != len(wanted):
        raise RuntimeError("50_capture.py no longer defines " + ", ".join(sorted(wanted)))
    return "\n\n".join(parts)


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    """CPU seconds (user + system) of this process."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class TreeCPU:
    """CPU seconds of a process and everything below it, sampled from /proc every `every` s:
    the sandboxed kernel and evaluator are killed and reaped outside the tree, so the usual
    resource accounting of children misses them. Each process counts with its last sample
    (a process loses at most `every` s of CPU between its last sample and its end)."""

    def __init__(self, pid: int, every: float = 0.25, *, without_root: bool = False) -> None:
        import threading

        self.pid, self.every, self.seen, self.without_root = pid, every, {}, without_root
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while not self._stop.is_set():
            stats = {}
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    stats[int(entry)] = (int(fields[1]), int(fields[19]), int(fields[11]) + int(fields[12]))
            tree, todo = {self.pid}, [self.pid]
            while todo:
                parent = todo.pop()
                for pid, (ppid, _, _) in stats.items():
                    if ppid == parent and pid not in tree:
                        tree.add(pid)
                        todo.append(pid)
            for pid in tree & set(stats):
                _, started, ticks = stats[pid]
                self.seen[(pid, started)] = ticks / tick
            self._stop.wait(self.every)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return sum(v for (pid, _), v in self.seen.items() if not (self.without_root and pid == self.pid))


def _budget() -> dict:
    from grader.rubric import load_rubric

    return dict(load_rubric().profiles.get("quick") or {})


def _prepare(name: str, folder: Path, data_dir: str) -> Path:
    """A copy of the notebook with the test placeholder __DATA_DIR__ filled in."""
    import nbformat

    nb = nbformat.read(NOTEBOOKS[name], as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = cell.source.replace("__DATA_DIR__", data_dir)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def run_plain(path: Path, data_dir: str, budget: dict) -> dict:
    """A fresh kernel, offline setup + caps as one hidden first cell, then the notebook's cells."""
    import nbformat
    from nbclient import NotebookClient

    from grader.execute.runner import _BOOT, INKERNEL_DIR

    work = Path(tempfile.mkdtemp(prefix="bench-plain-"))
    try:
        sources = [(n, (INKERNEL_DIR / n).read_text(encoding="utf-8"))
                   for n in ("10_setup.py", "15_adapt.py")]
        sources.append(("caps.py", _cap_functions() + "\n" + _CAP_WRAPPER))
        config = {"seed": 42, "profile": "quick", "data_dir": data_dir, "budget": budget,
                  "setup_file": str(work / "setup.json"), "output_limit": 1_000_000, "nonce": "",
                  "capture_file": str(work / "capture.json"), "capture_dir": str(work / ".grader")}
        nb = nbformat.read(path, as_version=4)
        nb.cells.insert(0, nbformat.v4.new_code_cell(_BOOT.format(config=config, sources=sources)))
        t0, s0 = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
        meter = TreeCPU(os.getpid(), without_root=True)  # the kernel, counted as the graded run's
        client = NotebookClient(nb, kernel_name="python3", timeout=1800, allow_errors=True,
                                resources={"metadata": {"path": str(work)}})
        client.execute()
        wall = time.perf_counter() - t0
        cpu = meter.stop() + _cpu(resource.RUSAGE_SELF) - s0  # and nbclient driving it
        errors = [c.outputs[-1].get("ename") for c in nb.cells[1:] if c.cell_type == "code"
                  and c.get("outputs") and c.outputs[-1].get("output_type") == "error"]
        if nb.cells[0].get("outputs") and nb.cells[0].outputs[-1].get("output_type") == "error":
            raise RuntimeError(f"plain run's setup cell failed: {nb.cells[0].outputs[-1].get('evalue')}")
        return {"wall_s": wall, "cpu_s": cpu, "errors": errors}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_graded(paths: list[Path], out: Path, data_dir: str, jobs: int = 1) -> dict:
    """`grader run` as a fresh process; wall time and each result's timings."""
    run = _grader_run([str(p) for p in paths], out, data_dir, jobs)
    results = {}
    for p in paths:
        data = json.loads((out / f"{p.stem}.json").read_text(encoding="utf-8"))
        results[p.stem] = {"score": data.get("score"), "duration_s": data.get("duration_s", 0.0),
                           **(data.get("environment", {}).get("timings") or {})}
    return {**run, "results": results}


def _capture_line(r: dict) -> str:
    """The in-kernel capture's own cost, per call kind: count, median and total seconds."""
    parts = []
    for kind, values in (r.get("capture") or {}).items():
        if values:
            parts.append(f"{kind.removesuffix('_s')} x{len(values)} median {statistics.median(values):.3f} s "
                         f"(total {sum(values):.2f} s)")
    return ", ".join(parts) or "no Keras call captured"


def _split(wall: float, r: dict) -> str:
    cells = r.get("cells_s", 0.0)
    execution = r.get("execution_s", 0.0)
    parts = {"kernel cells": cells, "execution rest (sandbox, kernel start, capture)": execution - cells,
             "evaluation": r.get("evaluation_s", 0.0), "checks": r.get("checks_s", 0.0),
             "process + reports": wall - r.get("duration_s", 0.0)}
    return ", ".join(f"{k} {v:.1f} s ({100 * v / wall:.0f}%)" for k, v in parts.items())


def bench_pairs(names: list[str], folder: Path, data_dir: str, budget: dict, repeat: int) -> dict:
    figures = {}
    for name in names:
        path = _prepare(name, folder, data_dir)
        plain, graded, loads = [], [], []
        for rep in range(repeat):
            order = ("plain", "graded") if rep % 2 == 0 else ("graded", "plain")
            for which in order:
                loads.append(os.getloadavg()[0])
                if which == "plain":
                    plain.append(run_plain(path, data_dir, budget))
                else:
                    graded.append(run_graded([path], folder / f"out-{name}-{rep}", data_dir))
        p = statistics.median(r["wall_s"] for r in plain)
        g_runs = sorted(graded, key=lambda r: r["wall_s"])
        g = g_runs[len(g_runs) // 2]
        res = g["results"][path.stem]
        p_cpu = statistics.median(r["cpu_s"] for r in plain)
        g_cpu = statistics.median(r["cpu_s"] for r in graded)
        g_wall = statistics.median(r["wall_s"] for r in graded)
        # each pair ran back to back, so its ratio cancels most of the load drift between pairs
        ratio = statistics.median(b["wall_s"] / a["wall_s"] for a, b in zip(plain, graded, strict=True))
        figures[name] = {"plain_s": p, "graded_s": g_wall, "ratio": ratio,
                         "plain_cpu_s": p_cpu, "graded_cpu_s": g_cpu,
                         "score": res.get("score"), "timings": res,
                         "pairs": [(a["wall_s"], b["wall_s"]) for a, b in zip(plain, graded, strict=True)]}
        print(f"{name}: ratio {ratio:.2f}x (median of {repeat} pairs' graded/plain; medians graded "
              f"{g_wall:.1f} s, plain {p:.1f} s; score {res.get('score')}; "
              f"plain cell errors {plain[0]['errors']}; load average {min(loads):.1f}-{max(loads):.1f})",
              flush=True)
        print(f"  CPU seconds (all processes; medians): graded {g_cpu:.1f} / plain {p_cpu:.1f} = "
              f"{g_cpu / p_cpu:.2f}x, the grader's own work {g_cpu - p_cpu:.1f} CPU s", flush=True)
        print(f"  split of the graded run: {_split(g['wall_s'], res)}", flush=True)
        print(f"  capture's own cost (hooks, not the Keras call): {_capture_line(res)}", flush=True)
        pairs = ", ".join(f"({a:.1f}, {b:.1f})" for a, b in figures[name]["pairs"])
        print(f"  pairs (plain s, graded s): {pairs}", flush=True)
    return figures


def bench_batch(names: list[str], count: int, folder: Path, data_dir: str, plain: dict) -> dict:
    """`count` copies of the notebooks (cycled) graded as one folder at -j 1 and at -j 2."""
    hand_ins = folder / "batch"
    hand_ins.mkdir()
    paths, plain_sum = [], 0.0
    for i in range(count):
        name = names[i % len(names)]
        src = _prepare(name, folder, data_dir)
        dest = hand_ins / f"{i:02d}_{name}.ipynb"
        shutil.copy(src, dest)
        paths.append(dest)
        plain_sum += plain[name]["plain_s"]
    out = {}
    for jobs in (1, 2):
        load = os.getloadavg()[0]
        run = _run_folder(hand_ins, paths, folder / f"batch-j{jobs}", data_dir, jobs)
        out[jobs] = run
        print(f"batch of {count} (grader run DIR -j {jobs}): {run['wall_s']:.1f} s = "
              f"{60 * count / run['wall_s']:.1f} notebooks/min; batch wall / plain runs' sum "
              f"{run['wall_s'] / plain_sum:.2f}x; {run['cpu_s'] / count:.1f} CPU s per notebook "
              f"(plain runs together {plain_sum:.1f} s; load average before {load:.1f})", flush=True)
    print(f"  -j 2 over -j 1: {out[1]['wall_s'] / out[2]['wall_s']:.2f}x", flush=True)
    load = os.getloadavg()[0]
    cached = _grader_run([str(hand_ins)], folder / "batch-j2", data_dir, 2, force=False)["wall_s"]
    print(f"cached re-run of the unchanged batch (grader run DIR -j 2, same --out, no --force): "
          f"{cached:.2f} s = {100 * cached / out[2]['wall_s']:.1f}% of its first run "
          f"({out[2]['wall_s']:.1f} s; load average before {load:.1f})", flush=True)
    return {"j1_s": out[1]["wall_s"], "j2_s": out[2]["wall_s"], "plain_sum_s": plain_sum,
            "per_notebook_ratio_j1": out[1]["wall_s"] / plain_sum,
            "speedup": out[1]["wall_s"] / out[2]["wall_s"],
            "cached_rerun_s": cached, "cached_share": cached / out[2]["wall_s"]}


def _run_folder(folder: Path, paths: list[Path], out: Path, data_dir: str, jobs: int) -> dict:
    return _grader_run([str(folder)], out, data_dir, jobs)


def _grader_run(targets: list[str], out: Path, data_dir: str, jobs: int, force: bool = True) -> dict:
    """Wall and CPU seconds of one `grader run` (quick profile, forced unless `force` is False)
    as a fresh process."""
    cmd = [sys.executable, "-m", "grader", "run", *targets, "--data-dir", data_dir, "--out", str(out),
           "--profile", "quick", *(["--force"] if force else []), "-j", str(jobs)]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)
    meter = TreeCPU(child.pid)
    _, stderr = child.communicate()
    wall, cpu = time.perf_counter() - t0, meter.stop()
    proc = subprocess.CompletedProcess(cmd, child.returncode, "", stderr)
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"grader run failed ({proc.returncode}): {proc.stderr[-800:]}")
    return {"wall_s": wall, "cpu_s": cpu}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true",
                        help="honest_small only, 1 pair, no batch, no small line")
    parser.add_argument("--notebooks", default=None, help=f"comma-separated, of {', '.join(NOTEBOOKS)}")
    parser.add_argument("--repeat", type=int, default=None,
                        help="pairs per notebook (default 3; 1 with --short)")
    parser.add_argument("--batch", type=int, default=None, help="notebooks in the batch (default 8; 0: none)")
    parser.add_argument("--no-small", action="store_true", help="skip benchmarks/batch.py --short")
    parser.add_argument("--no-selfcheck", action="store_true", help="skip benchmarks/selfcheck_speed.py")
    parser.add_argument("--data-dir",
                        default=os.environ.get("GRADER_DATA_DIR", str(ROOT.parent / "shared" / "datasets")))
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    names = (args.notebooks.split(",") if args.notebooks else
             ["honest_small"] if args.short else list(NOTEBOOKS))
    repeat = args.repeat or (1 if args.short else 3)
    count = args.batch if args.batch is not None else (0 if args.short else 8)
    data_dir = str(Path(args.data_dir).resolve())
    budget = _budget()
    print(f"# {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}; quick caps {budget}", flush=True)
    figures: dict = {"cpus": os.cpu_count(), "budget": budget}
    with tempfile.TemporaryDirectory(prefix="grader-overhead-") as tmp:
        folder = Path(tmp)
        figures["pairs"] = bench_pairs(names, folder, data_dir, budget, repeat)
        if count:
            figures["batch"] = bench_batch(names, count, folder, data_dir, figures["pairs"])
    if not (args.short or args.no_selfcheck):
        print("# static self-check, fresh process (benchmarks/selfcheck_speed.py --repeat 3):", flush=True)
        script = str(ROOT / "benchmarks" / "selfcheck_speed.py")
        proc = subprocess.run([sys.executable, script, "--repeat", "3"], cwd=ROOT, capture_output=True,
                              text=True)
        print(proc.stdout.strip() or proc.stderr[-500:], flush=True)
    if not (args.short or args.no_small):
        print("# small notebooks without TensorFlow (benchmarks/batch.py --short):", flush=True)
        proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "batch.py"), "--short"], cwd=ROOT,
                              capture_output=True, text=True)
        print(proc.stdout.strip() or proc.stderr[-500:], flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
