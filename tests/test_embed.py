"""The optional NumPy sentence encoder (grader/embed.py). Skipped without the `embed` extra and
the model wheel; the free-text grader never imports it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from grader import embed


def test_grading_free_text_never_imports_the_encoder():
    code = ("import sys; from grader.checks.concepts import grade_text, parse_params;"
            "from grader.rubric import load_rubric; r = load_rubric(); q = r.question('q1');"
            "i = q.items[0]; grade_text('weight sharing', parse_params(i.id, i.params), i.points);"
            "print('grader.embed' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stderr


@pytest.mark.skipif(not embed.available(), reason="embedding model not installed (grader[embed])")
def test_numpy_encoder_reproduces_the_published_similarity():
    # sentence-transformers' documentation gives 0.7553 for this pair with all-MiniLM-L6-v2
    v = embed.encoder().encode(["A man is eating food.", "A man is eating a piece of bread."])
    assert float(v[0] @ v[1]) == pytest.approx(0.7553, abs=0.002)
