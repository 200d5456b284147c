"""Red team, output side (issue 14 part B): a class folder whose file names and links attack the
grader's terminal and reports, and an `--out` that cannot be written. Static questions only, so
no kernel starts; each attack ends with no effect and a message, and the honest student graded
beside them keeps their result."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

JS_NAME = "javascript:alert(1).ipynb"
ESC_NAME = "\x1b[2J\x1b]0;pwned\x07[bold red]eve[blink]x.ipynb"


def grader(root: Path, *args: str, preexec=None,
           wrap: list[str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*(wrap or []), sys.executable, "-m", "grader", *args], cwd=root,
                          capture_output=True, text=True, timeout=600, preexec_fn=preexec)


@pytest.fixture()
def hostile_class(root: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "class"
    (folder / "carol").mkdir(parents=True)
    shutil.copy(root / "submissions/alice.ipynb", folder / "alice.ipynb")
    shutil.copy(root / "submissions/bob.ipynb", folder / JS_NAME)
    shutil.copy(root / "submissions/bob.ipynb", folder / ESC_NAME)
    shutil.copy(root / "submissions/carol.ipynb", folder / "carol" / "final.ipynb")
    (folder / "mallory.ipynb").symlink_to("alice.ipynb")  # another student's hand-in
    (folder / "trudy.ipynb").symlink_to(root / "submissions" / "bob.ipynb")  # outside the folder
    (folder / "carol.ipynb").symlink_to(Path("carol") / "final.ipynb")  # her own file: fine
    return folder


def test_hostile_file_names_and_links(root: Path, tmp_path: Path, hostile_class: Path) -> None:
    out = tmp_path / "out"
    proc = grader(root, "run", str(hostile_class), "--out", str(out), "--questions", "q1")
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text
    # the terminal gets no escape sequence, and rich markup in a name is shown, not applied
    assert "\x1b" not in text and "\x07" not in text
    # (the summary table cuts names at 20 characters, after the escape sequences are removed)
    assert "[bold red]eve[blink]" in proc.stdout
    # links: refused with the reason; the student's own link into a subfolder is graded
    assert "not grading" in proc.stderr and "mallory.ipynb" in proc.stderr
    assert "another student's notebook" in proc.stderr and "alice.ipynb" in proc.stderr
    assert "trudy.ipynb" in proc.stderr and "outside the submission folder" in proc.stderr
    graded = sorted(p.stem for p in out.glob("*.json"))
    assert "mallory" not in graded and "trudy" not in graded
    assert {"alice", "carol", "javascript:alert(1)"} <= set(graded)
    # the class report links every report as a relative file, whatever its name
    index = (out / "index.html").read_text()
    assert 'href="./javascript%3Aalert%281%29.html"' in index
    assert 'href="javascript:' not in index
    assert 'href="./alice.html"' in index
    # the honest student keeps her score next to them
    alone = tmp_path / "alone"
    grader(root, "run", "submissions/alice.ipynb", "--out", str(alone), "--questions", "q1")
    assert (json.loads((out / "alice.json").read_text())["score"]
            == json.loads((alone / "alice.json").read_text())["score"])


def _graded_once(root: Path, out: Path) -> dict[str, str]:
    proc = grader(root, "run", "submissions/alice.ipynb", "submissions/bob.ipynb", "--out", str(out),
                  "--questions", "q1")
    assert proc.returncode == 0, proc.stderr
    return {p.name: p.read_text() for p in out.glob("*.json")}


def _limit_file_size() -> None:  # a disk that fills up: every write past 20 kB fails (EFBIG)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))


def test_full_out_is_a_usage_error_and_keeps_what_was_saved(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = _graded_once(root, out)
    proc = grader(root, "run", "submissions/alice.ipynb", "submissions/bob.ipynb", "--out", str(out),
                  "--questions", "q1,q3", "--force", preexec=_limit_file_size)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"--out {out}: cannot write" in proc.stderr and "pass another --out" in proc.stderr
    assert {p.name: p.read_text() for p in out.glob("*.json")} == before


def test_read_only_out_is_a_usage_error(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = _graded_once(root, out)
    # a read-only bind of the folder in a private mount namespace (works as root, where chmod
    # does not stop writes)
    wrap = ["unshare", "-rm", "sh", "-c", f'mount --bind -o ro "{out}" "{out}" && exec "$0" "$@"']
    probe = subprocess.run([*wrap, "true"], capture_output=True, text=True)
    if probe.returncode != 0 or not shutil.which("unshare"):
        pytest.skip(f"cannot make a read-only mount here: {probe.stderr.strip()[:200]}")
    proc = grader(root, "run", "submissions/alice.ipynb", "--out", str(out), "--questions", "q1",
                  "--force", wrap=wrap)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Read-only file system" in proc.stderr and "--out" in proc.stderr
    assert {p.name: p.read_text() for p in out.glob("*.json")} == before


def test_out_that_is_a_file_is_a_usage_error(root: Path, tmp_path: Path) -> None:
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    proc = grader(root, "run", "submissions/alice.ipynb", "--out", str(target), "--questions", "q1")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--out" in proc.stderr
    assert target.read_text() == "keep me"


def test_terminal_text_is_plain() -> None:
    from grader.terminal import markup_safe, plain

    assert plain(ESC_NAME) == "[bold red]eve[blink]x.ipynb"
    assert markup_safe("[link=http://x]a[/link]\r\nfake: graded 17/17") == \
        "\\[link=http://x]a\\[/link]  fake: graded 17/17"
    assert plain("name\u202egpj.exe") == "namegpj.exe"
    assert os.linesep not in plain("a\nb")
