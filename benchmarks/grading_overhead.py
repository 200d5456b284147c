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
per-notebook ratio against the plain runs; for each: CPU seconds per notebook by process, the
machine's idle time and what the other users took, a per-worker timeline with the idle time at
the end; the same notebooks run plainly 1 and 2 at a time, the kernels' own scaling and so the
most -j 2 can reach; the CPU ceiling of -j 2 over -j 1, cores x -j 1 wall / -j 2 CPU seconds;
-j 2 makespans simulated from the -j 1 durations for the alphabetical and the longest-first
orders), a cached re-run of that unchanged batch against its
first run, the static self-check in a fresh process (benchmarks/selfcheck_speed.py), and the
small-notebook figures of benchmarks/batch.py as a second line. Every figure line says the load
average when it was measured: on a shared 2-core machine the figures are only comparable at
similar load.

    python benchmarks/grading_overhead.py                # 3 notebooks x 3 pairs, batch of 8, all lines
    python benchmarks/grading_overhead.py --short        # 1 small notebook, 1 pair, no batch (smoke test)
    python benchmarks/grading_overhead.py --repeat 2 --batch 4 --no-small --no-selfcheck
    python benchmarks/grading_overhead.py --no-pairs --batch 8 --jobs 2 --no-small --no-selfcheck

Switches to measure what each cut saves (set in the environment of the run):
GRADER_EARLY_EVALUATOR=0 (evaluator started only when a model is measured),
GRADER_EARLY_EXECUTION=0 (the notebook runs after the static items, not beside them),
GRADER_KEEP_EVALUATOR=0 (a batch worker starts one evaluator per submission),
GRADER_LONGEST_FIRST=0 (a regrade hands out its notebooks in the given order, not longest last
grading first, grader/schedule.py),
GRADER_CACHE_DIR=off (official data sets hashed again in every process),
GRADER_EVAL_PREIMPORT=0 / 1 (the evaluator imports Keras while the notebook runs never / always; by
default once the kernel has read pretrained weights, for a job alone on its machine,
grader/evaluation/process.py),
GRADER_OVERLAP=0 (a batch runs exactly -j workers, none extra to check one notebook while the next
executes, grader/batch.py),
GRADER_FAST_FITFILES=0 (per-fit model files loaded with Keras in the evaluator instead of read with
h5py, and the ImageNet reference built as a MobileNetV2, grader/evaluation/fitfile.py `training_from_file`).

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
        self.roles: dict[tuple[int, int], str] = {}
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
                if (pid, started) not in self.roles or self.roles[(pid, started)] == "other":
                    self.roles[(pid, started)] = _role(pid)
            self._stop.wait(self.every)

    def by_role(self) -> dict[str, float]:
        """CPU seconds per kind of process (kernel, evaluator, worker, grader run, other)."""
        out: dict[str, float] = {}
        for key, value in self.seen.items():
            if not (self.without_root and key[0] == self.pid):
                role = self.roles.get(key, "other")
                out[role] = out.get(role, 0.0) + value
        return out

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return sum(v for (pid, _), v in self.seen.items() if not (self.without_root and pid == self.pid))


def _role(pid: int) -> str:
    """What a process of a grading run is, from its command line."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    for needle, role in (("ipykernel", "kernel"), ("grader.evaluation.inprocess", "evaluator"),
                         ("grader.worker", "worker"), ("-m grader run", "grader run"),
                         ("grading_overhead", "plain (nbclient)")):
        if needle in cmd:
            return role
    return "other"


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
        roles = {**meter.by_role(), "plain (nbclient)": _cpu(resource.RUSAGE_SELF) - s0}
        errors = [c.outputs[-1].get("ename") for c in nb.cells[1:] if c.cell_type == "code"
                  and c.get("outputs") and c.outputs[-1].get("output_type") == "error"]
        if nb.cells[0].get("outputs") and nb.cells[0].outputs[-1].get("output_type") == "error":
            raise RuntimeError(f"plain run's setup cell failed: {nb.cells[0].outputs[-1].get('evalue')}")
        return {"wall_s": wall, "cpu_s": cpu, "errors": errors, "pid": os.getpid(), "cpu_by_role": roles,
                "start": time.time() - wall, "end": time.time()}
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


def _machine_cpu() -> tuple[float, float, float]:
    """(busy, idle, steal) CPU seconds of the whole machine since boot, from /proc/stat: what the
    other users of a shared machine took during a run is the machine's busy time minus ours;
    steal is what the hypervisor gave to other machines."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    fields += [0] * (8 - len(fields))
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle + iowait
    busy = sum(fields[:7]) - idle  # user nice system idle iowait irq softirq (steal: fields[7])
    return busy / tick, idle / tick, fields[7] / tick


def _warm(_: int) -> int:
    import nbclient  # noqa: F401

    import grader.execute.runner  # noqa: F401

    time.sleep(1.0)  # long enough for the pool to hand the next call to another process
    return os.getpid()


def _plain_job(args: tuple[str, str, dict]) -> dict:
    return run_plain(Path(args[0]), args[1], args[2])


def plain_batch(paths: list[Path], jobs: int, data_dir: str, budget: dict) -> dict:
    """The same notebooks run plainly (run_plain), `jobs` at a time in worker processes taking
    them in the batch's order: the kernels' own -j scaling, the most the grader can reach."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        list(pool.map(_warm, range(jobs)))  # every pool process started and its imports done
        busy0, idle0, steal0 = _machine_cpu()
        t0 = time.time()
        runs = list(pool.map(_plain_job, [(str(p), data_dir, budget) for p in paths]))
        t1 = time.time()
        busy1, idle1, steal1 = _machine_cpu()
    entries = [(r["pid"], p.stem, r["start"], r["end"]) for p, r in zip(paths, runs, strict=True)]
    roles: dict[str, float] = {}
    for r in runs:
        for role, value in r["cpu_by_role"].items():
            roles[role] = roles.get(role, 0.0) + value
    return {"wall_s": t1 - t0, "cpu_s": sum(r["cpu_s"] for r in runs), "t0": t0, "t1": t1,
            "cpu_by_role": roles,
            "machine_busy_s": busy1 - busy0, "machine_idle_s": idle1 - idle0,
            "machine_steal_s": steal1 - steal0, "entries": entries}


def _timeline(entries: list[tuple[int, str, float, float]], t0: float, t1: float) -> dict:
    """Per-worker figures from (worker, notebook, start, end) epoch stamps: when each worker began
    and ended, how long it was busy, and how long it sat idle at the end while another still ran
    (makespan imbalance)."""
    workers: dict[int, list[tuple[str, float, float]]] = {}
    for who, name, start, end in sorted(entries, key=lambda e: e[2]):
        workers.setdefault(who, []).append((name, start, end))
    last = max(end for _, _, _, end in entries)
    rows = []
    for i, (_, runs) in enumerate(sorted(workers.items(), key=lambda w: w[1][0][1])):
        busy = sum(end - start for _, start, end in runs)
        rows.append({"worker": i, "first_start_s": runs[0][1] - t0, "last_end_s": runs[-1][2] - t0,
                     "busy_s": busy, "idle_at_end_s": last - runs[-1][2],
                     "gaps_s": runs[-1][2] - runs[0][1] - busy,
                     "runs": [(name, start - t0, end - t0) for name, start, end in runs]})
    return {"workers": rows, "last_end_s": last - t0, "after_last_s": t1 - last,
            "imbalance_s": max(r["idle_at_end_s"] for r in rows)}


def _print_timeline(label: str, tl: dict) -> None:
    for row in tl["workers"]:
        runs = ", ".join(f"{name[:14]} {a:.0f}-{b:.0f}" for name, a, b in row["runs"])
        print(f"    {label} worker {row['worker']}: starts {row['first_start_s']:.1f} s, ends "
              f"{row['last_end_s']:.1f} s, busy {row['busy_s']:.1f} s, between jobs {row['gaps_s']:.1f} s, "
              f"idle at the end {row['idle_at_end_s']:.1f} s: {runs}", flush=True)
    print(f"    {label}: last notebook done at {tl['last_end_s']:.1f} s, then {tl['after_last_s']:.1f} s "
          f"to the end (class report, similarity, exit); makespan imbalance {tl['imbalance_s']:.1f} s",
          flush=True)


def _makespan(order: list[str], seconds: dict[str, float], workers: int) -> float:
    """When the last of `order` ends with `workers` taking the next job as they free up."""
    free = [0.0] * workers
    for name in order:
        i = free.index(min(free))
        free[i] += seconds[name]
    return max(free)


def _code_estimate(path: Path) -> float:
    """A static guess of a notebook's grading cost from its code: a kernel start, a framework
    import, 2 per training call, 0.5 per evaluate/predict, the code's length. Tried as the
    batch's order for notebooks never graded before and dropped (see grader/schedule.py): the
    line below keeps showing what it would do."""
    import re

    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        code = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                         for c in nb["cells"] if c.get("cell_type") == "code")
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0
    return (1.0 + (1.0 if re.search(r"^\s*(?:import|from)\s+(?:tensorflow|keras)", code, re.M) else 0.0)
            + 2.0 * len(re.findall(r"\.\s*fit\s*\(", code))
            + 0.5 * len(re.findall(r"\.\s*(?:evaluate|predict)\s*\(", code)) + len(code) / 2000.0)


def _schedule_line(paths: list[Path], timeline: dict, workers: int = 2) -> str:
    """-j 2 makespans simulated from the -j 1 run's own durations (no second timing, so no load
    drift between them): the alphabetical order (a first batch), longest first by a code
    estimate (`_code_estimate`, not used by the grader), longest first by the true durations
    (what a regrade does from the gradebook, grader/schedule.py), and the bound
    max(total / workers, longest)."""
    from grader import schedule

    seconds = {name: b - a for row in timeline["workers"] for name, a, b in row["runs"]}
    given = sorted(seconds)
    costs = {p: _code_estimate(p) for p in paths}
    by_code = [p.stem for p in schedule.longest_first(sorted(paths), costs)]
    by_time = sorted(given, key=lambda n: -seconds[n])
    bound = max(sum(seconds.values()) / workers, max(seconds.values()))
    return (f"  -j {workers} makespan simulated from the -j 1 durations: alphabetical "
            f"{_makespan(given, seconds, workers):.1f} s, longest first by code "
            f"{_makespan(by_code, seconds, workers):.1f} s, longest first by last duration "
            f"{_makespan(by_time, seconds, workers):.1f} s, bound {bound:.1f} s")


def _graded_entries(out: Path, paths: list[Path]) -> list[tuple[int, str, float, float]]:
    entries = []
    for p in paths:
        data = json.loads((out / f"{p.stem}.json").read_text(encoding="utf-8"))
        w = ((data.get("environment") or {}).get("timings") or {}).get("worker") or {}
        if w:
            entries.append((int(w["pid"]), p.stem, float(w["start"]), float(w["end"])))
    return entries


def _cpu_line(label: str, run: dict, count: int) -> str:
    span = run["wall_s"] * (os.cpu_count() or 1)
    others = max(run["machine_busy_s"] - run["cpu_s"], 0.0)
    got = run["cpu_s"] / max(span - others, 1e-9)
    roles = ", ".join(f"{k} {v / count:.1f}" for k, v in sorted(run.get("cpu_by_role", {}).items(),
                                                                key=lambda kv: -kv[1]))
    return (f"{label}: ours {run['cpu_s']:.1f} CPU s = {run['cpu_s'] / run['wall_s']:.2f} cores busy on "
            f"average; others on the machine {others:.1f} CPU s; machine idle {run['machine_idle_s']:.1f} "
            f"CPU s ({100 * run['machine_idle_s'] / span:.0f}% of {os.cpu_count()} cores x wall), stolen by "
            f"the hypervisor {run.get('machine_steal_s', 0.0):.1f} CPU s; we used "
            f"{100 * got:.0f}% of the CPU the others left\n    CPU s per notebook by process: {roles}")


def bench_batch(names: list[str], count: int, folder: Path, data_dir: str, plain: dict,
                budget: dict | None = None, plain_batches: bool = True,
                job_counts: tuple[int, ...] = (1, 2)) -> dict:
    """`count` copies of the notebooks (cycled) graded as one folder at -j 1 and at -j 2, each
    beside the same notebooks run plainly at 1 and 2 at a time (`plain_batch`)."""
    hand_ins = folder / "batch"
    hand_ins.mkdir()
    paths, plain_sum = [], 0.0
    for i in range(count):
        name = names[i % len(names)]
        src = _prepare(name, folder, data_dir)
        dest = hand_ins / f"{i:02d}_{name}.ipynb"
        shutil.copy(src, dest)
        paths.append(dest)
        plain_sum += plain[name]["plain_s"] if name in plain else float("nan")  # --no-pairs: unknown
    out, plain_out, cpus = {}, {}, os.cpu_count() or 1
    for jobs in job_counts:
        load = os.getloadavg()[0]
        busy0, idle0, steal0 = _machine_cpu()
        t0 = time.time()
        run = _run_folder(hand_ins, paths, folder / f"batch-j{jobs}", data_dir, jobs)
        busy1, idle1, steal1 = _machine_cpu()
        run.update(machine_busy_s=busy1 - busy0, machine_idle_s=idle1 - idle0,
                   machine_steal_s=steal1 - steal0,
                   timeline=_timeline(_graded_entries(folder / f"batch-j{jobs}", paths), t0,
                                      t0 + run["wall_s"]))
        out[jobs] = run
        print(f"batch of {count} (grader run DIR -j {jobs}): {run['wall_s']:.1f} s = "
              f"{60 * count / run['wall_s']:.1f} notebooks/min; batch wall / plain runs' sum "
              f"{run['wall_s'] / plain_sum:.2f}x; {run['cpu_s'] / count:.1f} CPU s per notebook "
              f"(plain runs together {plain_sum:.1f} s; load average before {load:.1f})", flush=True)
        print("  " + _cpu_line(f"CPU -j {jobs}", run, count), flush=True)
        _print_timeline(f"-j {jobs}", run["timeline"])
        if jobs == 1:
            print(_schedule_line(paths, run["timeline"]), flush=True)
        if plain_batches:
            load = os.getloadavg()[0]
            p = plain_batch(paths, jobs, data_dir, budget or _budget())
            plain_out[jobs] = p
            print(f"  plain nbclient, {jobs} at a time, same {count} notebooks in the same order: "
                  f"{p['wall_s']:.1f} s; {p['cpu_s'] / count:.1f} CPU s per notebook; grader/plain "
                  f"{run['wall_s'] / p['wall_s']:.2f}x (load average before {load:.1f})", flush=True)
            print("  " + _cpu_line(f"CPU plain {jobs} at a time", p, count), flush=True)
            _print_timeline(f"plain {jobs} at a time", _timeline(p["entries"], p["t0"], p["t1"]))
    if set(job_counts) != {1, 2}:
        return {"runs": out, "plain_batches": plain_out}
    speedup = out[1]["wall_s"] / out[2]["wall_s"]
    print(f"  -j 2 over -j 1: {speedup:.2f}x", flush=True)
    u1 = out[1]["cpu_s"] / out[1]["wall_s"]
    print(f"  CPU ceiling for -j 2 over -j 1 on {cpus} cores: {cpus / u1:.2f}x if -j 2 spent -j 1's CPU "
          f"({cpus} / {u1:.2f} cores busy at -j 1); {cpus * out[1]['wall_s'] / out[2]['cpu_s']:.2f}x with "
          f"-j 2's own CPU ({out[2]['cpu_s'] / count:.1f} against {out[1]['cpu_s'] / count:.1f} CPU s per "
          f"notebook at -j 1)", flush=True)
    if plain_batches:
        plain_speedup = plain_out[1]["wall_s"] / plain_out[2]["wall_s"]
        print(f"  plain nbclient 2 at a time over 1 at a time: {plain_speedup:.2f}x (the kernels' own "
              f"scaling) beside the grader's {speedup:.2f}x", flush=True)
    load = os.getloadavg()[0]
    cached = _grader_run([str(hand_ins)], folder / "batch-j2", data_dir, 2, force=False)["wall_s"]
    print(f"cached re-run of the unchanged batch (grader run DIR -j 2, same --out, no --force): "
          f"{cached:.2f} s = {100 * cached / out[2]['wall_s']:.1f}% of its first run "
          f"({out[2]['wall_s']:.1f} s; load average before {load:.1f})", flush=True)
    return {"j1_s": out[1]["wall_s"], "j2_s": out[2]["wall_s"], "plain_sum_s": plain_sum,
            "runs": out, "plain_batches": plain_out,
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
    roles = meter.by_role()
    proc = subprocess.CompletedProcess(cmd, child.returncode, "", stderr)
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"grader run failed ({proc.returncode}): {proc.stderr[-800:]}")
    return {"wall_s": wall, "cpu_s": cpu, "cpu_by_role": roles}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true",
                        help="honest_small only, 1 pair, no batch, no small line")
    parser.add_argument("--notebooks", default=None, help=f"comma-separated, of {', '.join(NOTEBOOKS)}")
    parser.add_argument("--repeat", type=int, default=None,
                        help="pairs per notebook (default 3; 1 with --short)")
    parser.add_argument("--batch", type=int, default=None, help="notebooks in the batch (default 8; 0: none)")
    parser.add_argument("--jobs", default="1,2",
                        help="the batch's -j values (default 1,2; the speed-up lines need both)")
    parser.add_argument("--no-pairs", action="store_true",
                        help="skip the single-notebook pairs (only the batch lines; its plain sum unknown)")
    parser.add_argument("--no-plain-batch", action="store_true",
                        help="skip the plain nbclient runs of the batch at 1 and 2 at a time")
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
        figures["pairs"] = {} if args.no_pairs else bench_pairs(names, folder, data_dir, budget, repeat)
        if count:
            figures["batch"] = bench_batch(names, count, folder, data_dir, figures["pairs"], budget,
                                           plain_batches=not args.no_plain_batch,
                                           job_counts=tuple(int(j) for j in args.jobs.split(",")))
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
