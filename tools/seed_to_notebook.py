"""Convert the text form of a hand-in (../shared/seed/*.txt) into the notebook it came from.

Text layout: markdown paragraphs; `In [N]:` starts a code cell; the lines after a code cell's
source, separated by a blank line, that are not code are its printed output. Used once to make
submissions/alice.ipynb; kept so the conversion can be checked and repeated.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

OUTPUT_LINE = re.compile(r"^(Epoch \d+/\d+|Test accuracy:|<keras\.callbacks|Downloading data from)")


def convert(text: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    blocks = re.split(r"\n(?=In \[\d+\]:\n)", text)
    for block in blocks:
        m = re.match(r"In \[(\d+)\]:\n", block)
        if not m:
            _markdown(nb, block)
            continue
        body = block[m.end():]
        code_lines, out_lines = [], []
        for line in body.split("\n"):
            (out_lines if (out_lines or OUTPUT_LINE.match(line)) else code_lines).append(line)
        cell = nbformat.v4.new_code_cell("\n".join(code_lines).strip("\n"))
        cell.execution_count = int(m.group(1))
        out = [ln for ln in out_lines if ln.strip() and not ln.startswith("<keras.")]
        result = [ln for ln in out_lines if ln.startswith("<keras.")]
        # trailing markdown after the output (the next question's heading) goes to its own cell
        tail_at = next((i for i, ln in enumerate(out) if ln.startswith("####")), None)
        tail = out[tail_at:] if tail_at is not None else []
        out = out[:tail_at] if tail_at is not None else out
        if out:
            cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text="\n".join(out) + "\n"))
        if result:
            cell.outputs.append(nbformat.v4.new_output(
                "execute_result", data={"text/plain": result[0]}, execution_count=cell.execution_count))
        nb.cells.append(cell)
        if tail:
            _markdown(nb, "\n".join(tail))
    return nb


def _markdown(nb: nbformat.NotebookNode, block: str) -> None:
    """A heading with its question text is one cell; a `<code>` answer is another."""
    parts = re.split(r"\n(?=<code>|#### )", block.strip("\n"))
    for part in parts:
        if part.strip():
            nb.cells.append(nbformat.v4.new_markdown_cell(part.strip("\n")))


if __name__ == "__main__":
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    nb = convert(src.read_text(encoding="utf-8"))
    nbformat.validate(nb)
    nbformat.write(nb, dst)
    print(f"wrote {dst}: {len(nb.cells)} cells")
