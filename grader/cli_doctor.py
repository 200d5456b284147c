"""`grader doctor [--data-dir DIR]`: is this machine ready to grade the rubric's assignment?

Checks the packages the rubric's `environment:` declares (importable, versions), the data dir
against its `data:` list, and the sandbox (bwrap present, this Python not hidden under /tmp, a
sandboxed kernel starts and runs a cell). Prints each gap with its fix; exit 0 when there is
none, 1 otherwise. `before_run` is the cheap part `grader run` does before grading.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("doctor", help="check packages, data dir and sandbox against the rubric")
    p.add_argument("--rubric", default=None, help="rubric YAML (default: rubrics/assignment06.yaml)")
    p.add_argument("--data-dir", default=None,
                   help="offline datasets and weights (default: $GRADER_DATA_DIR)")
    p.add_argument("--no-kernel", action="store_true", help="skip starting a sandboxed kernel (fast)")


def run(args: argparse.Namespace) -> int:
    from grader import envcheck
    from grader.rubric import RubricError, load_rubric

    try:
        rubric = load_rubric(args.rubric)
    except RubricError as exc:
        print(f"grader: error: {exc}", file=sys.stderr)
        return 2
    data_dir = args.data_dir or os.environ.get("GRADER_DATA_DIR") or None
    env = rubric.environment or {}
    findings = envcheck.package_findings(env)
    if data_dir and not Path(data_dir).is_dir():
        findings.append(envcheck.Finding("data-dir", data_dir, False, "no such folder",
                                         "give the folder holding the rubric's data files"))
    else:
        findings += envcheck.data_findings(env, data_dir)
    findings += envcheck.sandbox_findings()
    if not args.no_kernel:
        findings.append(envcheck.kernel_finding(data_dir if data_dir and Path(data_dir).is_dir() else None))
    print(f"grader doctor: {rubric.path.name} ({rubric.assignment})")
    for f in findings:
        print("  " + f.line())
    gaps = [f for f in findings if not f.ok]
    verdict = ": fix them, then run grader doctor again" if gaps else "; ready to grade"
    print(f"{len(gaps)} gap(s){verdict}")
    return 1 if gaps else 0


def before_run(rubric, notebooks: list[Path], options, *, remote: bool = False) -> None:
    """Configuration mistakes caught before grading: a data dir that does not exist, a Python the
    sandbox would hide (usage errors); a missing sandbox or data dir and the modules the notebooks
    import that are not installed (warnings on stderr, each with its fix).

    `remote`: the submissions are graded on cluster workers (`--executor dask|slurm|...`), where
    the data dir, the Python and the sandbox are the workers' own: each worker checks them and a
    gap there is an `environment` result naming the worker and the path (grader/executors/)."""
    from grader import envcheck
    from grader.cli import UsageError
    from grader.execute.sandbox import NOT_ENFORCED_WITHOUT_BWRAP, bwrap_status
    from grader.machine import default_data_dir

    given = options.resolved_data_dir()
    if remote:
        return
    if given and not Path(given).expanduser().is_dir():
        source = "--data-dir" if options.data_dir else "GRADER_DATA_DIR"
        raise UsageError(f"{source} {given}: no such folder; give the folder holding the datasets and "
                         "weights (e.g. ../shared/datasets)")
    under = envcheck.python_under_tmp()
    if under:
        raise UsageError(f"the grader's Python lives under /tmp ({under}), which the sandbox replaces with a "
                         "private /tmp, so no kernel could start: install the grader outside /tmp (e.g. "
                         "python3 -m venv ~/grader-venv), or set GRADER_SANDBOX=none to run unsandboxed")
    path, why = bwrap_status()
    if not path:  # the runner's own wording, through its once-only warning: printed here, up front
        from grader.execute.runner import _warn_once

        _warn_once(f"the notebook runs WITHOUT a sandbox ({why}); not enforced: "
                   + "; ".join(NOT_ENFORCED_WITHOUT_BWRAP))
    data_dir = given or default_data_dir()
    for f in envcheck.preflight(rubric, notebooks, data_dir, options.questions):
        who = f" (imported by {', '.join(f.students[:8])}{' ...' if len(f.students) > 8 else ''})" \
            if f.students else ""
        _warn(f"{f.kind} {f.what}: {f.detail}{who}; the items that need it will be skipped, not failed. "
              f"Fix: {f.fix}")


def _warn(message: str) -> None:
    print(f"grader: warning: {message}", file=sys.stderr)
