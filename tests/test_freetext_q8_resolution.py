"""Q8 in worked numbers and statistical words (blind8's misses, by class): a shrinking map given as
arithmetic, "only a coarse idea of where", pixels pooled into coarse cells, per-pixel as "a class for
all N pixels", instances kept apart asserted; and wrapped lines that start with a number."""

from __future__ import annotations

from grader.textmatch import split_sentences
from tests.freetext_support import concepts, grade


def test_shrinking_map_as_arithmetic_is_resolution_loss():
    g = grade("q8", "Take a 448x448 photo; with an overall stride of 32 the last conv block sees a "
                    "14x14 grid, and we still owe the user one label per pixel.")
    assert {"resolution-loss", "per-pixel"} <= concepts(g)
    g = grade("q8", "ResNet-50 style backbone: 320x320 becomes 10x10 at the end, so borders are guesswork.")
    assert "resolution-loss" in concepts(g)


def test_coarse_idea_of_where_and_coarse_cells():
    g = grade("q8", "Once you pool a few times the model has only a rough idea of where the road ends, "
                    "so the mask edges turn out blurry.")
    assert "resolution-loss" in concepts(g)
    g = grade("q8", "The encoder pools neighbouring pixels into coarse cells, yet the output must be "
                    "given pixel by pixel.")
    assert {"resolution-loss", "per-pixel"} <= concepts(g)


def test_class_for_all_pixels_is_per_pixel_but_class_imbalance_is_not():
    assert "per-pixel" in concepts(grade("q8", "You need a category for every one of the 50,176 pixels."))
    assert "per-pixel" not in concepts(grade("q8", "Class imbalance: most pixels are sky or road."))


def test_keeping_objects_apart_asserted_is_the_instance_misconception():
    g = grade("q8", "Each pixel gets a class, and the tricky bit is telling the cars apart: two parked "
                    "cars touching each other need two masks.")
    assert [m["misconception"] for m in g.misconceptions] == ["segmentation-separates-instances"]
    g = grade("q8", "It does not need to keep the cars apart (that is instance segmentation); the hard "
                    "part is the resolution lost to pooling.")
    assert not g.misconceptions and "resolution-loss" in concepts(g)


def test_a_line_wrapped_before_a_number_or_acronym_goes_on():
    text = ("So after all the pooling we still need a class for all the way down to every\n"
            "262,144 pixels of the input and it has to match what the\nCNN saw at the start.")
    assert len(split_sentences(text)) == 1


# ---- blind11-14 (issue 13): the shrinking map written with spaces, LaTeX, arrows; a factor; negated


def test_spaced_and_latex_products_are_read_as_one_size():
    # "448 x 448" was normalised to "448x4  48" (one digit each side) and the span cut "14 x 14"
    g = grade("q8", "Our liver CT crops start at 448 x 448 and the bottleneck pools them down to 14 x 14.")
    assert "resolution-loss" in concepts(g)
    g = grade("q8", "With four stride-2 blocks a $256 \\times 256$ scan gives $16 \\times 16$ at the bottom.")
    assert "resolution-loss" in concepts(g)
    g = grade("q8", "🩻 448x448 ➡️ ⏬⏬ ➡️ 14x14, the borders are gone")
    assert "resolution-loss" in concepts(g)
    # a size that does not shrink is no loss
    assert "resolution-loss" not in concepts(grade("q8", "We feed 448 x 448 tiles and label every pixel."))


def test_downsampling_factor_lower_resolution_and_not_keeping_it():
    g = grade("q8", "Our backbone downsamples the fundus photo by 16x, so thin vessels vanish.")
    assert "resolution-loss" in concepts(g)
    assert "resolution-loss" in concepts(grade("q8", "- strided convs -> lower spatial resolution"))
    assert "resolution-loss" in concepts(grade("q8", "The encoder doesn't preserve the original resolution "
                                                     "of the slide."))
