"""Free text that games a keyword matcher (issue 13): keyword and shotgun lists, negation,
contrast, credit from the wrong subject, misconceptions mentioned but not asserted, answers
in another language. Static: no notebook, no kernel."""

from __future__ import annotations

import pytest

from grader.textlang import guess_language
from grader.textunits import is_bare
from tests.freetext_support import RUBRIC, concepts, grade


def flagged(g) -> bool:
    return g.confidence < RUBRIC.review_threshold


# four of the rubric's own terms per question: what earned 50/50 at confidence 1.0 before
KEYWORD_LISTS = {
    "q1": "weight sharing, translation invariance, local receptive fields, feature hierarchy",
    "q3": "smaller batch size, fp16, pooling layers, multiple GPUs, gradient checkpointing",
    "q4": "no parameters, less computation, translation invariance, strongest activation",
    "q5": "lateral inhibition, neighbouring feature maps, specialization, AlexNet ReLU",
    "q6": "inception module, skip connections, squeeze excitation, depthwise separable convolution",
    "q7": "only convolutional layers, any input size, per-pixel output, kernel size = input size",
    "q8": "spatial resolution loss, per-pixel classification, upsampling, skip connections",
}


@pytest.mark.parametrize("question", sorted(KEYWORD_LISTS))
def test_a_bare_keyword_list_earns_a_small_share_and_is_flagged(question):
    g = grade(question, KEYWORD_LISTS[question])
    assert g.score <= 0.25 * g.points, (g.score, g.matches)
    assert g.keyword_list and flagged(g)


@pytest.mark.parametrize("question", sorted(KEYWORD_LISTS))
def test_the_same_list_as_bullets_earns_no_more(question):
    bullets = "\n".join(f"- {term.strip()}" for term in KEYWORD_LISTS[question].split(","))
    g = grade(question, bullets)
    assert g.score < g.points and flagged(g), (g.score, g.matches)


@pytest.mark.parametrize("text", [
    "- no params\n- less compute\n- translation invariance",
    "* zero weights\n* less compute\n* shift invariance",
])
def test_a_verb_form_after_a_quantity_word_is_a_noun_in_a_bullet_list(text):
    # "less compute", "more use": terms, so the bullets stay a keyword list (not 6/6 at conf 1.0)
    g = grade("q4", text)
    assert g.keyword_list and g.score <= 0.25 * g.points and flagged(g), (g.score, g.matches)


def test_terms_set_equal_in_a_semicolon_list_are_still_a_keyword_list():
    g = grade("q7", "no dense layers; arbitrary input size; kernel = input map size; filters = units")
    assert g.score <= 0.25 * g.points and g.keyword_list and flagged(g), (g.score, g.matches)
    # one explained conversion is a statement, not a list of terms
    g = grade("q7", "Replace the dense layer by a conv layer whose kernel = the size of its input maps.")
    assert not g.keyword_list


def test_a_hidden_keyword_list_leaked_into_the_text_adds_at_most_the_small_share():
    # The locator (issue 11, wt11) drops HTML comments, display:none and white text before
    # grading; this is the text it would hand over if one slipped through: one real sentence
    # plus a hidden shotgun list. The list must not turn 3 points into full marks.
    real = "A CNN has far fewer parameters because its kernels are shared across the image."
    leaked = real + "\n<!-- translation invariance, spatial structure, receptive field, hierarchy, edges -->"
    base, g = grade("q1", real), grade("q1", leaked)
    assert base.score == 3
    assert g.score <= base.score + 0.25 * g.points and g.score < g.points
    assert flagged(g)


def test_statements_are_not_keyword_lists():
    assert not is_bare("- reduce the batch size")
    assert not is_bare("use fewer filters")
    assert not is_bare("AlexNet: ReLU, dropout", names_subject=True)
    assert not is_bare("weight sharing -> less params")
    assert is_bare("batch size, fp16, pooling, stride, multi-GPU")
    assert is_bare("parameter sharing")
    g = grade("q3", "- reduce the batch size\n- use float16\n- add pooling layers\n- remove some layers")
    assert g.score == 8 and not g.keyword_list


# ---- negation and contrast ------------------------------------------------------------------

@pytest.mark.parametrize(("question", "text", "concept"), [
    ("q4", "It is not true that pooling has no parameters, it still learns a little.", "no-weights"),
    ("q3", "Using float16 does not help with memory.", "lower-precision"),
    ("q3", "Using several GPUs is not possible for most students.", "distribute"),
    ("q1", "The CNN is not translation invariant, if the object moves the output changes.", "translation"),
    ("q7", "It still cannot take images of any size, the input size is fixed.", "any-size"),
])
def test_a_negated_or_rejected_point_earns_nothing(question, text, concept):
    assert concept not in concepts(grade(question, text))


def test_lrn_within_the_same_feature_map_is_the_opposite_of_lateral_inhibition():
    wrong = grade("q5", "Neighbouring neurons within the same feature map compete, the strongest "
                        "pixel suppresses the pixels around it.")
    right = grade("q5", "The strongest neuron inhibits the neurons at the same position in the "
                        "neighbouring feature maps.")
    assert "lateral-inhibition" not in concepts(wrong)
    assert "lateral-inhibition" in concepts(right)


# ---- attribution (Q6) -----------------------------------------------------------------------

def test_q6_credits_an_innovation_only_to_the_architecture_it_is_written_about():
    g = grade("q6", "GoogLeNet captures features at multiple scales by recalibrating how much each "
                    "filter size contributes inside its inception modules. ResNet adds skip connections.")
    assert {"googlenet", "resnet"} <= concepts(g)
    assert "senet" not in concepts(g)
    swapped = grade("q6", "Xception introduced the inception module. GoogLeNet uses depthwise "
                          "separable convolutions. ResNet has residual connections.")
    assert concepts(swapped) == {"resnet"}


def test_q6_a_name_after_a_preposition_is_an_object_not_a_new_subject():
    g = grade("q6", "SENet's blocks can be dropped into a VGG or an Inception net to reweight the channels.")
    assert "senet" in concepts(g) and "googlenet" not in concepts(g)
    # at the start of a sentence the name is the subject
    g = grade("q6", "In ResNet, skip connections let the gradient flow.")
    assert "resnet" in concepts(g)


def test_q6_terms_listed_under_each_name_are_attributed():
    g = grade("q6", "AlexNet:\n- ReLU\n- dropout\n- much deeper\nGoogLeNet:\n- inception modules\n"
                    "ResNet:\n- skip connections\nSENet:\n- SE blocks\n"
                    "Xception:\n- depthwise separable convs")
    assert g.score == 8 and not g.keyword_list, g.matches


def test_q6_a_comparison_does_not_change_the_subject():
    g = grade("q6", "AlexNet is much deeper than LeNet-5 and stacks convolutional layers directly.")
    assert "alexnet-depth" in concepts(g)


# ---- misconceptions: asserted, not mentioned ------------------------------------------------

def test_an_introductory_sentence_is_not_a_misconception():
    g = grade("q3", "Running out of memory is common, especially when working with large models. "
                    "Reduce the batch size.")
    assert g.misconceptions == []


@pytest.mark.parametrize(("question", "text", "code"), [
    ("q5", "You add LRN when training is unstable, because it reduces internal covariate shift.",
     "lrn-is-batchnorm"),
    ("q1", "A convolutional network doesn't really understand how the neighbouring pixels relate.",
     "cnn-ignores-neighbours"),
    ("q1", "A CNN doesn't care how the pixels are arranged.", "cnn-ignores-neighbours"),
    ("q1", "CNNs have more parameters than dense networks, which makes them powerful.", "cnn-more-params"),
])
def test_a_misconception_stated_in_other_words_is_deducted(question, text, code):
    assert code in [m["misconception"] for m in grade(question, text).misconceptions]


@pytest.mark.parametrize(("question", "text"), [
    ("q5", "It is a myth that LRN is the same as batch normalization."),
    ("q1", "Dense networks have more parameters than CNNs."),
    ("q3", "Some people think increasing the batch size saves memory, but it costs more."),
])
def test_a_misconception_mentioned_to_reject_it_is_not_deducted(question, text):
    assert grade(question, text).misconceptions == []


# ---- other languages ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "language"), [
    ("Una CNN tiene muchos menos parámetros porque comparte los pesos del kernel en toda la imagen.",
     "Spanish"),
    ("Das Netz verliert durch Pooling und Strides die räumliche Auflösung.", "German"),
    ("batch size kam karo, model mein layers kam karo, aur float16 use karo.", "Hindi (Latin script)"),
])
def test_an_answer_in_another_language_is_flagged_never_silently_low(text, language):
    g = grade("q1", text)
    assert g.language == language and flagged(g)
    assert any(language in r for r in g.reasons)


@pytest.mark.parametrize("text", [
    "In AlexNet after relu.", "fp16", "CNN is having less number of parameter because kernel is share.",
])
def test_short_or_non_native_english_stays_english(text):
    assert guess_language(text).english


# ---- where a negation or a misconception's excuse reaches (round 2) --------------------------

def test_a_negation_ends_with_its_clause():
    g = grade("q4", "Pooling has no weights so it is computationally cheaper.")
    assert {"no-weights", "cheaper"} <= concepts(g)


def test_words_on_both_sides_of_a_negation_are_no_match():
    g = grade("q3", "Reducing the image size does not help here, so I would reduce the batch size and use "
                    "mixed precision.")
    assert "downsample" not in concepts(g)
    assert {"smaller-batch", "lower-precision"} <= concepts(g)


def test_a_misconception_is_asserted_even_when_a_later_clause_has_a_negation():
    g = grade("q4", "Max pooling works as an activation function, like ReLU, so you don't need one.")
    assert "pooling-is-activation" in {m["misconception"] for m in g.misconceptions}
    g = grade("q4", "Max pooling is not an activation function; it keeps the maximum and has no weights.")
    assert "pooling-is-activation" not in {m["misconception"] for m in g.misconceptions}


def test_a_name_in_parentheses_does_not_take_over_the_sentence():
    g = grade("q6", "AlexNet was not the first CNN (LeNet-5 was), but it was much deeper and used ReLU.")
    assert {"alexnet-depth", "alexnet-tricks"} <= concepts(g)


@pytest.mark.parametrize(("question", "text", "misconception"), [
    ("q3", "Some suggest increasing the batch size, but that makes it worse.", "larger-batch-for-memory"),
    ("q4", "People often say pooling reduces the number of parameters, but it has none.",
     "pooling-reduces-params"),
])
def test_a_misconception_reported_as_what_others_say_is_not_asserted(question, text, misconception):
    g = grade(question, text)
    assert misconception not in {m["misconception"] for m in g.misconceptions}


def test_q8_resolution_lost_in_everyday_words_is_credited():
    g = grade("q8", "pooling kills the resolution")
    assert "resolution-loss" in concepts(g), g.matches
