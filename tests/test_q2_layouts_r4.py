"""Q2 answers in layouts the fourth fixing round met (issue 13): LaTeX macros glued to digits,
terms named without a value, counts with their memory in parentheses, code outputs pasted as a
bare fence, and the messy styles of the next class (summary() output, bytes or bits only,
scientific notation, digit separators, tables with a Total row, self-corrections, formulas left
unevaluated). Static: no notebook, no kernel, no TensorFlow."""

from __future__ import annotations

from grader.textformulas import find_equations
from tests.q2_support import credits, found, grade


def test_a_latex_times_glued_to_its_power_of_ten_still_multiplies():
    out = grade("$$N = (27+1)\\cdot 100 + (900+1)\\cdot 200 + (1800+1)\\cdot 400 = 903\\,400$$\n"
                "$$M_{batch} = 50\\cdot 4\\,(2.63\\cdot10^6 + 1.8\\cdot10^5) + 4N "
                "\\approx 5.66\\times10^{8}\\ \\text{B} = 566\\ \\text{MB}$$")
    assert out["ram_batch"].credit == 1 and found(out["ram_batch"]) == "566 MB"


def test_a_term_named_without_a_value_makes_no_step_to_check():
    # the weights were given a value in an earlier sentence; "+ weights" is no slip
    assert find_equations("Prediction: 6 MB + 3 MB + weights = 12.6 MB") == []
    out = grade("Params: 903,400, weights 3.61 MB.\nPrediction: 6 MB + 3 MB + weights = 12.6 MB.\n"
                "Batch of 50: 50 x 10.52 MB + 36 MB + weights = 565.6 MB.")
    assert credits(out) == [1, 1, 1]


def test_a_count_with_its_memory_in_parentheses_adds_that_memory():
    (eq,) = find_equations("50 x 10.03 MiB + 50 input images (34.33 MiB) + 3.45 MiB = 539.41 MiB")
    assert eq.holds
    # a product restated in parentheses is still no factor
    (eq,) = find_equations("902,700 x 4 B (3.61 MB) = 3.61 MB")
    assert eq.holds and eq.lhs.value == 902_700 * 4


def test_the_last_term_of_a_sum_told_in_words_is_no_step():
    # "... and parameters 3.6MB = 12.6MB": the '=' ends the whole sum, not "3.6 MB = 12.6 MB"
    assert find_equations("activations of layer1 and layer2 (6MB+3MB) and parameters 3.6MB = 12.6MB") == []
    out = grade("Total parameters is 903400.\nFor prediction memory: activation of layer1 and layer2 "
                "(6MB+3MB) and parameters 3.6MB = 12.6MB.\nFor training with batch 50: "
                "50*10.52MB + 36MB + 3.6MB = 565.6MB.")
    assert credits(out) == [1, 1, 1]
    # a conversion in a clause of its own is still checked
    (eq,) = find_equations("inputs 0.72 MB; 3,613,600 bytes = 36.1 MB")
    assert not eq.holds


def test_bare_terms_beside_bytes_are_in_the_results_unit():
    (eq,) = find_equations("prediction: 6 + 3 + 902,700*4 B (3.61 MB) = 12.61 MB")
    assert eq.holds
    (eq,) = find_equations("prediction: 6 + 3 + 903,400*4 B = 14.61 MB")
    assert not eq.holds


def test_printed_values_in_a_bare_fence_under_the_code_take_their_names():
    text = ("```python\nn_params = 3*3*3*100+100 + 3*3*100*200+200 + 3*3*200*400+400\n"
            "pred_ram_mb = (100*150*100 + 50*75*200 + n_params) * 4 / 1e6\n"
            "train_ram_mb = (50*(100*150*100 + 50*75*200 + 25*38*400) + 50*200*300*3 + n_params) * 4 / 1e6\n"
            "print(n_params)\nprint(pred_ram_mb)\nprint(train_ram_mb)\n```\n\n```\n903400\n12.6136\n565.6136\n```")
    out = grade(text)
    assert credits(out) == [1, 1, 1] and found(out["ram_prediction"]) == "12.6136 MB"
    # a plain fence of code, not of printed numbers, labels nothing
    out = grade("```python\nprint(n)\n```\n\n```\nn = 903400\n```")
    assert found(out["params"]) == "903400"


def test_a_copula_after_the_terms_states_what_they_come_to():
    # no parameters in the prediction: a known omission, 0.5, graded on the figure it comes to
    out = grade("1) Parámetros: 2.800 + 180.200 + 720.400 = 903.400\n"
                "2) Memoria de una predicción: la primera capa ocupa 6 MB, la segunda 3 MB;\n"
                "   basta con guardar dos capas a la vez, son 9 MB.\n"
                "3) Entrenamiento: 50 × 10,52 MB + 36 MB + 3,6 MB = 565,6 MB.")
    assert found(out["ram_prediction"]) == "9 MB" and credits(out) == [1, 0.5, 1]


def test_a_sum_slip_carried_into_the_batchs_own_working_is_the_one_slip():
    # rubric q2: maps summed 10.25 MB for 10.52 MB is one slip carried into both RAM parts: 0.5 each
    out = grade("**(i)** conv1 2800, conv2 180200, conv3 720400, total 903400.\n\n"
                "**(ii)** maps 6 MB + 3 MB + 1.52 MB = 10.25 MB, all kept, plus the weights 3.61 MB "
                "=> 13.86 MB\n\n**(iii)** 50 x 10.25 = 512.5 MB, plus the inputs 36 MB, plus 3.61 MB "
                "=> 552.1 MB")
    assert found(out["ram_batch"]) == "552.1 MB" and credits(out) == [1, 0.5, 0.5]


def test_numbers_in_words_read_as_digits():
    from grader.parammath.numberwords import digits_for_number_words as digits
    assert digits("about nine hundred and three thousand four hundred params") == "about 903400 params"
    assert digits("roughly twelve point six one megabytes") == "roughly 12.61 megabytes"
    assert digits("Twenty-eight weights times a hundred maps") == "28 weights times 100 maps"
    # a lone small word stays a word: the cues read 'one prediction', 'two layers'
    words = "one prediction keeps two layers and a bias"
    assert digits(words) == words
    # two numbers side by side stay two numbers
    assert digits("layer two nine hundred and one") == "layer two 901"


def test_an_answer_in_words_is_graded_like_digits():
    out = grade("Each layer has (nine times the input depth plus one) weights per filter, so nine hundred "
                "and three thousand four hundred parameters in all. One prediction needs roughly twelve "
                "point six megabytes, and training on fifty images about five hundred and sixty-six "
                "megabytes.")
    assert credits(out) == [1, 1, 1]
    # words for a wrong count are a wrong count
    out = grade("Nine hundred and two thousand seven hundred parameters in total.")
    assert out["params"].credit == 0


def test_a_figure_counted_in_bits_throughout_is_read_in_bits():
    out = grade("params 903400\none prediction: 100,908,800 bits\nmini-batch of 50: 4,524,908,800 bits")
    assert credits(out) == [1, 1, 1]
    # the size of one float in bits is no answer
    out = grade("params 903400, each value 32 bits\none prediction: 12.6 MB\nbatch of 50: 565.6 MB")
    assert found(out["ram_prediction"]) == "12.6 MB"


def test_a_total_rows_other_columns_are_not_the_parameter_count():
    out = grade("| layer | params | output (floats) | memory |\n|---|---|---|---|\n"
                "| conv1 | 2,800 | 1,500,000 | 6 MB |\n| conv2 | 180,200 | 750,000 | 3 MB |\n"
                "| conv3 | 720,400 | 380,000 | 1.52 MB |\n"
                "| **Total** | **903,400** | 2,630,000 | 10.52 MB |\n\n"
                "Prediction: 6 + 3 + 3.61 (weights) = 12.61 MB.\n"
                "Batch of 50: 50 × 10.52 + 36 + 3.61 = 565.6 MB.")
    assert found(out["params"]) == "903,400" and credits(out) == [1, 1, 1]


def test_a_per_image_step_under_the_training_label_is_no_rival_prediction():
    out = grade("params: 903,400\nprediction: 12.6 MB\ntraining: for 1 image 11.24 MB of maps and input, "
                "for 50 images 50 × 11.24 = 562 MB, plus 3.61 MB of weights = 565.6 MB")
    assert credits(out) == [1, 1, 1] and not out["ram_prediction"].needs_review
    # a prediction named after the training label in the same line still answers the prediction
    out = grade("params: 903,400\ntraining: 565.6 MB, and for a single prediction 12.6 MB")
    assert found(out["ram_prediction"]) == "12.6 MB"


def test_several_printed_values_on_one_line_take_their_names():
    out = grade("```python\nprint(n_params, ram_pred_mb, ram_batch_mb)\n```\n"
                "Output:\n903400 12.6136 565.6136")
    assert credits(out) == [1, 1, 1]
    out = grade("```python\nn_params, ram_pred_mb, ram_batch_mb\n```\nOut[7]: (903400, 12.6136, 565.6136)")
    assert credits(out) == [1, 1, 1] and found(out["ram_batch"]) == "565.6136 MB"


def test_a_lowercase_mb_pair_takes_the_labels_after_it():
    out = grade("903400 params, 12.6mb/565.6mb (predict/train)")
    assert credits(out) == [1, 1, 1]


def test_fifth_development_set_parts_exact_and_flags_hit():
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from benchmarks.q2_agreement import evaluate, summary
    s = summary(evaluate(root / "tests" / "data" / "q2_dev5.yaml"))
    assert s["exact"] >= 0.95 and s["over_credit"] == 0 and s["flag_hit"] == s["flag_wanted"], s


def test_a_bare_byte_count_follows_the_answers_own_unit():
    out = grade("Params = 903,400\nRAM prediction = 4*(1,500,000 + 750,000 + 903,400) = 12,613,600 bytes\n"
                "RAM batch = 4*(50*2,810,000 + 903,400) = 565,613,600")
    assert credits(out) == [1, 1, 1]
    # without any figure in bytes the unit is a guess: no credit, for a TA to read
    out = grade("Params = 903,400\nRAM prediction = 12.6 MB\n"
                "RAM batch = 4*(50*2,810,000 + 903,400) = 565,613,600")
    assert out["ram_batch"].credit == 0 and out["ram_batch"].needs_review


def test_unitless_printed_memory_is_for_a_ta_and_not_the_count():
    out = grade("```python\nprint(n)\nprint(pred)\nprint(batch)\n```\nOutput:\n903400\n12613600\n565613600")
    assert found(out["params"]) == "903400" and out["params"].credit == 1
    # the memory figures have no unit: no credit on a guess, but a TA is asked to read them
    assert [out[p].needs_review for p in ("ram_prediction", "ram_batch")] == [True, True]


def test_a_running_total_in_parentheses_is_the_count():
    out = grade("conv1: 2,800 (running total 2,800); conv2: 180,200 (183,000); conv3: 720,400 (903,400)\n"
                "RAM prediction 12.6 MB, batch 565.6 MB")
    assert found(out["params"]) == "903,400" and credits(out) == [1, 1, 1]
    # a count in parentheses that adds up nothing is still an aside
    out = grade("Total params: 903,400 (902,700 without the biases)")
    assert found(out["params"]) == "903,400"


def test_a_sum_slip_told_in_words_is_carried_into_both_memory_parts():
    (eq,) = find_equations("The maps take 6 MB, 3 MB and 1.52 MB, so 10.25 MB in all.")
    assert not eq.holds and eq.lhs.value == 10.52e6
    assert find_equations("The maps take 6 MB, 3 MB and 1.52 MB, so 10.52 MB in all.") == []
    out = grade("903,400 parameters. The maps take 6 MB, 3 MB and 1.52 MB, so 10.25 MB in all. "
                "Prediction keeping every layer: 10.25 + 3.61 = 13.86 MB. "
                "Training on 50: 50 × 10.25 + 36 + 3.61 = 552.1 MB.")
    assert credits(out) == [1, 0.5, 0.5]


def test_a_wrong_product_carried_inside_a_later_sum_is_the_one_slip():
    out = grade("Params: 903,400\nlayer1 100*150*100 = 1,500,000; layer2 50*75*200 = 700,000; "
                "layer3 25*38*400 = 380,000\nprediction: (1,500,000 + 700,000) * 4 B + 3.61 MB = 12.41 MB\n"
                "batch: 50 * (2,580,000 * 4 B) + 36 MB + 3.61 MB = 555.6 MB")
    assert credits(out) == [1, 0.5, 0.5]


def test_a_count_in_myriads_with_its_remainder_is_one_number():
    out = grade("パラメータ数：90万3400\n1枚の予測：約12.6MB\nバッチ50枚の学習：約565.6MB")
    assert credits(out) == [1, 1, 1]


def test_amounts_listed_after_the_answer_to_explain_it_are_not_the_answer():
    out = grade("Params 903,400. Prediction RAM is 12.6 MB; the biggest maps are 6 MB and 3 MB, that is "
                "the layers 1 and 2. Batch: 565.6 MB")
    assert found(out["ram_prediction"]) == "12.6 MB" and credits(out) == [1, 1, 1]


def test_a_sum_slip_beside_bytes_is_named_with_the_bare_terms_in_megabytes():
    o = grade("params 903,400\nprediction: 6 + 3 + 903,400*4 B = 15.61 MB\nbatch: 565.6 MB")["ram_prediction"]
    # a sum slip in a sound method: the rubric's partial credit, and the step as the student meant it
    assert o.credit == 0.5 and "= 12,613,600 bytes (12.61 MB), not 15.61 MB" in o.feedback


def test_a_unit_in_the_heading_applies_to_the_values_right_under_it():
    out = grade("### RAM (MB)\n- prediction: 12.61\n- batch of 50: 565.61\n\n### Parameters\n903,400")
    assert credits(out) == [1, 1, 1]
    # a count listed under the heading is no memory
    out = grade("### Memory (MB)\n- batch size: 50\n- prediction: 12.61\n- batch: 565.61\n- params: 903400")
    assert credits(out) == [1, 1, 1]
    # the heading's unit ends with its block: a count further down stays a count
    out = grade("### RAM (MB)\n- prediction: 12.61\n- batch of 50: 565.61\nand then\ncount: 903400")
    assert found(out["params"]) == "903400"


def test_methods_beyond_the_minimum_are_no_credit_for_a_ta_to_confirm():
    # rubric q2 (round 8 decisions): doubled activations, Adam's moments, the largest layer only
    out = grade("params 903,400\nprediction: only the biggest layer 6 MB + 3.61 MB = 9.61 MB\n"
                "batch: 2 × 526 MB (activations and their gradients) + 36 MB + 3.61 MB = 1091.6 MB")
    assert [out[p].credit for p in ("ram_prediction", "ram_batch")] == [0, 0]
    assert out["ram_prediction"].needs_review and out["ram_batch"].needs_review
    # a carried sum slip that lands near Adam's figure only when read in MiB is still the slip
    out = grade("params 903,400\nmaps: 6 + 3 + 1.52 = 10.25 MB\nprediction (all layers kept) = 10.25 + 3.61 "
                "= 13.86 MB\nbatch = 50 * 10.25 + 36 + 3.61 = 552.1 MB")
    assert credits(out) == [1, 0.5, 0.5]


def test_a_total_line_apart_from_its_bulleted_block_concludes_it():
    out = grade("**Parameters:** 903,400\n\n**Inference (1 image):** 9 MB + 3.61 MB ≈ **12.61 MB**\n\n"
                "**Training (batch of 50):**\n- Activations: 50 × 10.52 MB = 526 MB\n- Input batch: 36 MB\n"
                "- Parameters: 3.61 MB\n\n**Total ≈ 565.6 MB**\n")
    assert found(out["ram_batch"]) == "565.6 MB" and credits(out) == [1, 1, 1]


def test_a_count_rounded_to_one_digit_goes_to_a_ta():
    o = grade("roughly 1 million parameters, ~12.6 MB for one image, ~565.6 MB to train on 50")["params"]
    assert o.credit == 0 and o.needs_review
    # rounded but within its own precision of the count: still the count
    assert grade("about 0.9 M parameters")["params"].credit == 1
