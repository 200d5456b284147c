"""`grader run FOLDER -j N`: parallel, resumable, crash-proof batches (grader/batch.py, worker.py).

Every test grades real generated notebooks in real worker processes (and real kernels where a
question needs execution); the gradebook is the real SQLite file.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from benchmarks.batch import make_notebooks
from grader.batch import LocalPoolExecutor, WorkerFailed, run_batch
from grader.context import GradingOptions
from grader.gradebook import Gradebook
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parent.parent
NOT_RUN = "The grader did not run this item."


def grader(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, capture_output=True,
                          text=True, env=env, timeout=timeout)


def run_counts(out: Path) -> dict[str, int]:
    """Runs per submission file name, read straight from the gradebook."""
    db = sqlite3.connect(out / "gradebook.sqlite", timeout=30)
    try:
        rows = db.execute("SELECT s.path, COUNT(r.id) FROM submissions s LEFT JOIN runs r "
                          "ON r.submission_id = s.id GROUP BY s.id").fetchall()
    finally:
        db.close()
    return {Path(p).name: n for p, n in rows}


def total_runs(out: Path) -> int:
    try:
        return sum(run_counts(out).values())
    except sqlite3.Error:  # not created yet
        return 0


def processes_under(folder: Path) -> list[str]:
    """Live processes whose command line, working directory or TMPDIR lies under `folder`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
            state = (proc / "stat").read_text().split()[2]
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        tmpdir = f"TMPDIR={folder}".encode()
        if state != "Z" and (str(folder) in cmd or cwd.startswith(str(folder)) or tmpdir in environ):
            found.append(f"{proc.name}: {cmd[:120]} (cwd {cwd})")
    return found


def static_item_graded(result: dict, item_id: str) -> dict:
    """The item's result, asserting it came from its check (not the engine's 'did not run')."""
    item = next(i for q in result["questions"] for i in q["items"] if i["id"] == item_id)
    assert item["feedback"] and item["feedback"] != NOT_RUN, item
    assert not item["feedback"].startswith("Not graded"), item
    return item


# ---- kill and resume --------------------------------------------------------------------------

def test_sigkill_mid_batch_then_rerun_grades_every_submission_exactly_once(tmp_path: Path) -> None:
    subs = make_notebooks(tmp_path / "subs", 8)
    out = tmp_path / "out"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}  # worker job files and kernel workdirs land here
    args = [sys.executable, "-m", "grader", "run", str(tmp_path / "subs"), "--questions", "q1,q9",
            "--out", str(out), "-j", "2"]
    batch = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while total_runs(out) < 3:
        assert batch.poll() is None, "the batch ended before it could be killed halfway"
        assert time.monotonic() < deadline, "no result saved within 240 s"
        time.sleep(0.05)
    os.kill(batch.pid, signal.SIGKILL)
    batch.wait()
    done_before = total_runs(out)
    assert 3 <= done_before < len(subs), done_before

    # Workers and their kernels die with the batch: nothing keeps grading in the background.
    deadline = time.monotonic() + 15
    while processes_under(scratch) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_under(scratch) == []

    rerun = grader("run", str(tmp_path / "subs"), "--questions", "q1,q9", "--out", str(out), "-j", "2",
                   env=env)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"({len(subs) - done_before} graded now, {done_before} cached)" in rerun.stdout
    assert run_counts(out) == {p.name: 1 for p in subs}
    for path in subs:
        saved = json.loads((out / f"{path.stem}.json").read_text())
        assert saved["status"] == "graded" and saved["cache_key"]
        assert (out / f"{path.stem}.html").stat().st_size > 0
    assert (out / "index.html").exists()


def test_rerun_skips_unchanged_regrades_changed_and_force_regrades_all(tmp_path: Path) -> None:
    subs = make_notebooks(tmp_path / "subs", 3)
    out = tmp_path / "out"
    folder = str(tmp_path / "subs")
    first = grader("run", folder, "--questions", "q1,q2", "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert run_counts(out) == {p.name: 1 for p in subs}

    again = grader("run", folder, "--questions", "q1,q2", "--out", str(out))
    assert again.returncode == 0
    assert "(0 graded now, 3 cached)" in again.stdout
    assert run_counts(out) == {p.name: 1 for p in subs}

    # a lost result file is rewritten from the gradebook, without a new run
    (out / "student01.json").unlink()
    grader("run", folder, "--questions", "q1,q2", "--out", str(out))
    assert json.loads((out / "student01.json").read_text())["submission"] == "student01.ipynb"
    assert run_counts(out)["student01.ipynb"] == 1

    # a changed notebook is regraded, alone
    text = subs[2].read_text()
    subs[2].write_text(text.replace("student 2)", "student 2, revised)"))
    changed = grader("run", folder, "--questions", "q1,q2", "--out", str(out))
    assert "(1 graded now, 2 cached)" in changed.stdout
    assert run_counts(out) == {"student00.ipynb": 1, "student01.ipynb": 1, "student02.ipynb": 2}

    # an option that changes grading changes the key
    other = grader("run", folder, "--questions", "q1", "--out", str(out))
    assert "(3 graded now, 0 cached)" in other.stdout

    forced = grader("run", folder, "--questions", "q1", "--out", str(out), "--force")
    assert "(3 graded now, 0 cached)" in forced.stdout
    assert run_counts(out) == {"student00.ipynb": 3, "student01.ipynb": 3, "student02.ipynb": 4}
    with Gradebook(out / "gradebook.sqlite") as book:
        latest = book.latest()
    assert [r.questions[0].id for r in latest] == ["q1", "q1", "q1"]


# ---- cheap first: static items survive what execution does ------------------------------------

def test_hanging_cell_times_out_and_static_items_are_still_graded(tmp_path: Path) -> None:
    nb = make_notebooks(tmp_path / "subs", 1, hang=True)[0]
    started = time.monotonic()
    proc = grader("run", str(nb), "--questions", "q1,q2,q9", "--timeout", "6", "--json",
                  "--out", str(tmp_path / "out"))
    assert time.monotonic() - started < 120
    assert proc.returncode == 3, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "timeout"
    assert result["execution"]["status"] == "timeout"
    for item_id in ("q1.concepts", "q2.params", "q2.ram_prediction", "q2.ram_batch"):
        static_item_graded(result, item_id)
    runs = next(i for q in result["questions"] for i in q["items"] if i["id"] == "q9.runs")
    assert runs["status"] in ("failed", "partial") and "timeout" in runs["feedback"]


def test_stalled_worker_is_stopped_and_its_static_items_kept(tmp_path: Path) -> None:
    """A grading process that stops making progress is killed; a static-only regrade stands in."""
    nb = make_notebooks(tmp_path / "subs", 1, hang=True)[0]
    out = tmp_path / "out"
    executor = LocalPoolExecutor(1, stall_limit_s=5)
    try:
        outcome = run_batch([nb], load_rubric(), GradingOptions(questions=["q1", "q2", "q9"], timeout=600),
                            out=out, executor=executor)
    finally:
        executor.shutdown()
    result = outcome.results[0]
    assert result.status == "error"
    assert "no progress for 5 s" in result.message
    data = json.loads((out / "student00.json").read_text())
    static_item_graded(data, "q1.concepts")
    static_item_graded(data, "q2.params")
    assert result.item("q9.runs").status in ("failed", "partial", "error")
    assert data["cache_key"] == ""  # a grader failure is retried by the next run
    rerun_key = run_counts(out)
    assert rerun_key == {"student00.ipynb": 1}


class _FailsOne:
    """An Executor that loses the first grading of one submission, like an OOM-killed worker."""

    def __init__(self, inner: LocalPoolExecutor, victim: str) -> None:
        self.inner, self.victim, self.jobs = inner, victim, []

    def submit(self, job):
        self.jobs.append(job)
        if job.crash is None and Path(job.path).stem == self.victim:
            future: Future = Future()
            future.set_exception(WorkerFailed("the grading process was killed (signal 9)"))
            return future
        return self.inner.submit(job)

    def shutdown(self, *, cancel: bool = False) -> None:
        self.inner.shutdown(cancel=cancel)


def test_one_lost_worker_never_stops_the_batch(tmp_path: Path) -> None:
    subs = make_notebooks(tmp_path / "subs", 3)
    executor = _FailsOne(LocalPoolExecutor(2), "student01")
    try:
        outcome = run_batch(subs, load_rubric(), GradingOptions(questions=["q1", "q2"]),
                            out=tmp_path / "out", executor=executor)
    finally:
        executor.shutdown()
    statuses = {Path(r.submission).stem: r.status for r in outcome.results}
    assert statuses == {"student00": "graded", "student01": "error", "student02": "graded"}
    lost = outcome.results[1]
    assert "signal 9" in lost.message
    assert lost.item("q2.params").feedback != NOT_RUN
    assert [j.crash for j in executor.jobs if Path(j.path).stem == "student01"][1] is not None


def test_training_slots_let_one_notebook_execute_at_a_time(tmp_path: Path) -> None:
    subs = make_notebooks(tmp_path / "subs", 3, sleep_s=1.5)
    out = tmp_path / "out"
    proc = grader("run", str(tmp_path / "subs"), "--questions", "q1,q9", "--out", str(out), "-j", "3",
                  "--max-trainings", "1")
    assert proc.returncode == 0, proc.stderr
    slots = [json.loads((out / f"{p.stem}.json").read_text())["environment"]["training_slot"] for p in subs]
    spans = sorted((s["acquired_at"], s["released_at"]) for s in slots)
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start >= end - 0.05, spans  # executions never overlap
    assert max(s["waited_s"] for s in slots) > 1.0  # someone waited for the slot
    assert {s["slots"] for s in slots} == {1}


def test_at_j1_a_second_worker_checks_one_notebook_while_the_next_executes(tmp_path: Path) -> None:
    """-j 1 bounds the executions, not the grading: an extra worker grades what follows a
    notebook's run (evaluation, checks, report) while the next one executes; GRADER_OVERLAP=0
    runs exactly one worker."""
    from grader.evaluation.threads import cores

    if cores() < 2:
        pytest.skip("the extra worker runs only where -j leaves a core idle")
    subs = make_notebooks(tmp_path / "subs", 3, sleep_s=1.0)

    def run(out: Path, **env: str) -> list[dict]:
        proc = grader("run", str(tmp_path / "subs"), "--questions", "q1,q9", "--out", str(out), "-j", "1",
                      env={**os.environ, **env})
        assert proc.returncode == 0, proc.stderr
        return [json.loads((out / f"{p.stem}.json").read_text())["environment"] for p in subs]

    overlapped = run(tmp_path / "out")
    spans = sorted((e["training_slot"]["acquired_at"], e["training_slot"]["released_at"]) for e in overlapped)
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start >= end - 0.05, spans  # still one execution at a time
    assert len({e["timings"]["worker"]["pid"] for e in overlapped}) == 2
    plain = run(tmp_path / "out-plain", GRADER_OVERLAP="0")
    assert len({e["timings"]["worker"]["pid"] for e in plain}) == 1
    assert not any("training_slot" in e for e in plain)


# ---- the command-line contract -----------------------------------------------------------------

def test_folder_with_a_malformed_file_exit_3_every_file_written(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    make_notebooks(subs, 2)
    (subs / "broken.ipynb").write_text("{not json")
    out = tmp_path / "out"
    proc = grader("run", str(subs), "--questions", "q2", "--out", str(out), "--json")
    assert proc.returncode == 3
    decoder, text, docs = json.JSONDecoder(), proc.stdout.strip(), []
    while text:
        doc, end = decoder.raw_decode(text)
        docs.append(doc)
        text = text[end:].strip()
    assert [d["status"] for d in docs] == ["invalid", "graded", "graded"]
    for stem in ("broken", "student00", "student01"):
        assert (out / f"{stem}.json").exists() and (out / f"{stem}.html").exists()
    assert (out / "index.html").exists() and (out / "gradebook.sqlite").exists()


def test_single_notebook_prints_per_question_summary(tmp_path: Path) -> None:
    nb = make_notebooks(tmp_path / "subs", 1)[0]
    proc = grader("run", str(nb), "--questions", "q1,q2", "--out", str(tmp_path / "out"))
    assert proc.returncode == 0
    assert "q1" in proc.stdout and "q2" in proc.stdout and "student00.ipynb" in proc.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert grader("run", str(tmp_path / "nope")).returncode == 2
    nb = make_notebooks(tmp_path / "subs", 1)[0]
    bad_jobs = grader("run", str(nb), "-j", "0", "--out", str(tmp_path / "o"))
    assert bad_jobs.returncode == 2 and "-j" in bad_jobs.stderr


def test_second_batch_on_the_same_out_folder_is_refused(tmp_path: Path) -> None:
    nb = make_notebooks(tmp_path / "subs", 1)[0]
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".grader-batch.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = grader("run", str(nb), "--out", str(out), "--questions", "q2")
    assert proc.returncode == 2
    assert "another `grader run` is writing here" in proc.stderr


def test_results_do_not_depend_on_the_parallelism(tmp_path: Path) -> None:
    subs = make_notebooks(tmp_path / "subs", 3)
    seen = []
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        run = grader("run", str(tmp_path / "subs"), "--questions", "q1,q2", "--out", str(out),
                     "-j", str(jobs))
        assert run.returncode == 0
        results = [json.loads((out / f"{p.stem}.json").read_text()) for p in subs]
        seen.append([[(i["id"], i["score"], i["status"], i["feedback"])
                      for q in r["questions"] for i in q["items"]] for r in results])
    assert seen[0] == seen[1]
    assert len(seen[0]) == 3 and all(len(items) == 4 for items in seen[0])


def test_editing_a_manual_grade_applies_it_without_grading_again(tmp_path: Path) -> None:
    """Manual grades are not in the cache key: an edited overrides file is applied to the saved
    grading (no notebook is run again), and removing an entry brings the automatic grade back."""
    make_notebooks(tmp_path / "subs", 3)
    out = tmp_path / "out"
    folder = str(tmp_path / "subs")
    assert grader("run", folder, "--questions", "q2", "--out", str(out)).returncode == 0
    automatic = json.loads((out / "student01.json").read_text())
    (out / "overrides.yaml").write_text("student01:\n  q2.params: {points: 5, comment: checked by hand}\n")
    again = grader("run", folder, "--questions", "q2", "--out", str(out))
    assert "(0 graded now, 3 cached)" in again.stdout, again.stdout + again.stderr
    manual = json.loads((out / "student01.json").read_text())
    item = next(i for q in manual["questions"] for i in q["items"] if i["id"] == "q2.params")
    assert item["manual"] and item["score"] == 5
    assert "checked by hand" in (out / "student01.html").read_text()
    (out / "overrides.yaml").write_text("{}\n")
    back = grader("run", folder, "--questions", "q2", "--out", str(out))
    assert "(0 graded now, 3 cached)" in back.stdout, back.stdout + back.stderr
    restored = json.loads((out / "student01.json").read_text())
    assert restored["score"] == automatic["score"]
    assert not any(i["manual"] for q in restored["questions"] for i in q["items"])
