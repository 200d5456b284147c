"""Q2 numbers read as a TA reads them (issue 13): negated values, shotgun lists, conventions
without cue words, the batch size next to parameter sentences, figures quoted as meant, and
the realistic labelled sets. Static: no notebook, no kernel, no TensorFlow."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from grader.checks.parammath import grade_answer
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.q2_agreement import evaluate, summary  # noqa: E402

RUBRIC = load_rubric()
PARAMS = RUBRIC.item("q2.params").params
PROMPT = RUBRIC.question("q2").prompt
DATA = ROOT / "tests" / "data"


def grade(text: str, code: str = "") -> dict:
    return grade_answer(text, PARAMS, code=code, prompt=PROMPT)


def found(outcome) -> str | None:
    return next(n["found"] for n in outcome.evidence["numbers"] if n["graded_here"])


@pytest.mark.parametrize("text", [
    "The total number of parameters is NOT 903,400.",
    "It is not 903,400 parameters.",
    "Total params: 903,400 is not right.",
])
def test_a_negated_value_earns_nothing(text):
    o = grade(text)["params"]
    assert o.credit == 0 and found(o) is None
    assert "903,400" in o.evidence["rejected_by_student"]


def test_a_value_given_as_someone_elses_is_not_the_students():
    o = grade("903,400 parameters is what the book says but I get 902,700 parameters.")["params"]
    assert o.credit == 0 and found(o) == "902,700"


def test_the_value_kept_after_a_rejected_one_is_graded():
    out = grade("903,400 parameters. The RAM for a single instance is not 3.6 MB (that is only the "
                "weights), it is 12.6 MB.")
    assert out["ram_prediction"].credit == 1 and found(out["ram_prediction"]) == "12.6 MB"


@pytest.mark.parametrize(("text", "part"), [
    ("Number of parameters: 2,700 / 27,000 / 902,700 / 903,400", "params"),
    ("Total parameters: 9,027,000? 902,700? 903,400?", "params"),
    ("The CNN has 902,700 or 903,400 or 9,030,000 parameters.", "params"),
    ("Params 903,400. RAM for one prediction: 3.6 MB, 9 MB, 12.6 MB or 14.1 MB.", "ram_prediction"),
    ("903,400 params; 12.6 MB for one image; for the batch 565.6 MB, or 630 MB, or maybe 1 GB.",
     "ram_batch"),
    # guesses each ending in a question mark are one list, not sentences of their own
    ("Params: 903,400. One image needs 12.6 MB. For the batch of 50: 40 MB? 530 MB? 565.6 MB?",
     "ram_batch"),
])
def test_a_shotgun_list_with_the_right_value_earns_no_credit_and_is_flagged(text, part):
    o = grade(text)[part]
    assert o.credit == 0 and o.needs_review
    assert "conflicting-values" in [d.code for d in o.diagnoses]


def test_a_count_stated_only_inside_the_memory_formula_is_the_total():
    out = grade("The network has 903,400 params x 4 bytes = 3,613,600 bytes, so 3.6 MB of weights.")
    assert out["params"].credit == 1 and found(out["params"]) == "903,400"


def test_two_totals_in_an_essay_conflict_even_when_one_sentence_names_a_layer():
    o = grade("Every conv layer has (3*3*c + 1) * f weights, so the model has 903,400 parameters. "
              "To sum up, the CNN has 9,034,000 parameters.")["params"]
    assert o.credit == 0 and o.needs_review
    assert "conflicting-values" in [d.code for d in o.diagnoses]
    # a per-layer count next to the total is working, not a rival
    o = grade("Layer 3 has 720,400 parameters. In total the CNN has 903,400 parameters.")["params"]
    assert o.credit == 1 and not o.needs_review


def test_a_restatement_that_disagrees_is_a_second_answer():
    o = grade("903,400 parameters; 12.6 MB for one image. The batch of 50 needs 565.6 MB, "
              "i.e. roughly 56 GB of RAM.")["ram_batch"]
    assert o.credit == 0 and o.needs_review
    # the same figure in other units is one answer
    o = grade("903,400 parameters; 12.6 MB for one image. The batch of 50 needs 565.6 MB, "
              "i.e. about 0.57 GB of RAM.")["ram_batch"]
    assert o.credit == 1 and not o.needs_review


def test_a_code_only_total_summed_from_per_layer_variables_is_the_parameter_count():
    code = ("# parameters per layer = (k*k*c_in + 1) * filters\n"
            "p1 = (3*3*3 + 1) * 100\np2 = (3*3*100 + 1) * 200\np3 = (3*3*200 + 1) * 400\n"
            "total = p1 + p2 + p3\n")
    o = grade("See my code below.", code=code)["params"]
    assert o.credit == 1
    # a sum in code about something else is no parameter count
    o = grade("See my code below.", code="a = 3\nb = 4\ntotal = a + b\n")["params"]
    assert o.credit == 0


def test_a_correction_is_not_a_shotgun():
    o = grade("I first forgot the biases and got 902,700, but with them the total is 903,400 parameters.")
    assert o["params"].credit == 1 and not o["params"].needs_review


def test_mib_written_as_mb_without_a_prediction_cue_is_the_prediction():
    out = grade("The total number of parameters is 903,400.\n32-bit floats are 4 bytes.\n"
                "(2,630,000 + 903,400) * 4 = 14,133,600 bytes = 13.47 MB")
    assert out["ram_prediction"].credit == 1 and found(out["ram_prediction"]) == "13.47 MB"


def test_the_batch_size_is_never_the_parameter_count():
    out = grade("903,400 parameters in total; about 0.0141 GB to predict one image and 0.566 GB to "
                "train on a batch of 50.")
    assert found(out["params"]) == "903,400"
    out = grade("The weights are shared by all 50 images of the mini-batch, so they are stored only "
                "once. Training with a batch size of 50 needs 565.6 MB.")
    assert found(out["params"]) is None and "50" not in out["params"].feedback.split("expected")[0]


def test_a_batch_figure_alone_is_the_batch_not_the_prediction():
    out = grade("For training on a mini-batch of 50 images we need about 309 MB of RAM.")
    assert found(out["ram_batch"]) == "309 MB" and out["ram_batch"].credit == 0
    assert found(out["ram_prediction"]) is None


def test_a_misplaced_grouping_comma_in_a_step_keeps_the_total():
    out = grade("L1 = (3*3*3+1)*100 = 2,800\nL2 = (3*3*100+1)*200 = 1,802,00\n"
                "L3 = (3*3*200+1)*400 = 720,400\nTotal = 903,400 params")
    assert out["params"].credit == 1 and found(out["params"]) == "903,400"


def test_bare_numbers_answer_the_parts_in_the_questions_order():
    out = grade("a) 903400\nb) 14.1MB\nc) 566MB")
    assert [found(out[p]) for p in ("params", "ram_prediction", "ram_batch")] == ["903400", "14.1MB", "566MB"]
    assert all(out[p].credit == 1 for p in out)


def test_realistic_in_sample_parts_exact():
    s = summary(evaluate(DATA / "q2_realistic.yaml"))
    assert s["exact"] >= 0.95, s
    assert s["over_credit"] == 0, s
    assert s["flag_hit"] == s["flag_wanted"], s


def test_realistic_held_out_parts_never_over_credited():
    # Issue 13's bar is 95% exact on the held-out parts (measured 100% after round 2; 90.5% before).
    # No held-out part gets more credit than its label.
    s = summary(evaluate(DATA / "q2_realistic_holdout.yaml"))
    assert s["exact"] >= 0.95, s
    assert s["over_credit"] == 0, s


def test_second_development_set_parts_exact_and_conflicts_flagged():
    # q2_dev2.yaml: 89.3% exact on its first run (labelled before the reader saw it), 100% after
    s = summary(evaluate(DATA / "q2_dev2.yaml"))
    assert s["exact"] >= 0.95, s
    assert s["over_credit"] == 0, s
    assert s["flag_hit"] == s["flag_wanted"], s


@pytest.mark.parametrize(("text", "part", "value"), [
    ("It has 903,400 parameters, needs 14.1 MB for one image and 565.6 MB for fifty.", "ram_batch",
     "565.6 MB"),
    ("903,400 params; 12.6MB; 565.6MB (batch)", "ram_batch", "565.6MB"),
    ("903,400 params; 12.6MB; 565.6MB (batch)", "ram_prediction", "12.6MB"),
    ("Feature maps of one image: 6 MB + 3 MB + 1.52 MB = 10.52 MB, plus the parameters 3.6 MB => 14.1 MB",
     "ram_prediction", "14.1 MB"),
    ("One image: feature maps 10.52 MB + weights 3.6 MB = 14.1 MB.", "ram_prediction", "14.1 MB"),
    ("Para una predicción se necesitan 12,6 MB y para un lote de 50 imágenes unos 565,6 MB.",
     "ram_prediction", "12,6 MB"),
    ("Pour une seule prédiction il faut environ 14,1 Mo, et pour un lot de 50 images 565,6 Mo.",
     "ram_batch", "565,6 Mo"),
    ("Memory (MB): prediction 12.61, batch 565.61", "ram_prediction", "12.61 MB"),
    ("Weights: 0.9034M floats\nTotal floats for one image = 3.5334M", "params", "0.9034M"),
])
def test_which_part_a_number_answers_comes_from_the_whole_answer(text, part, value):
    o = grade(text)[part]
    assert o.credit == 1 and found(o) == value, (found(o), o.feedback)


def test_a_table_is_read_cell_by_cell_under_its_column_names():
    out = grade("| layer | params | memory (KB) |\n|---|---|---|\n| conv1 | 2,800 | 6,000 |\n"
                "| conv2 | 180,200 | 3,000 |\n| conv3 | 720,400 | 1,520 |\n| total | 903,400 | 10,520 |")
    assert out["params"].credit == 1 and found(out["params"]) == "903,400"


def test_code_dividing_bytes_by_a_million_is_in_megabytes():
    out = grade("", code="total = 2800 + 180200 + 720400\nmem = (1.5e6 + 0.75e6 + 0.38e6 + total) * 4 / 1e6\n"
                     "print(mem, 'MB')")
    assert out["ram_prediction"].credit == 1 and found(out["ram_prediction"]).endswith("MB")


@pytest.mark.parametrize(("text", "part"), [
    ("903,400 parameters.\nRAM for one prediction: somewhere between 3.6 MB and 14.1 MB.", "ram_prediction"),
    ("| params | 903,400 |\n| RAM predict | 7.2 MB |\n\nThe CNN needs 14.1 MB for a single prediction.",
     "ram_prediction"),
    ("| params | 903,400 |\n| RAM predict | 14.1 MB |\n\nThe CNN needs 7.2 MB for a single prediction.",
     "ram_prediction"),
    ("Total params: 903,400\nRAM one prediction: 12.6 MB\n\nSummary: the network has 902,700 parameters "
     "in total.", "params"),
])
def test_a_range_or_two_different_statements_for_one_part_earn_nothing_and_are_flagged(text, part):
    o = grade(text)[part]
    assert o.credit == 0 and o.needs_review, o.feedback
    assert "conflicting-values" in [d.code for d in o.diagnoses]


@pytest.mark.parametrize("text", [
    "Memory of the feature maps for one image: 10.52 MB.\nTotal RAM for one prediction: 14.1 MB.",
    "Params 903,400. For one prediction the RAM is 12.6 MB at least; if we keep all layers, one prediction "
    "needs 14.1 MB.",
    "Params: 903,400. One prediction: 14.1 MB.\nIn float16 one prediction would need 7.1 MB.",
    "One image: 6 MB + 3 MB = 9 MB of maps\nRAM for one prediction: 9 MB + 3.6 MB = 12.6 MB",
])
def test_working_steps_asides_and_two_accepted_conventions_are_no_conflict(text):
    o = grade(text)["ram_prediction"]
    assert o.credit == 1 and not o.needs_review, o.feedback


def test_feedback_quotes_the_figures_the_student_meant():
    o = grade("Layer 1: 2,800. Layer 2: (3*3*200+1)*100 = 1,802,00. Layer 3: 720,400.\n"
              "Total: 2,800 + 1,802,00 + 720,400 = 2,525,200 parameters")["params"]
    assert "1,802 " not in o.feedback and "1,802." not in o.feedback  # never read as 1,802
    assert "2,525,200" in o.feedback
    wrong = grade("L1 = (3*3*3+1)*100 = 2,800\nL2 = (3*3*100+1)*200 = 108,200\nL3 = (3*3*200+1)*400 = "
                  "720,400\nTotal = 831,400")["params"]
    assert "Your total number of parameters: 831,400" in wrong.feedback, wrong.feedback
    assert "= 180,200, not 108,200" in wrong.feedback


@pytest.mark.parametrize(("text", "code"), [
    ("", "# total params = 903,400\n# RAM one image ~ 12.6 MB\n# RAM batch of 50 ~ 565.6 MB\nx = 1"),
    ("total_params = 903_400\nram_single_mb = 12.61\nram_batch_mb = 565.61", ""),
    ("903,400\n12.6\n565.6", ""),
    ("Params = 903.4K, RAM(1) = 12.6M, RAM(50) = 565.6M", ""),
    ("O total de parâmetros é 903.400. Para uma previsão são necessários 12,6 MB e para o treinamento "
     "com um lote de 50 imagens 565,6 MB.", ""),
    ("Ek image ke liye 12.6 MB chahiye aur 50 images ke batch ke liye 565.6 MB. Total parameters 903,400 "
     "hain.", ""),
])
def test_comments_variable_names_bare_lines_and_other_languages_answer_every_part(text, code):
    out = grade(text, code)
    assert [out[p].credit for p in ("params", "ram_prediction", "ram_batch")] == [1, 1, 1], {
        p: found(o) for p, o in out.items()}


def test_two_accepted_conventions_offered_together_are_one_right_answer():
    o = grade("903,400 parameters. Prediction: 12.6 MB or 14.1 MB (depending whether you keep all layers). "
              "Batch: 565.6 MB.")["ram_prediction"]
    assert o.credit == 1 and not o.needs_review


def test_a_sentence_naming_only_the_parameters_memory_does_not_make_its_counts_the_total():
    out = grade("Conv1: 3*3*3*100 + 100 = 2800\nConv2: 3*3*100*200 + 200 = 180200\n"
                "Conv3: 3*3*200*400 + 400 = 720400\nSum: 903400\n"
                "Floats in one forward pass: 1.5M + 0.75M + 0.38M = 2.63M -> 10.52 MB, "
                "+ 3.61 MB params = 14.13 MB\nFor the batch: 50 * (10.52 + 0.72) + 3.61 = 565.6 MB")
    assert found(out["params"]) == "903400" and out["params"].credit == 1
    assert found(out["ram_prediction"]) == "14.13 MB" and out["ram_prediction"].credit == 1


@pytest.mark.parametrize(("text", "code"), [
    ("The network has 903,400 trainable parameters. For a prediction we need at least about 12.6 MB. During "
     "training with mini-batches of 50 instances, about 565.6 MB; in practice more, e.g. 1 GB, because of "
     "the optimizer state.", ""),
    ("", "params = 903400  # total\nram_pred = 12.6  # MB\nram_batch = 565.6  # MB"),
])
def test_an_aside_is_not_the_answer_and_a_comment_names_the_unit(text, code):
    out = grade(text, code)
    assert found(out["ram_batch"]).startswith("565.6") and out["ram_batch"].credit == 1
    assert out["ram_prediction"].credit == 1


def test_a_one_digit_figure_agrees_only_within_ten_percent():
    out = grade("Params ~1M. One prediction about 13 MB; the batch about 1 GB.")
    assert out["params"].credit == 0 and out["ram_batch"].credit == 0
    assert out["ram_prediction"].credit == 1  # 13 MB is within 10% of 12.6 MB / 13.48 MiB
    assert grade("~0.9M params, about 0.6 GB for training on the batch.")["params"].credit == 1


def test_third_development_set_parts_exact_and_conflicts_flagged():
    # q2_dev3.yaml: 92.2% exact on its first run (labelled before the reader saw it), 100% after
    s = summary(evaluate(DATA / "q2_dev3.yaml"))
    assert s["exact"] >= 0.95, s
    assert s["over_credit"] == 0, s
    assert s["flag_hit"] == s["flag_wanted"], s


@pytest.mark.parametrize("text", [
    "Others say 903,400 but I don't agree: without biases it is 9*3*100 + 9*100*200 + 9*200*400 = 902,700.",
    "The book says 903,400, but I disagree. Mine: 902,700 parameters.",
])
def test_a_value_reported_and_rejected_earns_nothing(text):
    o = grade(text)["params"]
    assert o.credit == 0 and found(o) == "902,700"


def test_labels_with_approx_signs_keep_each_value_with_its_own_label():
    out = grade("weights=903400 ram≈14.1mb batch≈565mb")
    assert [found(out[p]) for p in ("params", "ram_prediction", "ram_batch")] == ["903400", "14.1mb", "565mb"]
    assert all(out[p].credit == 1 for p in out)
    out = grade("total = 903,400 params\none image ≈ 0.0132 GiB\nbatch of 50 ≈ 0.527 GiB")
    assert found(out["ram_prediction"]) == "0.0132 GiB" and out["ram_prediction"].credit == 1


def test_the_concluding_figure_wins_over_a_layers_working_term():
    out = grade("903,400 parameters.\n\nTo predict one image the two biggest neighbouring layers are in "
                "memory together: the first is 100x150x100 floats = 6 MB and the second is 50x75x200 = 3 MB. "
                "With the weights (3.6 MB)\nthis comes to 12.6 MB at least.")
    o = out["ram_prediction"]
    assert found(o) == "12.6 MB" and o.credit == 1 and not o.needs_review


def test_printed_results_in_code_comments_are_the_answers():
    code = ("layers = [(3, 100), (100, 200), (200, 400)]\n"
            "total_params = sum((9 * c + 1) * f for c, f in layers)\nprint(total_params)  # 903400\n"
            "single_mb = compute_single()\nprint(single_mb)  # 14.1336\n"
            "batch_mb = compute_batch()\nprint(batch_mb)  # 565.6136\n")
    out = grade("", code)
    assert found(out["params"]) == "903400" and out["params"].credit == 1
    assert found(out["ram_batch"]).startswith("565.6136") and out["ram_batch"].credit == 1


def test_a_batch_without_the_parameters_is_a_partial_omission():
    o = grade("903,400 parameters; 12.6 MB per prediction. Training batch: 50 × (10.52 MB maps + "
              "0.72 MB input) = 562 MB.")["ram_batch"]
    assert o.credit == 0.5 and "parameters-not-counted" in {d.code for d in o.diagnoses}


def test_a_top_map_floored_to_25x37_is_not_charged_within_the_rounding_tolerance():
    # the rubric's rule (a): floor instead of ceil for 'same' padding is named, not charged
    text = ("Saídas: 100×150, 50×75, 25×37 (75/2 = 37,5 -> 37).\nparams = 903400\n"
            "uma previsão = (100*150*100 + 50*75*200 + 25*37*400 + 903400) * 4 B = 14,09 MB\n")
    o = grade(text)["ram_prediction"]
    assert o.credit == 1 and "25×37" in o.feedback
    right = (text.replace("25×37 (75/2 = 37,5 -> 37)", "25×38").replace("25*37", "25*38")
             .replace("14,09", "14,13"))
    assert grade(right)["ram_prediction"].credit == 1


def test_a_restated_conversion_quotes_the_figure_written_first():
    o = grade("903,400 parameters. One prediction needs 12,613,600 bytes, i.e. roughly 12.6 MB.")[
        "ram_prediction"]
    assert o.credit == 1 and found(o) == "12,613,600 bytes"


@pytest.mark.parametrize("text", ["903,400 params / 12.6 MB / 565.6 MB", "903400; 12.6; 565.6"])
def test_a_one_line_list_answers_the_parts_in_order(text):
    out = grade(text)
    assert all(out[p].credit == 1 for p in out)


def test_a_hedged_second_value_is_not_the_quoted_answer():
    o = grade("903,400 params. One prediction: 12.6 MB, perhaps 14.1 MB if every layer is kept.")[
        "ram_prediction"]
    assert o.credit == 1 and found(o) == "12.6 MB"


@pytest.mark.parametrize("text", ["Params: 902,700 / 903,400 (not sure which)", "params = 902,700 / 903,400"])
def test_two_candidates_split_by_a_slash_are_a_conflict_not_a_division(text):
    o = grade(text)["params"]
    assert o.credit == 0 and o.needs_review


def test_a_reported_value_the_student_agrees_with_is_kept():
    o = grade("The book says 903,400 and I get the same.")["params"]
    assert o.credit == 1 and found(o) == "903,400"


def test_several_printed_results_in_one_comment_pair_with_their_variables():
    code = ("total = count_params(model)\nram_one_mb = ram(1)\nram_batch_mb = ram(50)\n"
            "print('results:', total, ram_one_mb, ram_batch_mb)  # results: 903400 14.13 565.61\n")
    out = grade("", code)
    assert [found(out[p]) for p in ("params", "ram_prediction", "ram_batch")] == [
        "903400", "14.13 MB", "565.61 MB"]
    assert all(out[p].credit == 1 for p in out)


def test_latex_math_is_read_as_the_numbers_it_shows():
    out = grade(r"Layer 1: $100 \times (3 \times 3 \times 3 + 1) = 2{,}800$, layer 2: $180{,}200$, layer 3: "
                r"$720{,}400$, total $903{,}400$ parameters. One prediction: $\approx 12.6\,\text{MB}$. "
                r"Mini-batch of 50: $565.6\,\mathrm{MB}$.")
    quoted = [found(out[p]) for p in ("params", "ram_prediction", "ram_batch")]
    assert quoted == ["903,400", "12.6 MB", "565.6 MB"]
    assert all(out[p].credit == 1 for p in out)


def test_two_different_totals_equated_are_a_conflict():
    o = grade("params ≈ 903,400 ≈ 902,700")["params"]
    assert o.credit == 0 and o.needs_review
    assert grade("Total = 903,400 ≈ 0.9M parameters")["params"].credit == 1  # one value, rounded


def quoted(out) -> list:
    return [found(out[p]) for p in ("params", "ram_prediction", "ram_batch")]


def credits(out) -> list:
    return [out[p].credit for p in ("params", "ram_prediction", "ram_batch")]


def test_fourth_development_set_parts_exact_and_conflicts_flagged():
    # q2_dev4.yaml: 17 batches, each labelled before the reader saw it (first-run figures in its
    # comments: 85.3% for the first 34 answers; main's reader scores 80.3% on the whole set)
    s = summary(evaluate(DATA / "q2_dev4.yaml"))
    assert s["exact"] >= 0.95 and s["over_credit"] == 0, s
    assert s["flag_hit"] == s["flag_wanted"], s


@pytest.mark.parametrize("text", [
    "params: 903_400\npredict: 12_613_600 B\nbatch: 565_613_600 B",
    "Parameter: 903'400. RAM für eine Vorhersage: 12'613'600 Bytes. "
    "Training mit 50 Bildern: 565'613'600 Bytes.",
    "Nombre de paramètres : 903\u202f400. Une seule image : 12,6 Mo. Lot de 50 images : 565,6 Mo.",
    "Prediction: 12 614 kB; batch: 565 614 kB; weights: 903 400",
])
def test_thousands_grouped_with_underscores_apostrophes_and_thin_spaces(text):
    assert credits(grade(text)) == [1, 1, 1]


@pytest.mark.parametrize("text", [
    "Всего параметров: 903 400. Для одного предсказания нужно не менее 12,6 МБ памяти. "
    "При обучении на мини-батче из 50 изображений — около 565,6 МБ.",
    "Paramètres : 0,9034 M.\nPrédiction : 12,03 Mio.\nEntraînement (lot de 50) : 539,4 Mio.",
    "Insgesamt 0,9 Mio. Parameter (genau 903.400). Für eine einzelne Vorhersage braucht man mindestens "
    "12,6 MB, für das Training mit 50 Bildern rund 565,6 MB.",
    "Voor één voorspelling zijn minstens twee lagen nodig (6 MB + 3 MB) plus de parameters (3,6 MB): "
    "in totaal minstens 12,6 MB. Het totale aantal parameters is 903.400. Bij het trainen: 565,6 MB.",
    "Jumla ya vigezo ni 903,400. Kwa utabiri mmoja, RAM ni angalau MB 12.6. "
    "Kwa mafunzo ya picha 50, ni MB 565.6.",
])
def test_other_languages_with_their_unit_words_and_decimal_commas(text):
    assert credits(grade(text)) == [1, 1, 1]


def test_answer_first_then_the_working_keeps_the_stated_answers():
    out = grade("903,400 / 14.13 MB / 565.61 MB.\n\nWhy: layer 1 has (3*3*3+1)*100 = 2,800 params, layer 2 "
                "(3*3*100+1)*200 = 180,200, layer 3 (3*3*200+1)*400 = 720,400. The outputs are 6 MB, 3 MB "
                "and 1.52 MB; with the 3.61 MB of weights that is 14.13 MB if every layer is kept.")
    assert quoted(out) == ["903,400", "14.13 MB", "565.61 MB"] and credits(out) == [1, 1, 1]


@pytest.mark.parametrize("text, batch", [
    ("Params: 903,400. One prediction 12.6 MB. Batch 565.6 MB.\n"
     "EDIT: actually the batch needs 50 × 14.13 = 706.5 MB since every image needs its own copy.", 0),
    ("One prediction needs 9 MB (conv1 + conv2 outputs). For the batch: 50 × 11.24 MB = 562 MB.\n"
     "Update: I forgot the weights; final answers: one prediction 12.6 MB, batch 565.6 MB. "
     "Params 903,400.", 1),
])
def test_a_later_edit_replaces_the_earlier_value_either_way(text, batch):
    out = grade(text)
    assert out["ram_prediction"].credit == 1 and out["ram_batch"].credit == batch
    assert not out["ram_prediction"].needs_review


def test_thirty_two_bits_counted_as_bytes_is_named_and_bits_written_as_bits_are_right():
    wrong = grade("Parameters: 903,400. Every value is 32 bits, so one prediction needs "
                  "(1,500,000 + 750,000 + 903,400) × 32 = 100,908,800 bytes ≈ 100.9 MB.")["ram_prediction"]
    assert wrong.credit == 0 and "bits-as-bytes" in {d.code for d in wrong.diagnoses}
    assert credits(grade("params 903,400, prediction 100.9 Mbit, batch 4.525 Gbit")) == [1, 1, 1]


def test_a_per_image_figure_is_neither_the_prediction_nor_the_batch():
    out = grade("Parameters: 903,400 (3.6 MB). Training: each image needs its maps and itself kept,\n"
                "10.52 MB + 0.72 MB = 11.24 MB per image, so for the 50 images 562 MB, plus 3.6 MB of "
                "weights:\n"
                "565.6 MB. A single prediction needs 12.6 MB (two layers + weights).")
    assert quoted(out) == ["903,400", "12.6 MB", "565.6 MB"]


def test_latex_with_decimal_commas_and_thin_spaces():
    out = grade(r"$$P = 2\,800 + 180\,200 + 720\,400 = 903\,400$$" "\n"
                r"One prediction: $(6 + 3)\,\text{MB} + 3{,}6\,\text{MB} \approx 12{,}6\,\text{MB}$." "\n"
                r"Mini-batch of 50: $50 \times 11{,}24\,\text{MB} + 3{,}6\,\text{MB} "
                r"\approx 565{,}6\,\text{MB}$.")
    assert credits(out) == [1, 1, 1] and found(out["ram_prediction"]) == "12,6 MB"


def test_the_questions_own_numbers_are_never_answers():
    out = grade("With 200 × 300 RGB input images, 100/200/400 feature maps and a batch of 50, the number of "
                "parameters depends on the kernels: 3 × 3. The RAM depends on the float32 size.")
    assert credits(out) == [0, 0, 0] and quoted(out) == [None, None, None]


def test_one_part_answered_leaves_the_others_unanswered():
    out = grade("Training a 50-image mini-batch: 50 × (6 + 3 + 1.52 + 0.72) MB + 3.61 MB = 565.6 MB.")
    assert credits(out) == [0, 0, 1] and quoted(out)[:2] == [None, None]


def test_a_sum_slip_carried_into_both_ram_parts_is_partial_on_each():
    out = grade("params = 2,800 + 180,200 + 720,400 = 903,400 → 3.61 MB\n"
                "maps (float32) = 6 MB + 3 MB + 1.52 MB = 10.25 MB\n"
                "prediction (all maps kept + params) = 10.25 + 3.61 = 13.86 MB\n"
                "training, 50 images = 50 × (10.25 + 0.72) + 3.61 = 552.1 MB")
    assert credits(out) == [1, 0.5, 0.5]


def test_per_layer_counts_right_and_their_total_misadded_is_partial():
    out = grade("| Layer | Weights | Biases | Total |\n|---|---|---|---|\n| 1 | 2,700 | 100 | 2,800 |\n"
                "| 2 | 180,000 | 200 | 180,200 |\n| 3 | 720,000 | 400 | 720,400 |\n| Σ |  |  | 930,400 |")
    assert out["params"].credit == 0.5 and "sum-mismatch" in {d.code for d in out["params"].diagnoses}


def test_decimal_megabyte_working_is_not_credited_by_a_mib_reading_by_chance():
    # grayscale input (0.24 MB per image): 541.6 read as MiB would be within 0.5% of 565.6 MB
    o = grade("Total: 901,600 parameters.\n"
              "Batch of 50: 50 × (10.52 MB maps + 0.24 MB input) + 3.61 MB = 541.6 MB")["ram_batch"]
    assert o.credit == 0.5 and "input-channels-missing" in {d.code for d in o.diagnoses}


def test_printed_expressions_with_results_in_comments_are_read_with_their_units():
    code = ("maps = [100 * 150 * 100, 50 * 75 * 200, 25 * 38 * 400]\n"
            "print(params)  # 903400\n"
            "pred = (maps[0] + maps[1] + params) * 4\n"
            "print(pred / 2**20)      # 12.029...\n"
            'print("batch of 50:", (50 * (sum(maps) + 180000) + params) * 4 / 1e6, "MB")   # 565.6136 MB\n')
    out = grade("", code)
    assert quoted(out) == ["903400", "12.029 MiB", "565.6136 MB"] and credits(out) == [1, 1, 1]


def test_a_float16_aside_after_the_answer_is_not_the_answer():
    out = grade("Total parameters: 903,400. A single prediction needs at least 12.6 MB. Training on 50 "
                "images needs about 565.6 MB in float32,\nor 282.8 MB in float16.")
    assert found(out["ram_batch"]) == "565.6 MB" and out["ram_batch"].credit == 1


def test_units_in_key_names_and_a_shotgun_in_french():
    out = grade('{"params": 903400, "ram_prediction_mb": 12.61, "ram_batch_mb": 565.61}')
    assert credits(out) == [1, 1, 1]
    o = grade("Paramètres : 902 700, 903 400 ou 9 034 000 ?")["params"]
    assert o.credit == 0 and o.needs_review


def test_aligned_lines_in_a_code_fence_stand_alone():
    out = grade("```\ntotal params     903,400\nram (1 image)    12.6 MB\nram (batch 50)   565.6 MB\n```")
    assert quoted(out) == ["903,400", "12.6 MB", "565.6 MB"]


def test_a_bullet_operator_multiplies_and_not_equal_rejects():
    out = grade("(3∙3∙3+1)∙100 + (3∙3∙100+1)∙200 + (3∙3∙200+1)∙400 = 903 400 parameters.\n"
                "Prediction: (1 500 000 + 750 000 + 903 400)∙4 B = 12.6 MB.")
    assert credits(out)[:2] == [1, 1]
    o = grade("params ≠ 903,400 (that counts the biases twice); it's 902,700.")["params"]
    assert o.credit == 0 and found(o) == "902,700"


def test_final_colon_replaces_a_first_thought_and_middots_separate_parts():
    out = grade("I first thought one prediction needs 3.6 MB (just the weights), but that ignores the "
                "activations.\nFinal: 12.6 MB. Params 903,400, batch 565.6 MB.")
    assert found(out["ram_prediction"]) == "12.6 MB" and out["ram_prediction"].credit == 1
    out = grade("Parámetros: 903 400 · Predicción: 12,6 MB · Entrenamiento (lote de 50): 565,6 MB")
    assert quoted(out) == ["903 400", "12,6 MB", "565,6 MB"]


def test_siunitx_space_grouped_decimal_commas_and_middot_separated_answers():
    out = grade(r"The network has $\num{903400}$ parameters; one prediction needs \SI{12.6}{\mega\byte} "
                r"and a training step on 50 images \SI{565.6}{\mega\byte}.")
    assert quoted(out) == ["903400", "12.6 MB", "565.6 MB"]
    out = grade("903 400 paramètres ; une prédiction : 12 613,6 ko ; un lot de 50 : 565 613,6 ko.")
    assert credits(out) == [1, 1, 1] and found(out["ram_prediction"]) == "12 613,6 ko"
    out = grade("**Answers:** 903,400 parameters · 12.6 MB · 565.6 MB\n\n**Working:** conv1 (3·3·3+1)·100 = "
                "2,800. Maps 6 MB, 3 MB, 1.52 MB. Peak for one image 6 + 3 + 3.6 MB; "
                "batch 50 × 11.24 MB + 3.6 MB.")
    assert quoted(out) == ["903,400", "12.6 MB", "565.6 MB"]


def test_a_correction_mark_replaces_an_unnamed_later_amount_by_size():
    out = grade("Parámetros totales: 903.400. Para una predicción necesitamos las salidas de dos capas "
                "(6 MB y 3 MB)\ny los pesos (3,6 MB): 12,6 MB. Para el lote de 50 imágenes calculé "
                "50 × 12,6 = 630 MB.\nCorrección: los pesos se guardan una sola vez y hay que guardar todas "
                "las capas, así que son\n50 × 11,24 MB + 3,6 MB = 565,6 MB.")
    assert quoted(out) == ["903.400", "12,6 MB", "565,6 MB"] and credits(out) == [1, 1, 1]


def test_the_terms_and_their_total_in_words_are_no_shotgun():
    o = grade("we get 2 800, 180 200 and 720 400, i.e. 903 400 parameters in total.")["params"]
    assert o.credit == 1 and not o.needs_review
    assert grade("3.6 MB, 9 MB, 12.6 MB or 14.1 MB for one prediction?")["ram_prediction"].credit == 0


def test_a_bullet_adding_the_weights_goes_on_about_the_batch():
    out = grade("* Training (50 images, everything kept for backprop):\n"
                "  * 50 × 2.81M floats × 4 B = 562 MB\n  * + weights ≈ 565.6 MB ≈ 0.53 GiB")
    assert found(out["ram_batch"]) in ("565.6 MB", "0.53 GiB") and out["ram_batch"].credit == 1


def test_code_with_lists_sums_subscripts_and_numpy_products_is_evaluated():
    code = ("import numpy as np\nmaps = [100 * 150 * 100, 50 * 75 * 200, 25 * 38 * 400]\n"
            "params = (27 + 1) * 100 + (900 + 1) * 200 + (1800 + 1) * 400\n"
            "ram_prediction_mb = (maps[0] + maps[1] + params) * 4 / 1e6\n"
            "ram_batch_mb = (50 * (sum(maps) + np.prod([200, 300, 3])) + params) * 4 / 1e6\n")
    out = grade("Q2: computed below.", code)
    assert credits(out) == [1, 1, 1] and found(out["ram_batch"]).startswith("565.6136")
    assert found(grade("", "print(903_400)  # parameters\n")["params"]) == "903400"


def test_a_batch_that_also_counts_the_gradients_is_accepted():
    o = grade("903,400 params; one prediction 12.6 MB; batch: 50 × 11.24 MB + 2 × 3.61 MB (weights and "
              "gradients) = 569.2 MB")["ram_batch"]
    assert o.credit == 1


@pytest.mark.parametrize("text", [
    "No son 903.400 parámetros; son 902.700 porque los sesgos no cuentan.",
    "Não são 903.400 parâmetros, são 902.700.",
    "Es sind nicht 903.400 Parameter, sondern 902.700.",
])
def test_a_value_negated_in_another_language_earns_nothing(text):
    o = grade(text)["params"]
    assert o.credit == 0 and found(o) == "902.700"


@pytest.mark.parametrize("text, part", [
    ("Parameter: 902.700, 903.400 oder 9.027.000?", "params"),
    ("903,400 params. One prediction: 12.6 / 14.1 / 18 MB. Batch: 565.6 MB.", "ram_prediction"),
    ("Параметров 902 700 или 903 400.", "params"),
])
def test_shotguns_with_dotted_counts_or_one_shared_unit_are_flagged(text, part):
    o = grade(text)[part]
    assert o.credit == 0 and o.needs_review


def test_a_quote_block_and_bold_question_headings():
    out = grade("> **Answer:** 903,400 parameters; at least 12.6 MB for one prediction; about 565.6 MB "
                "for a\n> training batch of 50 images.")
    assert quoted(out) == ["903,400", "12.6 MB", "565.6 MB"]
    out = grade("**RAM for one instance?**\nAbout 12.6 MB: the two largest consecutive layers (6 MB + 3 MB) "
                "plus the 3.6 MB of weights.")
    assert found(out["ram_prediction"]) == "12.6 MB" and out["ram_prediction"].credit == 1


@pytest.mark.parametrize("text", [
    "训练（批量 50）：565.6 MB；单张图片预测：12.6 MB；参数总数：903,400。",
    "배치 50 학습: 565.6 MB, 한 장 예측: 12.6 MB, 파라미터: 903,400",
    "Εκπαίδευση σε παρτίδα 50 εικόνων: 565,6 MB. Πρόβλεψη για μία εικόνα: 12,6 MB. Παράμετροι: 903.400.",
    "Trénování na dávce 50 obrázků: 565,6 MB. Predikce jednoho obrázku: 12,6 MB. Parametrů: 903 400.",
])
def test_the_batch_named_first_in_other_languages_and_scripts(text):
    assert credits(grade(text)) == [1, 1, 1]


def test_two_unnamed_amounts_the_larger_first_and_a_count_after_them():
    # no word here names a part: the batch is the larger amount, the count the only plain one
    out = grade("Opetus 50 kuvan erällä vaatii 565,6 MB, yksi ennuste 12,6 MB, ja verkossa on 903 400 "
                "parametria.")
    assert quoted(out) == ["903 400", "12,6 MB", "565,6 MB"]


def test_html_table_cells_tab_separated_lines_and_a_plus_minus_margin():
    from grader.locate.visible import visible_markdown

    html = ("<table><tr><td>params</td><td>903,400</td></tr><tr><td>prediction</td><td>12.6 MB</td></tr>"
            "<tr><td>batch</td><td>565.6 MB</td></tr></table>")
    assert credits(grade(visible_markdown(html))) == [1, 1, 1]
    out = grade("params\t903400\npred\t12.6 MB\nbatch\t565.6 MB")
    assert quoted(out) == ["903400", "12.6 MB", "565.6 MB"]
    o = grade("903,400 params; prediction 12.6 ± 0.1 MB; batch 565.6 MB")["ram_prediction"]
    assert o.credit == 1 and found(o) == "12.6 MB"


@pytest.mark.parametrize("text", [
    "903,400\n12.6 MB\n565.6 MB\n\nExplanation: layer 1 has (27+1)*100 = 2,800 parameters, layer 2 180,200 "
    "and layer 3 720,400. The maps take 6 MB, 3 MB and 1.52 MB; a prediction keeps two of them plus the "
    "3.6 MB of weights. Training keeps everything for 50 images: 50 × 11.24 MB = 562 MB, plus the weights.",
    "**903,400 · 12.6 MB · 565.6 MB**\n\nWhy: 2,800 + 180,200 + 720,400 parameters; 6 + 3 + 3.6 MB; "
    "50 × 11.24 + 3.6 MB.",
    "1. 903400\n2. 12.61 MB\n3. 565.61 MB\n\nExplanation: conv1 2,800; conv2 180,200; conv3 720,400. "
    "Peak = 6 + 3 + 3.61 MB. Batch = 50 × 11.24 + 3.61 MB.",
])
def test_the_three_answers_first_on_lines_or_between_middots_win_over_the_working(text):
    assert credits(grade(text)) == [1, 1, 1]


@pytest.mark.parametrize("text", [
    "TL;DR 903,400 params, 12.6 MB, 565.6 MB.\n\nLong version: the layers have 2,800, 180,200 and 720,400 "
    "parameters. A forward pass keeps at most\ntwo layers (6 MB and 3 MB) plus 3.6 MB of weights. Training "
    "stores 50 × 10.52 MB of maps, 36 MB of\ninputs and the weights.",
    "Short answer: 903,400 parameters; 14.1 MB per prediction; 566 MB per batch of 50.\nDetails: maps per "
    "image:\n1,500,000 + 750,000 + 380,000 = 2,630,000 floats = 10.52 MB; weights 3.61 MB; so 14.13 MB when "
    "all\nlayers are kept. Batch: 50 × (10.52 + 0.72) + 3.61 = 565.6 MB.",
    "Réponses : 903 400 ; 12,6 Mo ; 565,6 Mo.\nDétail : 2 800 + 180 200 + 720 400 paramètres ; deux couches "
    "(6 Mo + 3 Mo) + 3,6 Mo de poids ;\n50 × 11,24 Mo + 3,6 Mo.",
])
def test_a_line_opened_as_the_answer_states_the_finals_over_the_working(text):
    out = grade(text)
    assert credits(out) == [1, 1, 1] and not any(out[p].needs_review for p in out)


def test_a_latex_fraction_with_powers_in_it_is_evaluated():
    text = (r"Parameters: $903\,400$. One prediction: "
            r"$\frac{(1.5 + 0.75) \times 10^{6} + 903\,400}{10^{6}} \times 4 \approx 12.6$ MB.")
    o = grade(text)["ram_prediction"]
    assert o.credit == 1 and not o.diagnoses


def test_values_given_respectively_follow_the_order_of_the_parts():
    out = grade("The parameter count, the RAM for one prediction and the RAM for the batch are 903,400, "
                "12.6 MB and\n565.6 MB respectively.")
    assert quoted(out) == ["903,400", "12.6 MB", "565.6 MB"]


def test_a_per_image_training_figure_is_a_rate_not_a_second_batch_answer():
    o = grade("Per image in training: 11,240 kB. Whole batch (50 images + weights): 565,614 kB. Inference: "
              "12,614 kB.\nParameters: 903,400.")["ram_batch"]
    assert o.credit == 1 and not o.needs_review and found(o) == "565,614 kB"


def test_three_bare_lines_take_the_unit_a_note_in_words_names():
    out = grade("903400\n12.03\n539.41\n(the two RAM figures are in MiB)")
    assert credits(out) == [1, 1, 1] and found(out["ram_batch"]) == "539.41 MiB"


def test_two_amounts_split_by_a_slash_with_their_labels_after_them():
    out = grade("RAM: 12.6 MB / 565.6 MB (predict / train). Params: 903,400.")
    assert quoted(out) == ["903,400", "12.6 MB", "565.6 MB"]


def test_a_sentence_wrapped_between_two_words_in_cyrillic_is_one_sentence():
    out = grade("Параметры: у каждого фильтра 3×3×(число входных каналов) весов и одно смещение.\n"
                "Слой 1: 28 × 100 = 2 800; слой 2: 901 × 200 = 180 200; слой 3: 1 801 × 400 = 720 400.\n"
                "Итого 903 400 параметров.\nПамять при предсказании одного изображения: выходы слоёв 6 МБ, "
                "3 МБ и 1,52 МБ; одновременно\nнужно хранить два соседних слоя (9 МБ) + веса 3,6 МБ "
                "≈ 12,6 МБ.\n"
                "Обучение на мини-батче из 50 картинок: все активации + входные изображения + веса ≈ 566 МБ.")
    o = out["ram_prediction"]
    assert o.credit == 1 and not o.needs_review and found(o) == "12,6 МБ"


def test_arabic_unit_words_with_western_digits_are_megabytes():
    out = grade("المجموع = 903400 معامل\nالذاكرة عند التنبؤ بصورة واحدة: 12.6 ميغابايت تقريبا\n"
                "عند التدريب على دفعة من 50 صورة: 565.6 ميغابايت على الأقل")
    assert credits(out) == [1, 1, 1] and found(out["ram_batch"]) == "565.6 ميغابايت"


def test_notes_as_assignments_one_per_line_name_their_part_in_the_variable():
    out = grade("params = 2_800 + 180_200 + 720_400 = 903_400\n"
                "mem_predict = (1_500_000 + 750_000 + 380_000 + 903_400) * 4 = 14_133_600 bytes\n"
                "mem_train = (50 * 2_810_000 + 903_400) * 4 = 565_613_600 bytes")
    assert credits(out) == [1, 1, 1] and found(out["ram_batch"]) == "565613600 bytes"


def test_a_summary_line_that_contradicts_the_working_is_no_single_answer():
    out = grade("Params: 903,400.\nOne image: conv1 + conv2 together, 9 MB,\nplus 3.6 MB of weights, "
                "so 12.6 MB.\nTraining: 565.6 MB.\n\nSummary: params 903,400 | predict 9 MB | train 565.6 MB")
    o = out["ram_prediction"]
    assert o.credit == 0 and o.needs_review


def test_a_range_between_two_conventions_is_no_committed_answer():
    out = grade("Params: 903,400.\nRAM per prediction: between 12.6 MB (if each layer is freed) and 14.9 MB "
                "(if everything is kept),\nI can't tell which.\nTraining on 50 images: 565.6 MB.")
    o = out["ram_prediction"]
    assert o.credit == 0 and o.needs_review


def test_right_per_layer_formulas_with_a_digit_swapped_total_is_one_slip():
    o = grade("conv1: 3*3*3 + 1 = 28 per filter, x100 = 2,800\nconv2: 3*3*100 + 1 = 901, x200 = 180,200\n"
              "conv3: 3*3*200 + 1 = 1,801, x400 = 720,400\nTotal = 930,400 parameters")["params"]
    assert o.credit == 0.5 and "sum-mismatch" in {d.code for d in o.diagnoses}


def test_a_bare_output_line_takes_the_name_its_print_printed():
    code = ("total_params = 0\nfor cin, cout in [(3, 100), (100, 200), (200, 400)]:\n"
            "    total_params += (9 * cin + 1) * cout\nprint(total_params)\n"
            "print(f'one image: {12.61} MB')\nprint(f'batch: {565.61} MB')\n"
            "# output:\n# 903400\n# one image: 12.61 MB\n# batch: 565.61 MB\n")
    out = grade("See my cell, the printed output is pasted under it.", code=code)
    assert credits(out) == [1, 1, 1] and found(out["params"]) == "903400"


def test_a_jupyter_out_value_takes_the_unit_its_cell_scales_bytes_to():
    text = ("```python\np = (27 + 1) * 100 + (900 + 1) * 200 + (1800 + 1) * 400\np\n```\nOut[2]: 903400\n\n"
            "One image keeps two layers: 12.6 MB. Training on the batch of 50:\n\n"
            "```python\nacts = 100*150*100 + 50*75*200 + 25*38*400\n"
            "(50 * (acts + 200*300*3) + p) * 4 / 1e6\n```\n"
            "Out[3]: 565.6136\n")
    o = grade(text)["ram_batch"]
    assert o.credit == 1 and found(o) == "565.6136 MB"


def test_garbled_grouping_commas_before_bytes_are_read_as_the_digits_written():
    out = grade("total parameters 903,400\nprediction: 12,6136,00 bytes (two layers + weights)\n"
                "batch of 50: 565,613,600 bytes")
    assert credits(out) == [1, 1, 1] and found(out["ram_prediction"]) == "12,6136,00 bytes"


def test_bare_arithmetic_lines_with_a_factor_of_four_count_bytes():
    out = grade("(27+1)*100=2800\n(900+1)*200=180200\n(1800+1)*400=720400\n2800+180200+720400=903400\n"
                "4*100*150*100=6000000\n4*50*75*200=3000000\n4*25*38*400=1520000\n"
                "6000000+3000000+4*903400=12613600\n50*(6000000+3000000+1520000+720000)+4*903400=565613600")
    assert credits(out) == [1, 1, 1] and found(out["ram_prediction"]) == "12613600 bytes"


def test_pinyin_cue_words_name_the_parts():
    out = grade("Canshu: (3*3*3+1)*100 = 2800, (3*3*100+1)*200 = 180200, (3*3*200+1)*400 = 720400, zong gong "
                "903400 ge canshu.\nYuce yi zhang tupian: tezheng tu 6 MB + 3 MB, zai jia canshu 3.6 MB, "
                "zhishao 12.6 MB.\nXunlian 50 zhang tupian: 50 * (10.52 + 0.72) + 3.6 = 565.6 MB zuoyou.")
    assert credits(out) == [1, 1, 1] and found(out["ram_prediction"]) == "12.6 MB"


def test_portuguese_predicao_names_the_prediction():
    out = grade("Parâmetros: 903.400\n\nMemória na predição: a imagem de entrada (0,72 MB), as três saídas "
                "(6 + 3 + 1,52 MB)\ne os pesos (3,61 MB) → 14,85 MB\n\nTreino com 50 imagens: 565,6 MB")
    assert found(out["ram_prediction"]) == "14,85 MB" and out["ram_prediction"].credit == 1


def test_an_edit_of_one_part_and_a_later_update_of_another_both_replace():
    out = grade("params = 2,700 + 180,000 + 720,000 = 902,700\nEDIT: forgot the biases, one per filter: "
                "+100 +200 +400 → 903,400 total.\n\nRAM for 1 image: maps 1.5M + 0.75M + 0.38M = 2.63M "
                "floats "
                "= 10.52 MB\nUpdate: + the weights (903,400 × 4 B ≈ 3.6 MB) → 14.1 MB\n\n"
                "batch 50: 50 × (10.52 + 0.72) + 3.6 ≈ 565.6 MB")
    assert credits(out) == [1, 1, 1] and found(out["params"]) == "903,400"


def test_the_parameters_bytes_after_the_word_parameters_are_no_second_count():
    out = grade("So the sum is 903400 parameters for the CNN.\nWhen predict we keep two layer, 9000000 byte, "
                "and the parameters\n903400x4 = 3613600 byte, total 12613600 byte it is 12.6 MB.\n"
                "In training we need all: 526000000, input 36000000, parameters 3613600, "
                "total 565613600 byte.")
    o = out["params"]
    assert o.credit == 1 and not o.needs_review


def test_a_total_stated_before_its_terms_is_the_answer():
    o = grade("The total parameters of the network are 903.400, because first conv has 2.800, "
              "second 180.200\n"
              "and the third 720.400 (we don't forget the bias).")["params"]
    assert o.credit == 1 and found(o) == "903.400"


def test_an_amount_after_the_weights_goes_on_about_the_part_of_its_paragraph():
    out = grade("Params: 28×100 + 901×200 + 1801×400 = 903400.\n\nFor one prediction I keep two layers, "
                "6 MB + 3 MB = 9 MB. Then the weights must be in RAM too (903,400 x 4 = 3,613,600 bytes), "
                "so we end up at roughly 12.6 MB.\n\nWith 50 images I need 50 × 10.52 MB of activations = "
                "526 MB, plus 50 × 0.72 MB for the input\npictures = 36 MB, plus the weights once "
                "→ 565.6 MB.")
    assert credits(out) == [1, 1, 1] and found(out["ram_batch"]) == "565.6 MB"


@pytest.mark.parametrize("text, part", [
    ("903,400 params. Inference: 12.6 MB. Training with a batch of 50: activations 526 MB + inputs 36 MB + "
     "weights 3.6 MB, plus the gradients (3.6 MB) and Adam's two moments (7.2 MB) → ≈ 576.4 MB.",
     "ram_batch"),
    ("Params: 903,400. With floor((n - k)/s) + 1 the maps are 99x149x100, 49x74x200, 24x36x400; one "
     "prediction keeps conv1 + conv2 and the weights: 12.41 MB. Batch of 50: 548.8 MB.", "ram_prediction"),
])
def test_a_figure_a_few_percent_off_an_accepted_one_earns_nothing_but_is_flagged(text, part):
    o = grade(text)[part]
    assert o.credit == 0 and o.needs_review


def test_short_notes_one_amount_a_line_are_separate_statements():
    out = grade("total: 903,400 parameters\nprediction needs 12.6 MB of memory\n"
                "batch of fifty needs 565.6 MB")
    assert credits(out) == [1, 1, 1] and found(out["ram_prediction"]) == "12.6 MB"


def test_a_printed_list_is_data_not_rival_answers():
    code = ("n_params = 903400\nsizes = [1500000, 750000, 380000]\nprint(n_params)\nprint(sizes)\n"
            "# output:\n# 903400\n# [1500000, 750000, 380000]\n# prediction: 12.61 MB\n# batch: 565.61 MB\n")
    out = grade("My cell and its output:", code=code)
    assert credits(out) == [1, 1, 1] and not out["params"].needs_review


def test_an_ipython_console_out_value_takes_the_unit_its_input_scales_bytes_to():
    out = grade("In [3]: total_params\nOut[3]: 903400\n\nIn [4]: (2250000 + total_params) * 4 / 1e6\n"
                "Out[4]: 12.6136\n\nIn [5]: (50 * 2810000 + total_params) * 4 / 1e6\nOut[5]: 565.6136")
    assert credits(out) == [1, 1, 1] and found(out["ram_batch"]) == "565.6136 MB"


def test_a_bare_output_line_printed_by_an_f_string_takes_the_name():
    code = ("layers = [(3, 100), (100, 200), (200, 400)]\nn = 0\nfor cin, cout in layers:\n"
            "    n += (9 * cin + 1) * cout\ntotal_params = n\nprint(f'{total_params:,}')\n"
            "# output:\n# 903,400\n")
    o = grade("Parameters from my code (output under it). RAM: 12.6 MB per image, 565.6 MB per batch of 50.",
              code=code)["params"]
    assert o.credit == 1 and found(o) == "903,400"


def test_latex_display_delimiters_are_read_like_dollars():
    out = grade("Total parameters: \\[ 2800 + 180200 + 720400 = 903{,}400 \\]\n"
                "One prediction: \\( (1.5\\times10^6 + 0.75\\times10^6 + 903400)\\times 4 "
                "\\approx 12.6\\text{ MB} \\)\n"
                "Batch of 50: \\[ \\approx 565.6\\text{ MB} \\]")
    assert credits(out) == [1, 1, 1] and found(out["params"]) == "903,400"


@pytest.mark.parametrize("text", [
    "المجموع = ٩٠٣٬٤٠٠ معامل\nالذاكرة عند التنبؤ بصورة واحدة: ١٢٫٦ ميغابايت\n"
    "عند التدريب على دفعة من ٥٠ صورة: ٥٦٥٫٦ ميغابايت",
    "参数总数：９０３４００\n单张图片预测内存：１２．６ MB\n训练批量（５０张）：５６５．６ MB",
])
def test_eastern_arabic_and_full_width_digits_are_digits(text):
    assert credits(grade(text)) == [1, 1, 1]


def test_per_layer_terms_and_an_amount_said_of_one_layer_are_not_the_totals():
    out = grade("Each filter of layer 1 has 3*3*3 weights and a bias, 28 in all, and there are 100 filters: "
                "2,800. Layer 2 has 200 filters of 901: 180,200. Layer 3 has 400 of 1,801: 720,400. That is "
                "903,400 parameters in total.\n\nDuring a prediction the first layer's output (6 MB) and the "
                "second's (3 MB) coexist; adding the 3.6 MB of parameters I get 12.6 MB, the peak. The third "
                "layer is only 1.52 MB so it never matters.\n\nFor training every output stays: 526 MB for "
                "the "
                "batch of 50, the inputs add 36 MB; with the weights that makes 565.6 MB.")
    assert credits(out) == [1, 1, 1] and found(out["params"]) == "903,400"


def test_it_is_and_i_get_state_the_amount_after_the_working():
    out = grade("Sum: 903 400 parameters.\nPrediction memory: conv1 holds 6 MB, conv2 adds 3 MB; conv1 can "
                "go once conv2 is done, so the peak is 9 MB of maps. With the parameters (3.61 MB) it is "
                "about 12.6 MB.\nTraining memory: 50 × (6 + 3 + 1.52 + 0.72) MB + 3.6 MB = 565.6 MB.")
    assert found(out["ram_prediction"]) == "12.6 MB" and out["ram_prediction"].credit == 1


def test_a_closing_table_that_contradicts_a_labelled_line_is_no_single_answer():
    o = grade("Params: 903,400.\nPrediction: two layers plus weights, 12.6 MB.\nBatch of 50: 565.6 MB.\n\n"
              "| part | answer |\n|---|---|\n| params | 903,400 |\n| prediction | 9 MB |\n"
              "| batch | 565.6 MB |")["ram_prediction"]
    assert o.credit == 0 and o.needs_review


def test_a_second_count_offered_in_an_or_aside_is_no_single_answer():
    o = grade("nb of params = 903 400 (or 902 700 when conv layers got no bias, idk which one u want)\n"
              "predict ram ~ 14.1 MB, train (50 imgs) ~ 565.6 MB")["params"]
    assert o.credit == 0 and o.needs_review


def test_the_questions_own_numbers_in_an_unrun_formula_are_no_parameter_count():
    o = grade("```python\nn = (3*3*3+1)*100 + (3*3*100+1)*200 + (3*3*200+1)*400\nprint(n)\n```")["params"]
    assert o.credit == 0 and found(o) is None


def test_an_update_that_multiplies_by_the_batch_size_replaces_the_batch_figure():
    out = grade("params 903,400\nprediction = 14.13 MB (all outputs + weights)\n"
                "training 50 imgs = 565.6 MB\n\nUPDATE: actually the training is just fifty times the "
                "prediction, hence 50 x 14.13 = 706.7 MB")
    assert credits(out) == [1, 1, 0]
    assert found(out["ram_prediction"]) == "14.13 MB" and found(out["ram_batch"]) == "706.7 MB"


def test_one_amount_per_condition_is_a_list_of_conventions_not_an_answer():
    o = grade("Total params 903400.\nOne image inference: depends, 9 MB if only the two biggest maps "
              "count, 12.6 MB when the weights are added; or 14.1 MB if nothing gets freed.\n"
              "Batch 50: 565.6 MB")["ram_prediction"]
    assert o.credit == 0 and o.needs_review


def test_a_summary_that_contradicts_the_working_total_is_no_single_answer():
    o = grade("Params = 2800 + 180200 + 720400 = 903400\nFeature maps one image: 10,520,000 bytes\n"
              "Weights: 903,400 x 4 = 3,613,600 bytes\nTotal = 14,133,600 bytes = 14.13 MB\n"
              "Batch: 50 x 11,240,000 + 3,613,600 = 565,613,600 bytes\n\n"
              "Answer: 903,400 params, roughly 10.5 MB to predict, 565.6 MB for the batch.")["ram_prediction"]
    assert o.credit == 0 and o.needs_review


def test_english_a_lot_more_is_no_french_batch_cue():
    o = grade("903,400 parameters.\nOne prediction: 6 MB + 3 MB + 3.61 MB of weights = 12.61 MB.\n"
              "Training on 50 pictures keeps all maps, 50 × 10.52 MB = 526 MB, and the inputs are 36 MB. "
              "Adding the weights we get about 565.61 MB, and really a lot more with the overhead."
              )["ram_batch"]
    assert o.credit == 1 and found(o) == "565.61 MB"


def test_a_labelled_count_stays_the_answer_over_a_later_sum_of_values():
    o = grade("params = 903,400\nvalues for one image = 2,630,000 (activations) + 903,400 (weights) = "
              "3,533,400\nso RAM predict = 3,533,400 * 4 bytes = 14.13 MB")["params"]
    assert o.credit == 1 and found(o) == "903,400"


def test_a_header_line_leads_into_every_line_of_its_block():
    o = grade("params: 2800 + 180200 + 720400 = 903400\n\nmemory for 1 image:\n"
              "  conv1 100*150*100*4 = 6,000,000 B\n  conv2 50*75*200*4 = 3,000,000 B\n"
              "  conv3 25*38*400*4 = 1,520,000 B\n"
              "  sum = 10,520,000 B = 10.52 MB\n")["ram_prediction"]
    assert found(o) == "10.52 MB" and o.credit == 0.5


def test_terms_summed_then_times_four_in_prose_hold_without_brackets():
    o = grade("params = 903,400\nmem for a prediction: layer outputs 1 500 000 + 750 000 + 380 000 "
              "numbers x 4 bytes\n= 10.52 MB")["ram_prediction"]
    assert o.credit == 0.5 and "parameters-not-counted" in [d.code for d in o.diagnoses]


def test_a_formula_in_code_never_run_is_no_answer_but_a_human_looks():
    out = grade("```python\nn_params = (27+1)*100 + (900+1)*200 + (1800+1)*400\n"
                "ram_one = (1500000 + 750000 + 380000 + n_params) * 4 / 1e6\nprint(n_params, ram_one)\n```")
    assert all(o.credit == 0 and o.needs_review for o in (out["params"], out["ram_prediction"]))


def test_a_wrong_count_carried_far_off_is_one_slip_carried_and_flagged():
    # rule (d): right from the student's own count, but 7,000 parameters put 9.03 MB far off 12.6 MB:
    # charged once on the count, partial on the RAM, for a TA to confirm
    out = grade("each filter 3x3 -> 9 weights + 1 bias, so 10 params/filter\n"
                "100*10 + 200*10 + 400*10 = 7,000 params total\n\n"
                "prediction: maps of layer 1+2 = (1,500,000+750,000)*4 B = 9 MB, params 7000*4 = 28 KB "
                "-> about 9.03 MB\n"
                "training 50 images: 50 x (10.52 + 0.72) MB + 0.028 MB = 562.03 MB")
    o = out["ram_prediction"]
    assert out["params"].credit == 0
    assert o.credit == 0.5 and o.needs_review and "parameter-count-carried" in {d.code for d in o.diagnoses}
    # the batch adds the student's 28 KB of parameters: within rounding of 565.6 MB, not 'without
    # the parameters' (562.0 MB)
    assert out["ram_batch"].credit == 1


def test_a_count_that_rejects_the_right_one_earns_nothing_carried():
    out = grade("The total is not 903,400; my final count is 9,027,000 parameters.\n"
                "That is 36.1 MB of weights, so one prediction needs 36.1 MB + 10.5 MB = 46.6 MB.")
    assert out["params"].credit == 0
    assert out["ram_prediction"].credit == 0 and out["ram_prediction"].needs_review


def test_a_sum_slip_carried_within_rounding_is_not_charged_again():
    out = grade("Paramètres : 2 800 + 180 200 + 720 400 = 930 400.\n"
                "Prédiction : 6 Mo + 3 Mo + 930 400 × 4 octets = 3,72 Mo, donc au moins 12,72 Mo.")
    assert out["params"].credit == 0.5
    assert out["ram_prediction"].credit == 1 and not out["ram_prediction"].needs_review


def test_the_paragraph_total_after_a_list_of_layer_sizes_answers_the_part():
    # the cue ('RAM bei einer Vorhersage') heads a list of per-layer sizes; the paragraph's working
    # ends on the total, and the listed sizes are terms, not a second answer
    text = ("**RAM bei einer Vorhersage:** Ausgaben 150×100×100, 75×50×200 und 38×25×400 Werte,\n"
            "also 6 MB, 3 MB und 1,52 MB. Man braucht zwei Schichten gleichzeitig (9 MB) plus die\n"
            "Parameter (3,6 MB): ca. 12,6 MB.\n")
    o = grade("Gesamt: 903.400 Parameter.\n\n" + text)["ram_prediction"]
    assert found(o) == "12,6 MB" and o.credit == 1 and not o.needs_review


def test_a_line_wrapped_inside_parentheses_keeps_its_terms_in_them():
    o = grade("Total parameter = 903.400.\n\nRAM untuk prediksi satu gambar ≈ 12,6 MB (feature map "
              "lapisan 1 dan 2 = 9 MB, ditambah\nparameter 3,6 MB).")["ram_prediction"]
    assert found(o) == "12,6 MB" and o.credit == 1


def test_a_mib_batch_is_accepted_not_taken_for_the_input_in_values():
    # 539.4 MiB (= 565.6 MB) lies near 538.6 MB (input counted in values) only when read as decimal MB
    out = grade("parameters = 903400\nprediction: (9,000,000 + 3,613,600) bytes = 12.03 MiB\n"
                "training on 50 images: 565,613,600 bytes ~ 539.4 MiB")
    assert out["ram_batch"].credit == 1


def test_mb_with_1024_stated_is_read_as_mib():
    out = grade("Parameters: 903,400\n\n(I use 1 MB = 1024*1024 bytes)\n"
                "Prediction: 9,000,000 + 3,613,600 = 12,613,600 bytes / 1024^2 = 12.03 MB\n"
                "Batch: 50*(10,520,000 + 720,000) + 3,613,600 = 565,613,600 bytes / 1024^2 = 539.4 MB")
    assert out["ram_prediction"].credit == 1 and out["ram_batch"].credit == 1
    # the same figure with no sign of 1024 anywhere is the input counted in values: partial
    plain = grade("Parameters: 903,400. Batch: 50*(10.52 MB + 0.18 MB) + 3.6 MB = 538.6 MB")["ram_batch"]
    assert plain.credit == 0.5


def test_three_conventions_each_with_its_aside_are_a_list_not_one_answer():
    o = grade("Total parameters: 903,400.\n\nRAM to predict one image, depends what you count: "
              "9 MB (only the two big layers), 12.6 MB (plus weights) or 14.1 MB (all layers kept). "
              "Any could be right.")["ram_prediction"]
    assert o.credit == 0 and o.needs_review


def test_full_width_parentheses_hold_the_working_not_the_answer():
    o = grade("参数总数：903,400\n"
              "50 张图片训练：约 565.6 MB（50 × 10.52 MB + 输入 36 MB + 参数 3.6 MB）")["ram_batch"]
    assert found(o) == "565.6 MB" and o.credit == 1


def test_a_decimal_working_reads_its_batch_in_decimal_mb():
    # one-channel inputs (12 MB for 36 MB): 541.6 MB is the slip, not 541.6 MiB ≈ 567.9 MB by chance
    out = grade("I take the input as grayscale (200 x 300).\n"
                "Params: (3*3*1+1)*100 + (3*3*100+1)*200 + (3*3*200+1)*400 = 901,600.\n"
                "Prediction RAM: 9 MB (conv1 + conv2) + 901,600*4 B = 3.6 MB → 12.6 MB.\n"
                "Training RAM: 50*10.52 MB = 526 MB, inputs 50*200*300*4 B = 12 MB, params 3.6 MB "
                "→ 541.6 MB.")
    assert out["params"].credit == 0  # rule (c): a grayscale count is a wrong method
    assert out["ram_batch"].credit == 0.5
    assert "input-channels-missing" in {d.code for d in out["ram_batch"].diagnoses}


def test_mb_figures_that_only_fit_as_mib_make_the_answer_binary():
    out = grade("903,400 parameters\n2 layers at a time + weights: 12,613,600 B ≈ 12.03 MB\n"
                "times 50 plus the input images: ≈ 539.4 MB")
    assert out["ram_batch"].credit == 1


def test_one_significant_digit_near_the_batch_is_flagged_not_credited():
    out = grade("903,400 parameters. About 13 MB to predict one image, training with 50 images "
                "roughly 0.5 GB.")
    assert out["ram_prediction"].credit == 1  # two digits, 3 % off: a rounding a TA accepts
    assert out["ram_batch"].credit == 0 and out["ram_batch"].needs_review


def test_jupyter_out_cells_take_the_count_that_is_multiplied_by_four():
    out = grade("In [5]: (3*3*3+1)*100 + (3*3*100+1)*200 + (3*3*200+1)*400\nOut[5]: 903400\n\n"
                "In [6]: (100*150*100 + 50*75*200)*4 + 903400*4\nOut[6]: 12613600\n\n"
                "so ~12.6 MB for one prediction")
    assert found(out["params"]) == "903400" and out["params"].credit == 1


def test_a_sum_of_activations_before_the_params_is_no_parameter_count():
    out = grade("params: 2800 + 180200 + 720400 = 903400\n"
                "one instance: layer1 + layer2 outputs = 1,500,000 + 750,000 = 2,250,000, "
                "plus 903,400 params\n"
                "-> 3,153,400 bytes ≈ 3.15 MB")
    assert found(out["params"]) == "903400" and out["params"].credit == 1
    assert out["ram_prediction"].credit == 0  # the values without their 4 bytes


def test_a_layer_count_in_a_sentence_headed_total_is_a_term_not_a_second_total():
    # Indonesian 'Jumlah' (total) heads the per-layer counts; the last of them is no rival answer
    out = grade("Jumlah parameter: lapisan 1 = (3x3x3+1)x100 = 2.800, "
                "lapisan 2 = (3x3x100+1)x200 = 180.200,\n"
                "lapisan 3 = (3x3x200+1)x400 = 720.400. Total parameter = 903.400.")
    assert found(out["params"]) == "903.400" and out["params"].credit == 1 and not out["params"].needs_review


def test_a_total_stated_first_and_then_explained_by_its_terms_is_the_answer():
    out = grade("903,400 parameters.\n"
                "RAM for one prediction is 12.6 MB: 9 MB for two layers and 3.6 MB of weights.\n"
                "Training with 50 images needs 565.6 MB: 526 MB activations, 36 MB inputs, 3.6 MB weights.")
    assert found(out["ram_prediction"]) == "12.6 MB" and out["ram_prediction"].credit == 1
    assert found(out["ram_batch"]) == "565.6 MB" and out["ram_batch"].credit == 1


def test_a_component_named_after_the_total_of_its_sentence_is_not_the_answer():
    out = grade("Parameters: 903,400\nPrediction: 12.6 MB\n"
                "Batch: total 565.6 MB, of which the input images are 36 MB")
    assert found(out["ram_batch"]) == "565.6 MB" and out["ram_batch"].credit == 1


def test_ram_figures_without_a_unit_go_to_a_ta():
    out = grade("params = 903400\npred = 12.6\nbatch = 565.6")
    assert out["params"].credit == 1
    for part in ("ram_prediction", "ram_batch"):
        assert out[part].credit == 0 and out[part].needs_review


def test_a_range_with_its_unit_written_once_is_no_single_answer():
    o = grade("903,400 params; 12.6 MB for one image; the batch needs between 530 and 570 MB")["ram_batch"]
    assert o.credit == 0 and o.needs_review


def test_a_tiny_wrong_count_added_into_the_batch_is_carried_within_rounding():
    # rule (d): the working adds the student's own 28 KB of parameters, so 562.03 MB is not the
    # batch without its parameters (562.0 MB) but the count's slip, within 3 % of 565.6 MB
    out = grade("Each filter 3x3 plus one bias: 10 parameters, so "
                "100*10 + 200*10 + 400*10 = 7,000 parameters.\n"
                "Training RAM: 50 * 10.52 MB + 36 MB of inputs + 28 KB ≈ 562.03 MB.")
    assert out["params"].credit == 0 and out["ram_batch"].credit == 1


def test_a_tiny_wrong_count_left_out_of_the_batch_is_still_an_omission():
    out = grade("Each filter 3x3 plus one bias: 10 parameters, so "
                "100*10 + 200*10 + 400*10 = 7,000 parameters.\n"
                "Training RAM: 50 * 10.52 MB + 36 MB of inputs ≈ 562 MB.")
    assert out["ram_batch"].credit == 0.5


def test_amounts_about_the_hardware_or_another_precision_are_asides():
    out = grade("903,400 params.\nPrediction: 12.6 MB, which easily fits on a 16 GB GPU.\n"
                "training: 565.6 MB, but TensorFlow itself uses about 2 GB anyway")
    assert found(out["ram_prediction"]) == "12.6 MB" and out["ram_prediction"].credit == 1
    assert found(out["ram_batch"]) == "565.6 MB" and out["ram_batch"].credit == 1
    o = grade("params 903,400\none prediction needs 12.6 MB; with 64-bit floats it doubles to 25.2 MB")
    assert found(o["ram_prediction"]) == "12.6 MB"


def test_a_larger_later_amount_concludes_only_after_a_conclusion_sign():
    # 'ca.' after ':' concludes the paragraph's working; a later figure in passing does not
    o = grade("903,400 params\n\nRAM for one image: maps 6 MB, 3 MB and 1.52 MB. Two at once (9 MB) plus "
              "weights (3.6 MB): ca. 12.6 MB.")["ram_prediction"]
    assert found(o) == "12.6 MB"


def test_amounts_added_up_with_no_result_go_to_a_ta():
    out = grade("903,400 params. Prediction: 9 MB + 3.6 MB. Batch: 526 MB + 36 MB + 3.6 MB.")
    for part in ("ram_prediction", "ram_batch"):
        assert out[part].credit == 0 and out[part].needs_review


def test_a_struck_through_value_is_retracted_even_when_it_is_the_right_one():
    out = grade("Params ~~903,400~~ 902,700 (biases are not weights, I think). Prediction 12.6 MB.")
    assert found(out["params"]) == "902,700" and out["params"].credit == 0


def test_alternatives_with_the_unit_written_once_are_a_shotgun():
    out = grade("903,400 or 902,700 params; 9, 12.6 or 14.1 MB; 526, 562 or 565.6 MB")
    for part in ("params", "ram_prediction", "ram_batch"):
        assert out[part].credit == 0 and out[part].needs_review
    # two accepted conventions offered together stay one right answer
    assert grade("903,400 params; 12.6 or 14.1 MB per image, depending on freeing; batch 565.6 MB")[
        "ram_prediction"].credit == 1


def test_the_right_digits_under_another_prefix_go_to_a_ta():
    out = grade("903,400 params; prediction 12.6 KB; batch 565.6 KB")
    assert out["ram_prediction"].credit == 0 and out["ram_prediction"].needs_review
    assert out["ram_batch"].credit == 0 and out["ram_batch"].needs_review


def test_a_value_written_negative_earns_nothing_and_goes_to_a_ta():
    out = grade("params: -903400\nram_prediction: −14133600 bytes\nram_batch: 565613600 bytes")
    assert out["params"].credit == 0 and out["params"].needs_review
    assert out["ram_prediction"].credit == 0 and out["ram_prediction"].needs_review
    assert out["ram_batch"].credit == 1


def test_a_subtraction_is_no_minus_sign():
    out = grade("Parameters: 903,400.\nPrediction: 14.1 MB - 1.5 MB = 12.6 MB.\n"
                "Batch of 50: 565.6 MB.")
    assert out["ram_prediction"].credit == 1 and out["params"].credit == 1


def test_an_answer_line_whose_sentence_wraps_keeps_its_total():
    out = grade("**Answer (parameters):** the three layers have 2,800, 180,200 and 720,400 parameters,"
                " for a\ntotal of **903,400**.\n\n**Answer (prediction):** about **12.6 MB**.")
    assert found(out["params"]) == "903,400" and out["params"].credit == 1


def test_a_count_in_millions_written_in_another_language():
    for words in ("unos 0,9 millones de parámetros en total", "etwa 0,9 Millionen Parameter insgesamt",
                  "cerca de 0,9 milhões de parâmetros no total"):
        out = grade(f"Capa 1: 2.800; capa 2: 180.200; capa 3: 720.400, o sea {words}.")
        assert out["params"].credit == 1, words


def test_per_layer_counts_never_totalled_are_no_answer_and_go_to_a_ta():
    out = grade("layer 1: 3x3x3 kernels, 100 maps -> 2,800 params\n"
                "layer 2: 3x3x100 kernels, 200 maps -> 180,200 params\n"
                "layer 3: 3x3x200 kernels, 400 maps -> 720,400 params\n")
    o = out["params"]
    assert o.credit == 0 and o.needs_review and "per-layer-not-totalled" in {d.code for d in o.diagnoses}


def test_persian_digits_and_words_are_read():
    out = grade("تعداد کل پارامترها: ۲٬۸۰۰ + ۱۸۰٬۲۰۰ + ۷۲۰٬۴۰۰ = ۹۰۳٬۴۰۰\n"
                "حافظه برای پیش‌بینی یک نمونه: نقشه‌ها 10.52 مگابایت + وزن‌ها 3.61 مگابایت ≈ 14.1 مگابایت\n"
                "حافظه برای آموزش با دسته‌ی ۵۰تایی: حدود 566 مگابایت")
    assert [out[p].credit for p in ("params", "ram_prediction", "ram_batch")] == [1, 1, 1]


def test_a_count_in_wan_is_read():
    out = grade("参数总数：2800 + 180200 + 720400 = 90.34万")
    assert out["params"].credit == 1


def test_thai_parts_named_in_their_own_clause():
    out = grade("หน่วยความจำสำหรับทำนาย 1 ภาพ: feature maps 10.52 MB + น้ำหนัก 3.61 MB ≈ 14.13 MB\n"
                "สำหรับการฝึกด้วย mini-batch 50 ภาพ: 50 × (10.52 + 0.72) MB + 3.61 MB ≈ 565.6 MB")
    assert out["ram_prediction"].credit == 1 and out["ram_batch"].credit == 1


def test_bytes_with_a_dot_in_a_european_answer_group_digits():
    out = grade("Parameter: 2.800 + 180.200 + 720.400 = 903.400\n"
                "Vorhersage: 4 · (1.500.000 + 750.000) Byte + 4 · 903.400 Byte = 12.613.600 Byte")
    assert out["ram_prediction"].credit == 1


def test_a_figure_the_student_takes_back_with_wait_no_is_not_the_answer():
    out = grade("params: 903,400\npredicting one image: 12.6 MB\n"
                "batch of 50: so 50 × 12.6 = 630 MB, wait, no, that multiplies the weights 50 times;\n"
                "50 × 10.52 MB + 50 × 0.72 MB (images) + 3.6 MB = 565.6 MB.")
    assert found(out["ram_batch"]) == "565.6 MB" and out["ram_batch"].credit == 1


def test_a_batch_with_gradients_but_no_input_images_is_the_omission_slip():
    out = grade("params = 903,400 -> 3.61 MB of weights\n"
                "train on 50: maps 50 x 10.52 = 526 MB, weights 3.61 MB, gradients 3.61 MB -> 533.2 MB")
    o = out["ram_batch"]
    assert o.credit == 0.5 and "inputs-not-counted" in {d.code for d in o.diagnoses}


def test_the_italian_word_for_a_prediction_names_the_part():
    out = grade("Totale: 903.400 parametri.\n"
                "Per una predizione bastano due strati alla volta: 6 + 3 = 9 MB, più i pesi\n"
                "903.400*4 = 3,6 MB, quindi circa 12,6 MB.")
    assert found(out["ram_prediction"]) == "12,6 MB" and out["ram_prediction"].credit == 1


def test_a_count_on_its_labelled_line_beats_a_larger_sum_of_values_later():
    out = grade("Parameters: 903,400.\n"
                "Numbers to store for one image: 1,500,000 + 750,000 + 380,000 = 2,630,000 activations,"
                " plus\n"
                "903,400 weights = 3,533,400, so about 3.53 MB of RAM.")
    assert found(out["params"]) == "903,400" and out["params"].credit == 1


def test_a_squared_1024_in_a_conversion_is_a_product():
    out = grade("Total parameters: 903,400.\nTraining on 50: 565,613,600 B / 1024² = 539.4 MB.")
    assert out["ram_batch"].credit == 1


def test_the_batch_size_before_an_amount_with_a_decimal_comma_is_not_its_digit_group():
    out = grade("parameters 903 400\none instance (input + all maps + weights) 14,85 MB\n"
                "batch of 50 565,61 MB")
    assert out["ram_batch"].credit == 1
    # a real space-grouped amount stays one number
    assert grade("Parameter: 903 400\nTraining (Batch): 565 613,6 KB")["ram_batch"].credit == 1


def test_a_symbol_defined_with_a_label_carries_it_to_its_numbers():
    out = grade("Parameters: N = sum over layers of (k*k*c_in + 1) * c_out\n"
                "Memory for one instance: M = 4 * (maps + N) bytes\n\nWith numbers:\n"
                "N = 2,800 + 180,200 + 720,400 = 903,400\n"
                "M = 4 * (2,630,000 + 903,400) = 14,133,600 bytes ≈ 14.1 MB")
    assert found(out["params"]) == "903,400" and out["params"].credit == 1


def test_an_ipython_console_pasted_as_text_gives_each_out_its_unit():
    out = grade("In [3]: (3*3*3+1)*100 + (3*3*100+1)*200 + (3*3*200+1)*400\nOut[3]: 903400\n\n"
                "In [4]: (4*(100*150*100 + 50*75*200 + 25*38*400) + 4*903400) / 1e6\nOut[4]: 14.1336\n\n"
                "In [5]: 50*4*(100*150*100 + 50*75*200 + 25*38*400 + 200*300*3) + 4*903400\n"
                "Out[5]: 565613600")
    assert [out[p].credit for p in ("params", "ram_prediction", "ram_batch")] == [1, 1, 1]


@pytest.mark.parametrize("heads", [("**Part 1**", "**Part 2**", "**Part 3**"),
                                   ("Q2.1", "Q2.2", "Q2.3"),
                                   ("#### (i)", "#### (ii)", "#### (iii)"),
                                   ("## a) how many weights", "## b) memory, inference",
                                    "## c) memory, training")])
def test_a_sub_question_header_scopes_its_block_to_its_part(heads):
    out = grade(f"{heads[0]}\n\nconv1 2800, conv2 180200, conv3 720400\n\nsum: 903400\n\n"
                f"{heads[1]}\n\nonly 2 layers alive at a time: 6 MB + 3 MB = 9 MB\n\n"
                "with the weights (3.6 MB) that is 12.6 MB\n\n"
                f"{heads[2]}\n\nkeep every map: 50 x 10.52 MB = 526 MB\n\ninput 36 MB, weights 3.6 MB\n\n"
                "=> 565.6 MB")
    figures = [found(out[p]) for p in ("params", "ram_prediction", "ram_batch")]
    assert figures == ["903400", "12.6 MB", "565.6 MB"]
    assert [out[p].credit for p in ("params", "ram_prediction", "ram_batch")] == [1, 1, 1]


def test_a_lone_letter_in_prose_scopes_nothing():
    out = grade("a) I think the params are 903,400.\n"
                "RAM for one prediction: 12.6 MB, for 50 images 565.6 MB.")
    assert [out[p].credit for p in ("params", "ram_prediction", "ram_batch")] == [1, 1, 1]


def test_a_unit_suffix_of_a_printed_name_is_the_unit_of_its_output():
    out = grade("```py\ntotal = 2800 + 180200 + 720400\ninfer_MB = (1.5e6 + 0.75e6 + total) * 4 / 1e6\n"
                "train_gb = (50 * 2.63e6 + 50 * 180000 + total) * 4 / 1e9\n"
                "print(f'{total:,}')\nprint(f'{infer_MB:.1f}')\nprint(f'{train_gb:.3f}')\n```\n"
                "output:\n```\n903,400\n12.6\n0.566\n```")
    assert [found(out[p]) for p in ("ram_prediction", "ram_batch")] == ["12.6 MB", "0.566 GB"]
    assert [out[p].credit for p in ("params", "ram_prediction", "ram_batch")] == [1, 1, 1]


def test_a_header_with_its_answer_on_the_same_line_still_scopes_the_part():
    out = grade("(a) 903400\n\n(b)\nmaps 1 and 2: 1,500,000 + 750,000 = 2,250,000 values\n"
                "4 bytes each, plus 903,400 weights -> 12,613,600 B ≈ 12.6 MB\n\n"
                "(c) 50·(2,630,000 + 180,000)·4 + 903,400·4 = 565,613,600 B ≈ 565.6 MB")
    assert found(out["params"]) == "903400"
    assert [out[p].credit for p in ("params", "ram_prediction", "ram_batch")] == [1, 1, 1]


def test_under_a_memory_header_an_amount_next_to_the_weights_answers_that_part():
    out = grade("**Q2.1**\n2800 + 180200 + 720400 = 903400\n\n**Q2.2**\n"
                "weights 903400*4 B = 3.61 MB; the 2 biggest maps 9 MB -> ~12.61 MB\n\n"
                "**Q2.3**\n526 MB + 36 MB + 3.61 MB = 565.61 MB")
    assert found(out["ram_prediction"]) == "12.61 MB" and out["ram_prediction"].credit == 1


def test_a_header_line_that_works_out_another_part_is_named_by_its_position():
    out = grade("__(i)__ 903400 parameters (2800+180200+720400)\n\n"
                "__(ii)__ conv1+conv2 outputs + weights = 3153400 floats.\n"
                "Bytes: 12613600 B = 12.03 MiB\n\n"
                "__(iii)__ 141403400 floats x 4 B = 565613600 B = 539.41 MiB")
    assert found(out["params"]) == "903400" and out["params"].credit == 1


def test_the_close_of_a_sub_question_mark_opens_no_aside():
    out = grade("1) 903400 parameters in total (2800 / 180200 / 720400 for the 3 convs)\n\n"
                "2) one image: 14.1 MB\n\n3) 50 images: 565.6 MB")
    assert found(out["params"]) == "903400" and out["params"].credit == 1
