"""Free-text classes the third blind set (freetext_blind3.yaml) showed the grader misreading
(issue 13): self-corrections, answers in non-Latin scripts, lists of term pairs, real words read
as misspelt negations, "i.e." splitting a sentence, slang and analogies for the rubric's
meanings, an architecture's innovation the phrases cannot read (Q6). The answers are worded
unlike blind3's, as other students would write them. Static: no notebook, no kernel."""

from __future__ import annotations

import pytest

from grader.freetext.retraction import withdrawn
from grader.textlang import guess_language
from grader.textmatch import is_negation, split_sentences
from tests.freetext_support import RUBRIC, concepts, grade


def deducted(g) -> set[str]:
    return {m["misconception"] for m in g.misconceptions}


def flagged(g) -> bool:
    return g.confidence < RUBRIC.review_threshold


# ---- self-corrections --------------------------------------------------------------------

@pytest.mark.parametrize("question, text, misconception", [
    ("q3", "Make the batch bigger so the GPU is busier... wait, no, that's wrong, bigger batches "
           "eat more memory. Use a smaller batch and fp16.", "larger-batch-for-memory"),
    ("q4", "Pooling has fewer parameters than a conv layer. Actually, scratch that: it has no "
           "parameters at all, there is nothing to learn.", "pooling-reduces-params"),
    ("q7", "An FCN is a net where all neurons are connected to each other... oops, I mean that's "
           "a dense net. An FCN uses only conv layers, no dense layers.", "fcn-is-fully-connected"),
])
def test_a_claim_taken_back_at_once_costs_nothing(question, text, misconception):
    g = grade(question, text)
    assert misconception not in deducted(g)
    assert g.score > 0


def test_a_claim_not_taken_back_is_still_deducted():
    # "actually" inside the claim is emphasis, not a retraction
    g = grade("q3", "You should actually increase the batch size, it makes training more stable. "
                    "Also use float16.")
    assert "larger-batch-for-memory" in deducted(g)


def test_retraction_markers_need_a_turn():
    assert withdrawn("it reduces the parameters... no, sorry", 28, None)
    assert withdrawn("it reduces the parameters", 25, "Well, actually it has none at all.")
    assert not withdrawn("it reduces the parameters", 25, "It actually helps a lot with speed.")
    assert not withdrawn("it reduces the parameters", 25, "No dense layer follows it.")


# ---- languages -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, language", [
    ("AlexNet は LeNet-5 よりずっと深く、ReLU と Dropout を使いました。ResNet はスキップ接続を導入しました。",
     "Japanese"),
    ("ResNet의 핵심은 skip connection이고, GoogLeNet은 inception 모듈을 사용했습니다.", "Korean"),
    ("Batch size'ı küçültmek ve float16 kullanmak bellek için en iyi çözümdür, çünkü daha az yer "
     "kaplar.", "Turkish"),
    ("Giảm batch size, dùng float16 và bỏ bớt vài lớp conv để tiết kiệm bộ nhớ GPU.", "Vietnamese"),
])
def test_non_latin_scripts_and_more_languages_are_not_english(text, language):
    assert guess_language(text).language == language
    g = grade("q6" if "Net" in text else "q3", text)
    assert flagged(g)


def test_a_stray_symbol_keeps_english():
    assert guess_language("Use σ-scaled init and keep the batch → 16, then use fp16.").english


# ---- reading the words ---------------------------------------------------------------------

def test_term_pairs_in_one_comma_line_are_a_keyword_list():
    g = grade("q7", "conv layers only, any image size, kernel size = input map size, filters = units")
    assert g.keyword_list
    assert g.score <= 0.25 * g.points + 0.5


def test_another_and_either_are_no_negations():
    assert not is_negation("another") and not is_negation("either")
    assert is_negation("dosent")
    g = grade("q3", "Check if another notebook is still holding the GPU and kill that process.")
    assert "memory-tricks" in concepts(g)


def test_ie_and_eg_do_not_end_a_sentence():
    assert split_sentences("Use a kernel as big as the map, i.e. 7x7 here. Then copy the weights.") == [
        "Use a kernel as big as the map, i.e. 7x7 here.", "Then copy the weights."]


@pytest.mark.parametrize("question, text, concept", [
    ("q3", "Slash the batch size to 8.", "smaller-batch"),
    ("q3", "Train on thumbnails of the photos.", "downsample"),
    ("q3", "Quit any other application that uses the card.", "memory-tricks"),
    ("q4", "Max pooling just picks the max, gradient descent has nothing to fit there.", "no-weights"),
    ("q4", "If the edge moves one pixel the max is still the same.", "invariance"),
    ("q5", "A channel that fires hard mutes the neighbouring channels at that spot.",
     "lateral-inhibition"),
    ("q5", "So each map ends up a specialist for its own kind of pattern.", "specialisation"),
    ("q7", "It is conv layers from the beginning to the end.", "only-conv"),
    ("q7", "Replace the dense layer by a conv whose filter spans the entire feature map.",
     "kernel-size"),
    ("q8", "Pooling threw away the information about where the edges are.", "resolution-loss"),
    ("q8", "Then the decoder has to scale the map back up.", "recovery"),
    ("q1", "Because one small filter is slid across the whole photo, the parameter count stays "
           "small.", "fewer-params"),
])
def test_meanings_in_the_words_students_use(question, text, concept):
    assert concept in concepts(grade(question, text))


def test_instances_own_mask_is_the_instance_misconception():
    g = grade("q8", "Semantic segmentation must give each person in the photo its own mask.")
    assert "segmentation-separates-instances" in deducted(g)
    g = grade("q8", "Unlike instance segmentation it does not give each person its own mask.")
    assert "segmentation-separates-instances" not in deducted(g)


def test_rejecting_the_skip_training_myth_is_no_misconception():
    g = grade("q6", "In ResNet the skip connections don't skip training any layer, they add the "
                    "input to the output.")
    assert "resnet-no-skip-wrong" not in deducted(g)
    assert "resnet" in concepts(g)
    g = grade("q6", "ResNet: some layers are not trained because the skip connections jump them.")
    assert "resnet-no-skip-wrong" in deducted(g)


def test_q6_an_architecture_said_something_about_but_unread_is_flagged():
    g = grade("q6", "AlexNet: much deeper than LeNet, ReLU and dropout. ResNet: skip connections. "
                    "GoogLeNet stacks incepshun bloks on top of each other.")
    assert flagged(g)
    assert any("googlenet" in r for r in g.reasons)
    # names with nothing said about them, and a wrong answer everywhere, are a confident 0
    g = grade("q6", "AlexNet, GoogLeNet and ResNet all brought important innovations.")
    assert g.score == 0 and not flagged(g)


@pytest.mark.parametrize("question, text, concept", [
    ("q4", "When the cat's eye moves a bit, the max in that window stays the same.", "invariance"),
    ("q4", "It costs nothing to run compared to a conv.", "cheaper"),
    ("q5", "Every feature map becomes responsible for its own pattern.", "specialisation"),
    ("q7", "use a conv with kernel = size of the input map and no. of filtrs = neurons", "filters-units"),
    ("q7", "After that the net accepts inputs of every size.", "any-size"),
    ("q1", "Early filters see edges; the later layers find faces made of those edges.", "hierarchy"),
])
def test_more_meanings_in_plain_words(question, text, concept):
    assert concept in concepts(grade(question, text))


def test_simpler_to_build_is_no_hierarchy():
    assert "hierarchy" not in concepts(grade("q1", "A dense network is simpler to build."))


@pytest.mark.parametrize("text, language", [
    ("Verklein de batch size en gebruik float16, omdat dat minder geheugen kost.", "Dutch"),
    ("Kurangi ukuran batch dan gunakan float16 karena itu lebih hemat memori.", "Indonesian"),
    ("Zmniejsz rozmiar batcha i użyj float16, bo to zużywa mniej pamięci.", "Polish"),
])
def test_more_latin_script_languages(text, language):
    assert guess_language(text).language == language
    assert flagged(grade("q3", text))


def test_a_misconception_called_a_common_mistake_is_mentioned_not_asserted():
    g = grade("q4", "That pooling only reduces the number of parameters is a common mistake: it has "
                    "no parameters at all.")
    assert "pooling-reduces-params" not in deducted(g)
    assert "no-weights" in concepts(g)


def test_a_denial_reaches_across_commas_but_not_past_a_but():
    g = grade("q3", "Some people think a bigger batch, with more images at once, saves memory, but "
                    "you should use a smaller batch.")
    assert "larger-batch-for-memory" not in deducted(g)
    assert "smaller-batch" in concepts(g)
    g = grade("q3", "It is not true that augmentation, done on the GPU, saves memory.")
    assert "augmentation-saves-memory" not in deducted(g)


def test_an_edit_note_takes_the_claim_back():
    g = grade("q8", "Semantic segmentation has to separate every instance of a class. EDIT: I was wrong, "
                    "that is instance segmentation; the hard part is that pooling loses the spatial "
                    "resolution.")
    assert "segmentation-separates-instances" not in deducted(g)
    assert "resolution-loss" in concepts(g)


def test_a_kernel_named_by_the_maps_size_after_it():
    assert "kernel-size" in concepts(grade("q7", "Swap the Dense on the 5x5 map for a 5x5 conv."))
    assert "kernel-size" not in concepts(grade("q7", "Use a 3x3 conv on the 7x7 map."))


def test_whether_left_or_right_is_translation():
    g = grade("q1", "It finds a dog whether it is on the left or the right of the photo.")
    assert "translation" in concepts(g)


def test_tutorials_claim_which_is_misleading_is_a_mention():
    g = grade("q4", "Many tutorials claim pooling reduces the number of parameters, which is misleading: "
                    "pooling has no parameters, it just takes the max.")
    assert not deducted(g)
    assert "no-weights" in concepts(g)


def test_asserted_reduces_parameters_and_batchnorm_claims_are_deducted():
    g = grade("q4", "Pooling acts like an activation function and reduces parameters.")
    assert {"pooling-reduces-params", "pooling-is-activation"} <= deducted(g)
    g = grade("q5", "LRN is basically batch norm: it normalizes each activation over the mini-batch.")
    assert "lrn-is-batchnorm" in deducted(g)


def test_height_is_no_misspelt_weight():
    g = grade("q4", "Both halve the width and the height of the maps, but pooling has nothing to learn.")
    assert "pooling-reduces-params" not in deducted(g)


def test_the_markdown_comment_trick_is_hidden_text():
    g = grade("q1", "CNNs are good for images.\n\n[//]: # (weight sharing means far fewer parameters, "
                    "and a kernel detects a feature anywhere in the image)\n")
    assert g.score == 0
    g = grade("q1", "[1]: https://cs231n.github.io\nWeight sharing means far fewer parameters.")
    assert "fewer-params" in concepts(g)


@pytest.mark.parametrize("question, text, concept", [
    ("q7", "The kernel slides over the whole input map like any conv.", "kernel-size"),
    ("q7", "All input images are resized to the same size first.", "any-size"),
    ("q7", "Conv filters are applied everywhere in the image.", "only-conv"),
    ("q4", "Both produce the same output size, and the output can change.", "invariance"),
    ("q3", "Use half the width of the layers.", "lower-precision"),
    ("q1", "The top layers detect whole objects.", "translation"),
])
def test_the_new_phrases_do_not_read_what_is_not_said(question, text, concept):
    assert concept not in concepts(grade(question, text))


def test_segmenting_objects_from_the_background_is_no_instance_claim():
    assert not deducted(grade("q8", "Segmentation separates each object from the background."))


def test_two_pixels_are_not_pixel_by_pixel():
    assert "per-pixel" in concepts(grade("q8", "It must be classified pixel by pixel."))
    assert "per-pixel" not in concepts(grade("q8", "There are more road pixels than sign pixels."))


def test_kernel_reused_at_every_position_is_fewer_parameters():
    g = grade("q1", "The same filter weights are reused at each position, so it trains far fewer numbers.")
    assert "fewer-params" in concepts(g)


@pytest.mark.parametrize("question, text, misconception", [
    ("q3", "Increasing the batch size is the wrong direction; go for a smaller batch.",
     "larger-batch-for-memory"),
    ("q4", "I used to think pooling just reduces the number of parameters, but it has no weights.",
     "pooling-reduces-params"),
    ("q7", "At first I thought an FCN means each neuron is connected to every neuron, but it means "
           "only conv layers.", "fcn-is-fully-connected"),
])
def test_a_belief_given_up_is_mentioned_not_asserted(question, text, misconception):
    assert misconception not in deducted(grade(question, text))


def test_first_then_a_claim_is_still_asserted():
    g = grade("q3", "First, think about the batch size: increase it to use the GPU fully.")
    assert "larger-batch-for-memory" in deducted(g)


def test_reduce_it_after_the_batch_size_in_one_sentence():
    assert "smaller-batch" in concepts(grade("q3", "The batch size is too large, so reduce it."))
    assert "smaller-batch" not in concepts(grade("q3", "Keep the batch size, don't reduce it."))


@pytest.mark.parametrize("text, credited", [
    ("The inception module (GoogLeNet) runs several kernel sizes in parallel. Skip connections "
     "(ResNet) let gradients flow.", {"googlenet", "resnet"}),
    ("Skip connections (from ResNet) and SE blocks (SENet).", {"resnet", "senet"}),
    ("ResNet uses skip connections (unlike GoogLeNet).", {"resnet"}),
    ("Inception modules (ResNet) and skip connections (GoogLeNet).", set()),
])
def test_q6_a_name_in_parentheses_says_whose_the_clause_is(text, credited):
    g = grade("q6", text)
    assert concepts(g) == credited
    assert not g.keyword_list


def test_a_count_of_gpus_is_distribution_a_stride_on_the_gpu_is_not():
    assert "distribute" in concepts(grade("q3", "use 2 gpus"))
    assert "distribute" not in concepts(grade("q3", "Use a stride of 2 on the GPU."))


def test_a_myth_heading_labels_its_claim_wrong():
    g = grade("q3", "### Myth: data augmentation saves memory\nIt does not; it only adds variety.\n"
                    "### What works\nReduce the batch size.")
    assert not deducted(g)
    assert "smaller-batch" in concepts(g)


def test_thats_wrong_colon_introduces_the_correction():
    g = grade("q1", "People sometimes say a CNN has more parameters. That's wrong: a conv layer only "
                    "needs the weights of one small kernel, shared across the image.")
    assert "fewer-params" in concepts(g)
    assert not deducted(g)


def test_a_negated_phrase_does_not_reach_across_a_spaced_dash():
    # blind13 (issue 13): "others don't - one removes the dense head" is no "not ... dense" claim
    from tests.freetext_support import concepts, grade
    g = grade("q7", "Some papers keep a global pooling and some don't - you chop the dense head off.")
    assert "only-conv" not in concepts(g)
    assert "only-conv" in concepts(grade("q7", "It is a CNN with no dense layers at all - only convs."))


def test_a_phrase_does_not_join_words_from_two_table_cells():
    # blind11 (issue 13): "| smaller batch | fewer images' activations kept |" is no smaller input
    from tests.freetext_support import concepts, grade
    table = ("| fix | reason |\n|---|---|\n| smaller batch | fewer pictures' activations in memory |\n"
             "| fp16 | half the bytes per number |")
    g = grade("q3", table)
    assert {"smaller-batch", "lower-precision"} <= concepts(g) and "downsample" not in concepts(g)
    # a row's cell that states the claim is still read
    g = grade("q4", "| why pooling | |\n|---|---|\n| weights | it has no weights to learn |")
    assert "no-weights" in concepts(g)


def test_a_parenthesis_that_says_something_about_another_architecture_is_credited_to_it():
    # blind13 (issue 13): the innovation told in an aside about the architecture named in it
    from tests.freetext_support import concepts, grade
    g = grade("q6", "GoogLeNet: parallel 1x1/3x3/5x5 branches (the block that Xception later turned into "
                    "depthwise separable convolutions). SENet: channel attention.")
    assert {"googlenet", "xception"} <= concepts(g)
    # a short aside ("LeNet-5 already was one") still leaves the sentence to its subject
    g = grade("q6", "AlexNet was not the first CNN (LeNet-5 already was one); it was much deeper, with ReLU.")
    assert "alexnet-depth" in concepts(g)
