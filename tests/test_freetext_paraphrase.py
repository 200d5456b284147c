"""Free-text classes the fifth blind set (freetext_blind5.yaml, a class taught from slides and
videos) showed the grader misreading (issue 13): everyday paraphrases and lecture-note
shorthand for the rubric's meanings, code instead of prose, right claims the student takes back,
"contrary to" read as denying the student's own claim, term lists of participles, a pronoun in
a correction, analogies instead of definitions. The answers are worded unlike blind5's, as other
students would write them. Static: no notebook, no kernel."""

from __future__ import annotations

import pytest

from grader.freetext.retraction import claim_withdrawn
from tests.freetext_support import RUBRIC, concepts, grade


def deducted(g) -> set[str]:
    return {m["misconception"] for m in g.misconceptions}


def flagged(g) -> bool:
    return g.confidence < RUBRIC.review_threshold


# ---- paraphrase vocabulary and shorthand ---------------------------------------------------

@pytest.mark.parametrize("question, text, concept", [
    ("q1", "conv only has like 9 numbers per filter, way fewer numbers than the dense thing",
     "fewer-params"),
    ("q1", "the number of weights stays the same no matter how many megapixels u throw at it",
     "fewer-params"),
    ("q1", "one kernel used at every location -> way less to train", "fewer-params"),
    ("q1", "so it can spot a wheel in any part of the photo", "translation"),
    ("q1", "it still works when the digit is shifted a bit to the left", "translation"),
    ("q1", "each neuron only looks at a tiny piece of the pic", "spatial-structure"),
    ("q1", "pixels that are beside each other get processed together", "spatial-structure"),
    ("q1", "MLP just flattens everything into one vector, CNN doesnt", "spatial-structure"),
    ("q3", "bs down to 8", "smaller-batch"),
    ("q3", "I dropped the batch to 4 and it fit", "smaller-batch"),
    ("q3", "train_ds = train_ds.batch(4)   # was 32", "smaller-batch"),
    ("q3", "diminish the batch, it is the simplest", "smaller-batch"),
    ("q3", "resize every input to 96x96 first", "downsample"),
    ("q3", "grad checkpointing (recompute stuff in backward)", "memory-tricks"),
    ("q4", "max pool is just a fixed formula, nothing in it gets trained", "no-weights"),
    ("q4", "if the edge slides one pixel over, the max usually stays the same", "invariance"),
    ("q4", "also the calculation is lighter than a conv", "cheaper"),
    ("q5", "a neuron that fires a lot tones down the neighbouring channels", "lateral-inhibition"),
    ("q5", "so the filters end up each having their own role", "specialisation"),
    ("q6", "ResNet: the block input is summed with its output", "resnet"),
    ("q6", "ResNet:\nout = layers.Add()([x, y])", "resnet"),
    ("q7", "there is not a single dense layer in it, just convs", "only-conv"),
    ("q7", "the input resolution is flexible because of that", "any-size"),
    ("q7", "dense layer with 10 units -> conv with 10 filters and valid padding", "filters-units"),
    ("q7", "for a big picture you get a grid of results instead of a single one", "dense-output"),
    ("q8", "after all that pooling the net forgot where the edges of objects were",
     "resolution-loss"),
    ("q8", "the strides blur the details away", "resolution-loss"),
    ("q1", "if a filter knows a dog nose it fires on a nose elsewhere too", "translation"),
    ("q1", "every unit sees only a little square of the image", "spatial-structure"),
    ("q3", "buy an extra gpu and put half the model on it", "distribute"),
    ("q3", "put a pooling layer after each conv", "downsample"),
    ("q5", "so every map learns something different", "specialisation"),
    ("q7", "swap dense for conv with kernel = size of the previous feature map", "kernel-size"),
    ("q8", "the network squishes the image so the outlines are gone", "resolution-loss"),
    ("q8", "at the end the map has become a tiny 4x4 grid", "resolution-loss"),
    ("q8", "after 5 poolings you can't really tell where the cat's tail was", "resolution-loss"),
    # a worked example instead of the definition
    ("q1", "dense: each neuron gets 150,528 weights (224x224x3) but a conv filter 5x5x3 only 75",
     "fewer-params"),
])
def test_everyday_wording_earns_the_concept(question, text, concept):
    assert concept in concepts(grade(question, text))


@pytest.mark.parametrize("question, text, misconception", [
    ("q4", "max pooling acts like a relu activation so you dont need one after it",
     "pooling-is-activation"),
    ("q4", "max pooling adds non-linearity, it is an activation function", "pooling-is-activation"),
    ("q7", "just put a flatten layer before the dense one and it becomes a conv", "flatten-to-convert"),
    ("q8", "the hard bit: every car in the street needs its own mask", "segmentation-separates-instances"),
    ("q5", "the LRN makes each neuron more sensible than its neighbours", "lrn-boosts-sensitivity"),
])
def test_misconceptions_in_everyday_wording_are_deducted(question, text, misconception):
    assert misconception in deducted(grade(question, text))


def test_paraphrase_words_listed_as_terms_earn_at_most_the_keyword_share():
    g = grade("q1", "stencil, numbers to learn, tiny piece, topology, whichever spot")
    assert g.score <= 0.25 * g.points
    g = grade("q1", "shared conv weights, local receptive fields, translation invariance")
    assert g.keyword_list and g.score <= 0.25 * g.points and flagged(g)


def test_a_participle_list_is_terms_but_comparative_notes_say_what_to_do():
    # "specialised feature maps" names a thing as "feature specialisation" does ...
    g = grade("q5", "competition between maps, after the relu, specialised feature maps")
    assert g.keyword_list and g.score <= 0.25 * g.points
    # ... while terse remedies are a full answer (the labelled sets agree)
    g = grade("q3", "smaller batches, fewer filters per layer, mixed precision, more pooling, "
                    "train on two gpus")
    assert not g.keyword_list and g.score == g.points
    # a participle before a parenthesis names no compound noun
    g = grade("q3", "smaller batches; mixed precision (bf16); fewer layers; larger strides; split "
                    "the model over 2 gpus")
    assert not g.keyword_list and g.score == g.points


# ---- right claims taken back ---------------------------------------------------------------

@pytest.mark.parametrize("question, text, concept", [
    ("q4", "Max pooling has no weights to learn. Wait, I think it actually has one per channel?",
     "no-weights"),
    ("q4", "There are no parameters in it... no wait, there is a bias I think. It is cheaper though.",
     "no-weights"),
    ("q6", "AlexNet: ReLU. ResNet: skip connections. Or is it Inception? dont count that.", "resnet"),
    ("q1", "the number of params is smaller. In fact not always, with many filters it is bigger, "
           "so im not sure this is an advantage.", "fewer-params"),
])
def test_a_right_claim_taken_back_earns_nothing(question, text, concept):
    assert concept not in concepts(grade(question, text))


@pytest.mark.parametrize("question, text, concept", [
    ("q4", "Not sure but I think pooling has no parameters at all.", "no-weights"),  # hedge first
    ("q4", "Max pooling has no parameters. Actually, it is also cheaper to run.", "no-weights"),
    ("q7", "you replace it with a 1x1 conv. Im not sure that's right in general, only if the map "
           "is 1x1 already.", "one-by-one"),  # a doubt that narrows the claim keeps it
])
def test_hedges_and_caveats_keep_the_claim(question, text, concept):
    assert concept in concepts(grade(question, text))


def test_claim_withdrawn_markers():
    s = "Pooling has no weights"
    assert claim_withdrawn(s, len(s), ["Hmm wait, maybe it does?"])
    assert claim_withdrawn(s + ", forget that", len(s), [])
    assert claim_withdrawn(s, len(s), ["Or was that dropout?", "I mix them up, ignore that."])
    assert not claim_withdrawn(s, len(s), ["Actually it is also faster."])
    assert not claim_withdrawn(s, len(s), ["Sorry for the short answer."])
    assert not claim_withdrawn(s, len(s), ["Also it is faster.", "Ignore that typo above."])


# ---- denials, pronouns, analogies ----------------------------------------------------------

def test_contrary_to_denies_what_follows_not_the_students_claim():
    g = grade("q1", "A CNN keeps the 2D layout of the image, contrary to an MLP where it gets lost.")
    assert "spatial-structure" in concepts(g)
    # what follows "contrary to" is still denied, not asserted
    g = grade("q1", "Contrary to the idea that a CNN does not know how nearby pixels are organized "
                    "- it looks at small patches of neighbouring pixels.")
    assert "cnn-ignores-neighbours" not in deducted(g)
    assert "spatial-structure" in concepts(g)


def test_a_correction_after_a_denial_may_name_the_weights_by_a_pronoun():
    g = grade("q4", 'Some say pooling "has fewer weights" but no - it has none at all. And the max '
                    "stays the same if things move by a pixel.")
    assert {"no-weights", "invariance"} <= concepts(g)
    assert "pooling-reduces-params" not in deducted(g)


def test_an_analogy_lowers_the_confidence_of_a_partial_score():
    text = ("A CNN is like a guy with a flashlight checking a dark room bit by bit with the same "
            "flashlight, while a dense net is like wiring a lamp to every tile.")
    g = grade("q1", text)
    assert g.score < g.points
    assert any("analogy" in r for r in g.reasons)
    full = grade("q1", "The kernels are shared so there are far fewer parameters, it detects a "
                       "feature anywhere in the image, each neuron looks at neighbouring pixels, "
                       "and layers build a hierarchy from edges to objects. It is like a "
                       "flashlight sweeping a room.")
    assert full.score == full.points
    assert not any("analogy" in r for r in full.reasons)


@pytest.mark.parametrize("text, language", [
    ("Zmenšit dávku, použít float16 a rozdělit model na dvě GPU, protože jinak se to nevejde do "
     "paměti.", "Czech"),
    ("Minska batchen och använd float16, det är det enklaste när minnet inte räcker till.",
     "Swedish"),
])
def test_czech_and_swedish_answers_are_named_and_sent_to_a_human(text, language):
    g = grade("q3", text)
    assert g.language == language and flagged(g)


def test_a_withdrawn_claim_is_read_not_a_missed_paraphrase():
    # the grader read the claim and its retraction: a right score needs no human
    g = grade("q4", "Max pooling has no weights to learn... no wait, I think it has one per "
                    "channel? Anyway it is cheaper to compute.")
    assert "no-weights" not in concepts(g) and "cheaper" in concepts(g)
    assert not any("nearly matched: no-weights" in r for r in g.reasons)


# ---- blind11-14 (issue 13): Q3 in engineers' and clinicians' words


def test_q3_framework_names_for_precision_distribution_and_optimizer_state():
    assert "lower-precision" in concepts(grade("q3", "Turn on AMP in the trainer, it halves most tensors."))
    assert "lower-precision" in concepts(grade("q3", "Wrap the forward pass in torch.autocast and it fits."))
    assert "distribute" in concepts(grade("q3", "Wrap the model in DistributedDataParallel across the node."))
    assert "distribute" in concepts(grade("q3", "We have both cards in the box, so train on both GPUs."))
    assert "memory-tricks" in concepts(grade("q3", "Switch to plain SGD: less optimizer state than Adam."))
    # tuning the data loader is no memory-saving trick
    assert "memory-tricks" not in concepts(grade("q3", "Optimize the data loading with prefetching."))


def test_q3_lighter_backbone_slices_and_a_batch_cut_in_the_next_sentence():
    assert "smaller-model" in concepts(grade("q3", "Swap in a lighter backbone, ResNet-18 not ResNet-50."))
    g = grade("q3", "Train a 2D network on single slices rather than a 3D one on the whole CT volume.")
    assert "downsample" in concepts(g)
    g = grade("q3", "Don't increase the batch size, that makes it worse. Cut it from 64 to 8.")
    assert "smaller-batch" in concepts(g) and not g.misconceptions
    # dilated convolutions do not shrink the maps
    g = grade("q3", "Swap the pooling for dilated convolutions so the feature maps get smaller.")
    assert "downsample" not in concepts(g)


# ---- blind11-14 (issue 13): Q1 claims stated by what a CNN does NOT need


def test_q1_negated_claims_that_state_the_concept():
    g = grade("q1", "With a CNN the model does not have to relearn a tumour for each location on the scan.")
    assert "translation" in concepts(g)
    g = grade("q1", "The kernels don't care where the logo sits, they fire wherever it is.")
    assert "translation" in concepts(g)
    g = grade("q1", "Flattening scrambles the grid, but with convolutions neighbours stay neighbours.")
    assert "spatial-structure" in concepts(g)
    g = grade("q1", "Every unit only looks at a 5x5 patch, and larger photos don't inflate the weight count.")
    assert {"spatial-structure", "fewer-params"} <= concepts(g)
    # the detector that does care where the object is states no invariance
    assert "translation" not in concepts(grade("q1", "The dense layer cares where the logo sits."))


def test_q1_cnn_that_ignores_which_pixels_are_neighbours_is_the_misconception():
    g = grade("q1", "CNNs win since they check each pixel on its own and don't know which pixels are "
                    "adjacent to each other.")
    assert [m["misconception"] for m in g.misconceptions] == ["cnn-ignores-neighbours"]
    assert "spatial-structure" not in concepts(g)


def test_q1_what_people_assume_then_refuted_is_no_misconception():
    g = grade("q1", "Many assume a CNN has more parameters because of all its filters, but it is the "
                    "other way round: each 3x3 filter is reused across the image.")
    assert not g.misconceptions


def test_q7_dense_layers_taken_out_and_a_whole_scan_run_through():
    g = grade("q7", "It is what you use for masks. Strip off the fc head and put 1x1 convs there instead.")
    assert {"dense-removed", "one-by-one"} <= concepts(g)
    g = grade("q7", "Once it is all conv you can feed the entire 4k microscope slide through it at once.")
    assert "any-size" in concepts(g)
    # taking the dense layer's weights to reshape them is the conversion, not removing the head
    g = grade("q7", "Take the dense layer's weights and reshape them into a conv kernel.")
    assert "dense-removed" not in concepts(g)


def test_q6_what_xceptions_name_stands_for_is_no_innovation():
    g = grade("q6", "Xception - short for Extreme Inception.")
    assert "xception" not in concepts(g)
    g = grade("q6", "Xception (extreme Inception) swaps normal convs for depthwise separable ones.")
    assert "xception" in concepts(g)


def test_formal_notation_for_few_parameters_and_a_dividing_stride():
    g = grade("q1", "Shared kernel: $O(k^2 C)$ weights per layer versus $O(n^2)$ for a dense map.")
    assert "fewer-params" in concepts(g)
    # big-O growth of the dense layer alone compares nothing
    assert "fewer-params" not in concepts(grade("q1", "A dense layer costs $O(n^2)$ time."))
    g = grade("q3", "A stride $s$ at layer $l$ divides every later activation map by $s^2$.")
    assert "downsample" in concepts(g)
