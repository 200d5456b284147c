"""Free-text classes the development sets blind8-blind10 showed the grader misreading (issue 13,
"read real answers as a careful TA does"): a Q6 architecture described as built on another one,
contrast framing on Q4, Q3 remedies written as arrows or table rows, answers to another question,
and flags where the grade was right. The answers are in a student's words, not the rubric's or
the labelled sets'. Static: no notebook, no kernel."""

from __future__ import annotations

from tests.freetext_support import RUBRIC, concepts, grade


def flagged(g) -> bool:
    return g.confidence < RUBRIC.review_threshold


# ---- Q6: an architecture described as another one with something added -----------------------

def test_q6_an_architecture_built_on_another_keeps_its_own_innovation():
    # the SE block is SENet's although "ResNet" and "Inception" sit in the sentence
    g = grade("q6", "As far as I remember SENet is just a ResNet where each block gets a little "
                    "squeeze and excitation branch on top.")
    assert "senet" in concepts(g)
    assert "resnet" not in concepts(g)
    g = grade("q6", "SENet = an Inception net plus SE modules that rescale the channels.")
    assert "senet" in concepts(g)


def test_q6_a_name_taken_as_the_object_of_a_verb_is_no_new_subject():
    g = grade("q6", "Xception pushes the GoogLeNet concept further, every module is replaced by a "
                    "depthwise separable conv.")
    assert "xception" in concepts(g)


def test_q6_an_innovation_credited_to_the_wrong_architecture_still_earns_nothing():
    # the converse: a new sentence about ResNet (not a complement) owns what follows
    g = grade("q6", "SENet came later. ResNet is the one with squeeze-and-excitation blocks.")
    assert "senet" not in concepts(g)
    g = grade("q6", "AlexNet was deeper than LeNet; the next one is a ResNet with SE blocks.")
    assert "senet" not in concepts(g)


# ---- Q4: no weights said by contrast ---------------------------------------------------------

def test_q4_pooling_said_to_be_no_model_has_no_weights():
    g = grade("q4", "max pool just reports the biggest value in each window, basically a summary "
                    "statistic, so not a model like the conv")
    assert "no-weights" in concepts(g)


def test_q4_the_conv_has_weights_and_pooling_does_not():
    g = grade("q4", "A strided conv comes with kernels you have to train, a pooling layer doesn't.")
    assert "no-weights" in concepts(g)
    g = grade("q4", "unlike the strided convolution, the max pool layer has no weights at all")
    assert "no-weights" in concepts(g)


def test_q4_parameter_free_is_not_fewer_parameters():
    g = grade("q4", "parameter free, less compute, robust to shifts")
    assert "pooling-reduces-params" not in {m["misconception"] for m in g.misconceptions}
    assert g.score > 0
    # "fewer" still is the misconception
    g = grade("q4", "Pooling simply has fewer parameters than a convolution.")
    assert "pooling-reduces-params" in {m["misconception"] for m in g.misconceptions}


# ---- Q3: remedies written as changes of numbers ----------------------------------------------

def test_q3_an_arrow_between_numbers_states_the_remedy():
    g = grade("q3", "what I'd change:\n| thing | before → after |\n|---|---|\n| batch size | 128 → 32 |\n"
                    "| filters per conv | 256 → 64 |\n| dtype | float32 → float16 |")
    assert {"smaller-batch", "smaller-model", "lower-precision"} <= concepts(g)
    assert not g.keyword_list


def test_q3_an_arrow_up_is_no_reduction():
    g = grade("q3", "batch 16 -> 128")
    assert "smaller-batch" not in concepts(g)


def test_q3_an_english_table_saying_per_layer_is_english():
    from grader.textlang import guess_language
    assert guess_language("| change | saved |\n| filters per layer 64 -> 32 | per-GPU memory / 2 |").english


# ---- an answer to another question -----------------------------------------------------------

def test_another_questions_arithmetic_is_sent_to_a_human():
    g = grade("q8", "conv1 = 5*5*3*32 + 32 = 2432 params, conv2 = 3*3*32*64 + 64 = 18496, "
                    "dense = 8*8*64*10 + 10 = 40970, so about 62k parameters with stride 2 and "
                    "float32 that is roughly 250 KB.")
    assert g.score <= 1.5
    assert flagged(g)


def test_a_conversion_worked_in_numbers_that_earned_credit_is_not_flagged_for_it():
    g = grade("q7", "A Dense(10) on a 4x4x32 map = 4*4*32*10 + 10 = 5130 weights. Replace it with "
                    "a conv with 10 filters and a kernel as big as the input feature map, valid "
                    "padding: 5130 weights as well, output 1x1x10.")
    assert g.score >= 3
    assert not any("calculation" in r for r in g.reasons)


def _elsewhere(question: str, text: str):
    from grader.freetext.elsewhere import answers_other_question
    return answers_other_question(text, grade(question, text), question, RUBRIC)


def test_the_pooling_answer_under_the_memory_question_is_another_questions():
    found = _elsewhere("q3", "i would go for max pool, it doesnt have any weights to learn so it costs "
                             "less compute than a strided conv, plus small shifts of the input barely "
                             "change the max.")
    assert found is not None and found.question == "q4"


def test_an_own_answer_that_borrows_another_questions_words_is_not_sent_back():
    # a weak Q4 answer about resolution reads like Q8's topic, yet answers the pooling question
    assert _elsewhere("q4", "Max pooling has less parameters and it shrinks the resolution of the "
                            "feature maps, so each pixel loses some spatial detail.") is None
    # a good answer to its own question is never another question's
    assert _elsewhere("q3", "Reduce the batch size, use fp16 and a smaller model.") is None


# ---- Q3: remedies the flags were raised for, read now ----------------------------------------

def test_q3_decimating_the_input_is_downsampling():
    g = grade("q3", "Low-pass filter the frames and decimate by 2 before the first layer, the maps "
                    "get four times smaller.")
    assert "downsample" in concepts(g)
    assert not flagged(g)


def test_q3_emptying_the_cache_and_deleting_tensors_frees_memory():
    g = grade("q3", "between epochs I call torch.cuda.empty_cache()")
    assert "memory-tricks" in concepts(g)
    g = grade("q3", "del the big tensors you dont need anymore before the next step")
    assert "memory-tricks" in concepts(g)


def test_q3_a_quoted_oom_error_is_no_unread_remedy():
    g = grade("q3", "I got 'OOM when allocating tensor of shape [64,3,224,224]'. I reduced the "
                    "batch size to 16 and used fp16, that was enough.")
    assert not any("topic's words" in r for r in g.reasons)


# ---- Q7: the conversion worked in numbers or Keras code, across sentences ----------------------

def test_q7_the_maps_size_then_a_kernel_of_that_size_is_the_conversion():
    g = grade("q7", "Say the backbone ends in a 14x14x256 block and a Dense(512) follows. Swap that "
                    "dense for Conv2D(512, kernel_size=14, padding='valid'), the output is 1x1x512.")
    assert {"kernel-size", "filters-units"} <= concepts(g)
    g = grade("q7", "For an $h\\times w\\times c$ input, the dense layer is a conv with "
                    "kernel_size=(h, w) and as many filters as units.")
    assert "kernel-size" in concepts(g)


def test_q7_a_kernel_of_another_size_is_no_conversion():
    g = grade("q7", "The last block gives 14x14x256. Then use Conv2D(512, kernel_size=3).")
    assert "kernel-size" not in concepts(g)


def test_q7_terse_definition_and_keras_swap():
    g = grade("q7", "FCN: purely convs. To convert, change each Dense(k) into a Conv2D(k, 1x1).")
    assert {"only-conv", "one-by-one", "filters-units"} <= concepts(g)
    assert not flagged(g)


# ---- smaller misreadings of the development sets ----------------------------------------------

def deducted(g) -> set[str]:
    return {m["misconception"] for m in g.misconceptions}


def test_q3_removing_conv_blocks_is_a_smaller_model():
    assert "smaller-model" in concepts(grade("q3", "- drop two of the conv blocks at the end"))


def test_q7_a_kernel_spanning_its_whole_input_is_the_conversion():
    g = grade("q7", "swap each Dense for a Conv whose kernel spans its entire input")
    assert "kernel-size" in concepts(g)


def test_q6_alexnet_as_the_first_network_with_convolutions_is_the_misconception():
    g = grade("q6", "AlexNet was the first model using convolutional layers, LeNet was just an MLP.")
    assert "alexnet-first-cnn" in deducted(g)


def test_q6_resnet_blocks_that_need_no_training_is_the_skip_misconception():
    g = grade("q6", "ResNet: the shortcuts let the signal go around, so those blocks are not trained.")
    assert "resnet-no-skip-wrong" in deducted(g)
    assert "resnet" in concepts(g)


def test_q7_the_fully_connected_definition_earns_no_definition():
    # both wordings of the misconception in one sentence: neither earns only-conv
    g = grade("q7", "fully convolutional net means all its layers are fully connected to each "
                    "other, each neuron connected to all neurons after it. Converting uses a 1x1 conv.")
    assert "fcn-is-fully-connected" in deducted(g)
    assert "only-conv" not in concepts(g)


def test_q6_senet_boosting_or_damping_each_channel_is_its_innovation():
    g = grade("q6", "SENet adds a tiny side branch that decides how strongly to boost or damp every "
                    "channel of the block's output.")
    assert "senet" in concepts(g)


def test_q3_a_smaller_number_of_images_instead_of_a_larger_one_is_a_smaller_batch():
    g = grade("q3", "Instead of 256 samples per step, try only 64, the activations shrink with it.")
    assert "smaller-batch" in concepts(g)
    g = grade("q3", "feed 8 pictures at a time instead of 32")
    assert "smaller-batch" in concepts(g)


def test_an_arrow_between_powers_or_decimals_is_no_change_of_whole_numbers():
    from grader.textmatch import tokenize
    assert "increase" not in [t.word for t in tokenize("weights 10^8 -> 10^4")]
    assert "reduce" not in [t.word for t in tokenize("lr 0.5 -> 0.25")]
