"""Blind8's misses by class: a wrong claim beside a right one (Q1), a device count read from the
device itself (Q3), real words that only look like a typo of a negation."""

from __future__ import annotations

from grader.textmatch import is_negation
from tests.freetext_support import concepts, grade


def test_cnn_said_not_to_model_adjacent_pixels_is_the_misconception():
    g = grade("q1", "Pro: way less weights since the kernel is reused everywhere. Con: a conv layer "
                    "doesn't really capture nearby pixels, it just sums stuff up.")
    assert [m["misconception"] for m in g.misconceptions] == ["cnn-ignores-neighbours"]
    g = grade("q1", "Weights are shared, fewer of them. The model has no clue which pixels are "
                    "adjacent to which, every output is only a weighted sum.")
    assert [m["misconception"] for m in g.misconceptions] == ["cnn-ignores-neighbours"]
    g = grade("q1", "An MLP has no idea which pixels are next to which once the image is flattened; a "
                    "CNN keeps that local structure.")
    assert not g.misconceptions


def test_one_gpu_named_beside_extra_images_is_not_distribution():
    g = grade("q3", "Augmentation: extra images made on the fly so the GPU holds fewer of them. "
                    "Also reduce the batch size.")
    assert "distribute" not in concepts(g)
    assert "distribute" in concepts(grade("q3", "Get a second RTX card and put half the layers on it."))
    assert "distribute" in concepts(grade("q3", "Renting a box with several GPUs and splitting the "
                                                "network across them."))


def test_real_words_near_a_negation_negate_nothing():
    for word in ("renting", "rent", "annotation", "annotating", "ever"):
        assert not is_negation(word), word
    for word in ("dosent", "doesnt", "never", "cannot"):
        assert is_negation(word), word


def test_cutting_off_the_dense_head_implies_the_fcn_definition():
    g = grade("q7", "basically u lop off the FC classifier at the end of a normal CNN and then it eats "
                    "any image size")
    assert {"dense-removed", "any-size"} <= concepts(g)
    assert "dense-removed" not in concepts(grade("q7", "Cut the learning rate and train longer."))
