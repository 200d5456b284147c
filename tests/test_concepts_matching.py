"""Phrase matching (grader.textmatch) and concept grading of single answers (no notebook)."""

from __future__ import annotations

import pytest

from grader.checks.concepts import ConceptRubricError, grade_text, parse_params
from grader.rubric import load_rubric
from grader.textmatch import compile_phrase, find_phrase, split_sentences, tokenize, word_similarity

RUBRIC = load_rubric()


def matches(phrase: str, sentence: str) -> str | None:
    m = find_phrase(compile_phrase(phrase), tokenize(sentence), sentence)
    return m.text if m else None


def grade(question: str, text: str):
    q = RUBRIC.question(question)
    item = q.items[0]
    return grade_text(text, parse_params(item.id, item.params), item.points, q.prompt)


# ---- textmatch ------------------------------------------------------------------------------

@pytest.mark.parametrize("sentence", [
    "Weight sharing reduces the parameters.",          # as written
    "the weights are SHARED across the image",          # case, inflection, word order
    "they share their weights",
    "shares the wieghts",                               # typo (swapped letters)
])
def test_inflection_order_case_and_typos(sentence):
    assert matches("share|shared|sharing weight", sentence) is not None


def test_typos_from_real_hand_ins():
    assert word_similarity("deapth", "depth") > 0
    assert word_similarity("smantic", "semantic") > 0
    assert word_similarity("layer", "later") == 0  # short words need an exact match
    assert matches("semantic segmentation", "Smantic segmentaton is hard") is not None


def test_synonyms_and_non_native_comparatives():
    # a small thesaurus on both sides: picture/photo is image, chop/delete is remove
    assert matches("image smaller", "the picture gets squashed down smaller and smaller")
    assert matches("remove dense", "you chop off the dense part")
    # "more small" is "smaller", "more quick" is "faster"
    assert matches("image smaller", "the cnn make the image more small every layer")
    assert matches("faster", "and is more quick to run")
    assert not matches("smaller", "more images")
    # an idiom read as its word: pixels "close to each other" are nearby pixels
    assert matches("nearby pixel", "pixels that are close to each other")
    assert matches("pixel next each other", "pixels next to each other")


def test_a_left_out_head_noun_still_matches_but_lowers_the_confidence():
    g = grade("q7", "A fully convolutional network contains only convolutions. You chop off the "
                    "dense head and replace it by a 1x1 convolution.")
    assert {m["concept"] for m in g.matches} >= {"only-conv", "one-by-one"}
    assert g.confidence < 1.0
    # "smaller model" keeps its noun: "smaller size" alone is not a smaller model
    assert "smaller-model" not in {m["concept"] for m in grade("q3", "Reduce the batch size.").matches}


def test_phrase_words_must_be_close_together():
    far = "batch normalization is used in many models and the final size of the output is ten"
    assert matches("reduce|smaller batch size", "make the batch size smaller") is not None
    assert matches("batch size", far) is None


def test_negation_before_a_phrase_cancels_it_but_not_across_a_comma():
    assert matches("reduce batch size", "do not reduce the batch size") is None
    assert matches("computation cheaper", "nothing to train, and the computation is cheaper") is not None


def test_not_in_a_rubric_phrase_accepts_any_negation_even_misspelt():
    assert matches("not parameter", "the pooling layer dosent have any parameters") is not None
    assert matches("not parameter", "pooling has parameters") is None


def test_evidence_phrase_is_the_students_own_words():
    assert matches("share|shared|sharing weight", "Kernels SHARE their Weights.") == "SHARE their Weights"


def test_soft_wrapped_lines_are_one_sentence_but_short_list_lines_are_not():
    wrapped = "It also shrinks the feature maps so the dense layers\nafter it need fewer weights."
    assert split_sentences(wrapped) == [wrapped.replace("\n", " ")]
    assert split_sentences("reduce batch size\nuse fp16") == ["reduce batch size", "use fp16"]
    assert split_sentences("1. Reduce the batch.\n- use fp16") == ["Reduce the batch.", "use fp16"]


# ---- concept grading ------------------------------------------------------------------------

def test_q4_no_weights_is_credited_and_fewer_parameters_is_not():
    good = grade("q4", "A pooling layer has no parameters to learn.")
    wrong = grade("q4", "Max pooling reduces the number of parameters of the layer.")
    assert [m["concept"] for m in good.matches] == ["no-weights"]
    assert good.score == 4
    assert wrong.score == 0
    assert [m["misconception"] for m in wrong.misconceptions] == ["pooling-reduces-params"]
    assert "none at all" in wrong.misconceptions[0]["correction"]


def test_q4_downstream_remark_is_not_the_misconception():
    g = grade("q4", "It has zero parameters, and the dense layers after it need fewer weights.")
    assert g.misconceptions == []
    assert g.score == 4


@pytest.mark.parametrize("question, text, misconception", [
    ("q1", "Weight sharing. But a CNN does not know how nearby pixels are organized.",
     "cnn-ignores-neighbours"),
    ("q4", "It has no weights. Max pooling introduces a non-linear activation function.",
     "pooling-is-activation"),
    ("q3", "Increase the batch size.", "larger-batch-for-memory"),
])
def test_listed_misconceptions_are_named_and_cost_points(question, text, misconception):
    g = grade(question, text)
    assert misconception in [m["misconception"] for m in g.misconceptions]
    assert g.score < g.points


def test_misconception_never_leaves_full_credit_even_with_every_concept():
    text = ("Fewer parameters thanks to weight sharing, translation invariance, local receptive "
            "fields and a hierarchy of features. A CNN does not know how nearby pixels are organized.")
    g = grade("q1", text)
    assert g.score < g.points


def test_copied_question_text_earns_nothing():
    q = RUBRIC.question("q7")
    g = grade("q7", q.prompt)
    assert g.score == 0
    assert g.ignored_sentences  # recognised as the question, not graded as an answer


def test_generic_filler_gets_no_credit():
    filler = ("CNNs are very powerful and efficient. They give state of the art results and are "
              "widely used in industry. They are better than DNNs for many tasks.")
    for question in ("q1", "q4", "q5", "q8"):
        assert grade(question, filler).score == 0, question


def test_an_on_topic_answer_graded_near_zero_is_sent_to_review():
    # a paraphrase the rubric does not list ("wired to a 3x3 corner", "nothing extra in the weight
    # budget"): 0 points, but a sentence full of the topic's words matched nothing, so a human
    # looks ("only sees a 3x3 patch" and "don't blow up the weight count" are read since blind11-14)
    g = grade("q1", "Each neuron is wired to a 3x3 corner of the picture only, so bigger images cost "
                    "nothing extra in the weight budget.")
    assert g.score == 0 and g.confidence < RUBRIC.review_threshold, g.reasons
    # filler earns the same 0 with certainty
    g = grade("q1", "CNNs are very powerful and widely used in industry.")
    assert g.score == 0 and g.confidence >= RUBRIC.review_threshold


def test_group_takes_the_best_concept_once():
    # 1x1 (partial, 1 pt) and the right kernel size (2 pts) are one group: 2 pts, not 3
    g = grade("q7", "Use a 1x1 convolution, or a kernel size equal to the input feature map size.")
    assert g.score == 2


def test_missing_key_point_is_in_the_feedback_hints():
    g = grade("q8", "Every pixel has to get a class.")
    assert g.score == 1
    assert "resolution-loss" in [m["concept"] for m in g.missed]


def test_confidence_is_low_for_an_on_topic_answer_that_matched_nothing():
    # (issue 13: "throws away where things are ... resolution far too low" is now read as the
    # resolution-loss concept, so an unmatched paraphrase of another kind stands in for it)
    assert "resolution-loss" in [m["concept"] for m in grade(
        "q8", "Each pooling step throws away where things are, so the resolution at the top "
              "is far too low to label the image precisely.").matches]
    onto = grade("q8", "At the top every neuron summarises a big region of the picture, while the "
                       "segmentation pixel mask needs the exact borders of each object region.")
    filler = grade("q8", "Semantic segmentation is a hard and complex computer vision task.")
    # issue 13 calibration: one unmatched on-topic sentence alone was almost never a wrong grade
    # on the labelled sets, so it lowers the confidence without sending the answer to review
    assert onto.confidence < filler.confidence
    assert filler.confidence >= RUBRIC.review_threshold


# ---- rubric validation ----------------------------------------------------------------------

def test_every_free_text_rubric_can_reach_full_marks_and_misconceptions_cost_points():
    for item in RUBRIC.items:
        if item.kind != "concepts":
            continue
        cr = parse_params(item.id, item.params)
        groups: dict[str, float] = {}
        for c in cr.concepts:
            groups[c.group or c.id] = max(groups.get(c.group or c.id, 0), c.points)
        assert sum(groups.values()) >= item.points, item.id
        assert cr.misconceptions, f"{item.id} lists no misconception"
        assert all(m.deduction > 0 and m.correction for m in cr.misconceptions)


@pytest.mark.parametrize("params, key", [
    ({}, "concepts"),
    ({"concepts": [{"id": "a", "points": 1}]}, "concepts[0].phrases"),
    ({"concepts": [{"id": "a", "points": "x", "phrases": ["p"]}]}, "concepts[0].points"),
    ({"concepts": [{"id": "a", "points": 1, "phrases": ["the of"]}]}, "concepts[0].phrases"),
    ({"concepts": [{"id": "a", "points": 1, "phrases": ["p"], "colour": 1}]}, "concepts[0]"),
    ({"concepts": [{"id": "a", "points": 1, "phrases": ["p"]}],
      "misconceptions": [{"id": "m", "deduction": 1, "phrases": ["q"]}]}, "misconceptions[0].correction"),
])
def test_bad_concept_params_name_the_item_and_key(params, key):
    with pytest.raises(ConceptRubricError) as err:
        parse_params("q1.concepts", params)
    assert str(err.value).startswith(f"q1.concepts.params.{key}:")


def test_pages_of_text_lower_the_confidence_even_when_concepts_match():
    short = grade("q8", "The CNN loses spatial resolution through pooling.")
    page = grade("q8", "The CNN loses spatial resolution through pooling. "
                       + "Computer vision is a broad field with many applications in industry. " * 40)
    assert short.score == page.score == 4
    assert short.confidence >= RUBRIC.review_threshold > page.confidence
