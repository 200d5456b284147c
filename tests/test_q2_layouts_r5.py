"""Q2 answers of the classes the fifth fixing round met (issue 13, blind11/12 as dev data): hedges
between two figures in several languages, the book's own example quoted for this network, and
the messy styles of an evening class. Static: no notebook, no kernel, no TensorFlow."""

from __future__ import annotations

import pytest

from tests.q2_support import PARTS, credits, found, grade


def conflicting(outcome) -> list[str]:
    return next(n["conflicting"] for n in outcome.evidence["numbers"] if n["graded_here"])


@pytest.mark.parametrize("prediction", [
    "either 14.1 MB (float32 weights + maps) or 28.3 MB if Keras keeps things in float64, idk",
    "14.1 MB (weights + all maps, float32) or 28.3 MB (float64), not sure",
    "14.1 / 28.3 MB depending on float32 vs float64",
    "entweder 14,1 MB (float32) oder 28,3 MB, falls Keras intern float64 nutzt",
    "soit 14,1 Mo (float32), soit 28,3 Mo si Keras passe en float64",
    "o bien 14,1 MB (float32) o 28,3 MB si Keras usa float64",
    "ou 14,1 MB (float32) ou 28,3 MB se o Keras usar float64",
    "либо 14,1 МБ (float32), либо 28,3 МБ, если Keras использует float64",
])
def test_a_hedge_between_two_figures_earns_no_credit_and_goes_to_a_ta(prediction):
    out = grade(f"Total params: 903,400.\n\nFor one prediction: {prediction}.\n\nBatch of 50: 565.6 MB.")
    o = out["ram_prediction"]
    assert o.credit == 0 and o.needs_review
    assert len(conflicting(o)) == 2
    assert out["params"].credit == 1 and out["ram_batch"].credit == 1  # the other parts stand


def test_a_hedge_on_the_count_is_no_count():
    out = grade("Params: either 903,400 or 902,700 (without biases). Prediction 14.1 MB, batch 565.6 MB.")
    o = out["params"]
    assert o.credit == 0 and o.needs_review


def test_two_accepted_conventions_offered_together_stay_one_right_answer():
    # rubric q2: 12.6 MB (memory freed) and 14.1 MB (every layer kept) are both accepted
    out = grade("Params 903,400. Prediction needs 12.6 MB (two layers at a time) or 14.1 MB (all layers "
                "kept). Batch of 50: 565.6 MB.")
    assert credits(out) == [1, 1, 1]
    # a list with a non-accepted figure among them is still a shotgun
    out = grade("Params 903,400.\nRAM for a prediction, depends: 9 MB (just the two biggest layers), 12.6 MB "
                "(with the parameters) or 14.1 MB (keeping every layer).\nBatch: 565.6 MB")
    assert out["ram_prediction"].credit == 0


def test_the_books_own_example_worked_in_decimal_is_not_read_as_mib():
    text = ('According to the book: "(5 × 5 × 3 + 1) × 200 = 15,200 parameters", and each of the\n'
            "200 feature maps of 150 × 100 neurons uses 32 bits, so 200 × 150 × 100 × 32 = 96 million bits\n"
            "= 12 MB of RAM for one instance. For a training batch of 100 instances it's 1.2 GB.\n\n"
            "So: 15,200 parameters, 12 MB for a prediction, and training needs about 1.2 GB.")
    assert credits(grade(text)) == [0, 0, 0]


def test_mb_from_1024_based_working_is_still_read_as_mib():
    # rule (b): "MB" after a division by 1024 is the MiB convention, accepted
    out = grade("params 903,400\nprediction: 12,613,600 / 1024 / 1024 = 12.03 MB\n"
                "batch: 565,613,600 B = 539.4 MB (/1024/1024)")
    assert out["ram_prediction"].credit == 1


@pytest.mark.parametrize("text", [
    "params: 903,400\nprediction: 12,613,600 bytes, call it ~12 MB\n"
    "batch: 565,613,600 bytes, so roughly 0.5 GB",
    "Params 903400. Training batch 50: 50 × 11,240,000 B + 3,613,600 B = 565,613,600 B ≈ 539.4 MiB "
    "≈ 0.53 GiB, so ~0.5 GB.\nPrediction: 2 layers + weights = 12,613,600 B ≈ 12.03 MiB",
    "params=903400 | pred 12.61 MB | batch: 565.61 MB, also etwa 0,6 GB",
])
def test_a_right_figure_glossed_with_an_odd_rounding_keeps_its_credit(text):
    out = grade(text)
    assert credits(out) == [1, 1, 1]
    assert not out["ram_batch"].needs_review



def test_a_gloss_that_is_the_only_batch_figure_is_still_read():
    # no precise figure before it: the gloss is what the student wrote, too rounded to show a method
    o = grade("params 903,400, prediction 12.61 MB, batch of 50 images: roughly 0.6 GB")["ram_batch"]
    assert found(o) == "0.6 GB" and o.credit == 0 and o.needs_review


def test_a_console_cell_over_several_lines_takes_the_unit_of_the_name_it_shows():
    text = ("Params: 903,400 (model.count_params()).\n\n"
            "In [12]: input_b = 200*300*3*4\n"
            "         maps_b = (150*100*100 + 75*50*200 + 38*25*400)*4\n"
            "         ram_pred_mb = (input_b + maps_b + 903400*4)/1e6\n"
            "         ram_pred_mb\n"
            "Out[12]: 14.8536\n\n"
            "In [13]: ram_batch_mib = (50*(720000 + 10520000) + 3613600) / 2**20\n"
            "         ram_batch_mib\n"
            "Out[13]: 539.4097")
    out = grade(text)
    assert found(out["ram_prediction"]) == "14.8536 MB" and credits(out) == [1, 1, 1]


def test_one_printed_line_of_several_values_under_a_bare_fence_takes_each_name():
    text = ("```python\n# Q2\nparams = 903_400\npred_mb = (6 + 3) + params * 4 / 1e6\n"
            "batch_mb = 50 * (10.52 + 0.72) + params * 4 / 1e6\nprint(params, pred_mb, batch_mb)\n```\n"
            "```\n903400 12.6136 565.6136\n```\n")
    out = grade(text)
    assert found(out["ram_prediction"]) == "12.6136 MB" and credits(out) == [1, 1, 1]
    # the batch as 50 x one prediction, printed the same way: the wrong method, no credit
    out = grade(text.replace("50 * (10.52 + 0.72) + params * 4 / 1e6", "50 * pred_mb")
                .replace("565.6136", "630.68"))
    assert credits(out) == [1, 1, 0]


def test_a_map_shape_written_tight_is_no_batch_of_fifty():
    # "75x50" is the second layer's map, not "× 50 images": the prediction stays the prediction
    text = ("Parameters: 2'800 + 180'200 + 720'400 = 903'400.\n\n"
            "Prediction: with stride 2 the maps are 150x100, 75x50 and 38x25. Only two adjacent layers\n"
            "must live at the same time: 6'000'000 + 3'000'000 Bytes, plus the weights 3'613'600 Bytes\n"
            "= 12'613'600 Bytes ≈ 12.6 MB.\n\n"
            "Training, mini-batch of 50: 50 × (720'000 + 10'520'000) + 3'613'600 = 565'613'600 Bytes.")
    out = grade(text)
    assert found(out["ram_prediction"]) == "12.6 MB" and credits(out) == [1, 1, 1]
    # the batch factor after a figure is still read as the batch
    out = grade("params 903,400; one image 14.13 MB; batch: 11.24x50 + 3.61 = 565.6 MB")
    assert credits(out) == [1, 1, 1]


@pytest.mark.parametrize("without", ["without the batch factor", "ohne den Batch-Faktor", "sans le batch"])
def test_training_answered_first_then_a_prediction_that_says_the_batch_away(without):
    text = ("I'll start with training because that is what I deal with at work.\n\n"
            "Training, mini-batch of 50: every activation is kept for backprop. Per image:\n"
            "720 KB input + 6 MB + 3 MB + 1.52 MB = 11.24 MB, times 50 = 562 MB, plus the parameters\n"
            "(903,400 × 4 B = 3.61 MB) → about 565.6 MB.\n\n"
            f"Prediction, one image: the same {without}, 11.24 + 3.61 = 14.85 MB.\n\n"
            "Total parameters (asked first, sorry): 2,800 + 180,200 + 720,400 = 903,400.")
    out = grade(text)
    assert found(out["ram_prediction"]) == "14.85 MB" and found(out["ram_batch"]) == "565.6 MB"
    assert credits(out) == [1, 1, 1]


def test_a_tables_total_row_under_a_bytes_column_is_memory_not_a_count():
    text = ("| Layer | Kernel params | Output shape | Output values | Bytes (float32) |\n"
            "|---|---|---|---|---|\n"
            "| conv1 | (3·3·3+1)·100 = 2,800 | 100×150×100 | 1,500,000 | 6,000,000 |\n"
            "| conv2 | (3·3·100+1)·200 = 180,200 | 50×75×200 | 750,000 | 3,000,000 |\n"
            "| conv3 | (3·3·200+1)·400 = 720,400 | 25×38×400 | 380,000 | 1,520,000 |\n"
            "| **Total** | **903,400** | | 2,630,000 | 10,520,000 |\n\n"
            "**Parameters:** 903,400\n\n"
            "**Prediction (one image):** all maps + weights: 10,520,000 + 903,400·4 = 14,133,600 B "
            "≈ **14.13 MB**\n\n"
            "**Training, batch of 50:** 50 × (10,520,000 + 720,000) + 3,613,600 = 565,613,600 B "
            "≈ **565.61 MB**")
    out = grade(text)
    assert found(out["params"]) == "903,400" and credits(out) == [1, 1, 1]


def test_a_display_formula_after_a_line_ending_in_a_colon_answers_that_lines_part():
    text = ("**Parameters.** Each feature map of layer $l$ has $3 \\times 3 \\times C_{l-1}$ weights "
            "and one bias:\n\n"
            "$$ (3 \\times 3 \\times 3 + 1) \\times 100 + (3 \\times 3 \\times 100 + 1) \\times 200 + "
            "(3 \\times 3 \\times 200 + 1) \\times 400 = 2800 + 180200 + 720400 = 903400 $$\n\n"
            "**Prediction.** Keeping every layer: $$ 4 \\times (1500000 + 750000 + 380000 + 903400) "
            "= 14133600 \\text{ B} $$ which is about 14.13 MB.\n\n"
            "**Training.** For 50 images: about 565.6 MB.")
    out = grade(text)
    assert found(out["params"]) == "903400" and credits(out) == [1, 1, 1]


def test_texting_lowercase_units_and_a_layer_count_near_the_input_values():
    # "ram for 1 pic" names the prediction; 180200 (layer 2's count) is no sign of the input
    # counted in values (180,000), so "so like 14mb" after 10.52mb + 3.6mb is the all-layers figure
    text = ("ok so params = 2800 + 180200 + 720400 = 903400 (dont forget bias lol)\n"
            "ram for 1 pic: keep all 3 layers = 10.52mb + weights 3.6mb so like 14mb\n"
            "training 50 pics: 50 x (10.52 + 0.72 for the img) + 3.6 = 565.6, so ~566mb\n")
    out = grade(text)
    assert found(out["ram_prediction"]) == "14mb" and credits(out) == [1, 1, 1]
    # the input written in values, though, is still that mistake
    o = grade("params 903,400\none image: maps 10.52 MB + input 180,000 + params 3.61 MB = 14.31 MB\n"
              "batch 565.6 MB")["ram_prediction"]
    assert o.credit < 1


def test_a_wrong_count_written_into_the_batch_formula_is_not_parameters_left_out():
    # rubric q2 rule (d): 7,000 carried into the batch moves it under 3 % (562.0 MB): full credit
    text = ("Each kernel is 3x3 so 9 weights + 1 bias = 10 params per feature map.\n"
            "100 x 10 + 200 x 10 + 400 x 10 = 7,000 parameters\n\n"
            "RAM (1 image), keep all layers: (1,500,000 + 750,000 + 380,000 + 7,000) x 4 bytes = 10.55 MB\n"
            "RAM (50 images): (50 x (180,000 + 2,630,000) + 7,000) x 4 bytes = 562 MB")
    out = grade(text)
    assert credits(out) == [0, 0.5, 1]
    assert out["ram_prediction"].needs_review
    # the same 562 MB with no parameters anywhere in its formula is parameters left out
    out = grade("params 903,400\nbatch of 50: 50 x (180,000 + 2,630,000) x 4 bytes = 562 MB")
    assert out["ram_batch"].credit < 1


def test_the_books_figures_quoted_for_this_network_go_to_a_ta():
    text = ('Laut dem Buch (Kap. 14): "(5 × 5 × 3 + 1) × 200 = 15.200 Parameter", 200 × 150 × 100 × 32 Bit '
            "= 96 Millionen Bit = 12 MB für eine Instanz; für einen Batch von 100 Instanzen 1,2 GB.")
    out = grade(text)
    assert [out[p].credit for p in PARTS] == [0, 0, 0]
    assert all(out[p].needs_review for p in PARTS)


def test_memory_reuse_carried_into_training_is_no_credit_for_a_ta():
    text = ("There are 903,400 parameters in total.\n\n"
            "Prediction: only a layer's input and its output exist at once, the max is conv1 + conv2 = "
            "6 + 3 = 9 MB, plus 3.61 MB of parameters = 12.61 MB.\n\n"
            "Training on 50 images, same trick for each image: 50 × 9 MB + 3.61 MB = 453.6 MB.")
    out = grade(text)
    assert credits(out) == [1, 1, 0]
    assert out["ram_batch"].needs_review and not out["ram_prediction"].needs_review


def test_a_rounder_figure_that_adds_a_term_is_no_gloss():
    # "so roughly 12 MB with the weights" states a new total, not a rounding of the 10.52 MB before it
    out = grade("params 903,400. prediction: all maps = 10.52 MB, so roughly 14 MB with the weights. "
                "batch 565.6 MB")
    assert found(out["ram_prediction"]) == "14 MB"
