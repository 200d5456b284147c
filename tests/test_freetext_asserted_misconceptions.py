"""Blind9/blind10's misses by class: a misconception stated in a non-native singular ("CNN have
more parameter than DNN") or as a definition ("in an FCN every layer is fully connected") is
asserted, while the same words refuted, contrasted or about another network are not."""

from __future__ import annotations

from tests.freetext_support import grade


def _stated(question: str, text: str) -> list[str]:
    return [m["misconception"] for m in grade(question, text).misconceptions]


def test_more_parameters_claimed_for_a_cnn_in_any_spelling():
    for text in ("CNN have more parameter than DNN, because every layer have many filter.",
                 "convnets need way more paramters than a plain MLP imo",
                 "A convolutional network has more weight to learn than a dense one."):
        assert _stated("q1", text) == ["cnn-more-params"], text
    for text in ("A dense net has many more parameters than a CNN on the same image.",
                 "CNNs have far fewer parameters: no, a CNN does not have more params than an MLP."):
        assert "cnn-more-params" not in _stated("q1", text), text


def test_an_fcn_defined_as_fully_connected_layers_is_the_misconception():
    for text in ("Fully convolutional network means all the layers are fully connected with each other.",
                 "An FCN is one in which every layer is fully-connected to the next one."):
        assert _stated("q7", text) == ["fcn-is-fully-connected"], text
    for text in ("In a normal CNN the last layers are fully connected; an FCN replaces them with convs.",
                 "Not every layer is fully connected in an FCN, none is: only convolutions.",
                 "An FCN has no dense layers, so no layer is fully connected."):
        assert "fcn-is-fully-connected" not in _stated("q7", text), text


# ---- blind11-14 (issue 13): Q4 pooling's parameters in numbers and in consequences


def test_zero_written_as_a_digit_is_no_weights():
    from tests.freetext_support import concepts
    assert "no-weights" in concepts(grade("q4", "MaxPool2d: 0 learnable params, a strided conv has k*k*C*C."))
    # a zero inside a number is not
    assert "no-weights" not in concepts(grade("q4", "The strided conv has 640 weights to train."))


def test_fewer_parameters_from_smaller_maps_is_not_the_misconception():
    assert not _stated("q4", "Pooling shrinks the feature maps, which lowers the parameter count "
                             "of the whole network.")
    assert _stated("q4", "Pooling has fewer parameters than the convolution.") == ["pooling-reduces-params"]


def test_what_one_reads_elsewhere_is_not_asserted():
    assert not _stated("q4", "One often reads that pooling reduces the number of parameters; "
                             "in fact it has none.")


def test_the_explanation_after_a_wrong_claims_colon_earns_nothing():
    from tests.freetext_support import concepts
    g = grade("q3", "Increase the batch size: the GPU works better and the memory gets released sooner. "
                    "Also use fewer filters.")
    assert [m["misconception"] for m in g.misconceptions] == ["larger-batch-for-memory"]
    assert concepts(g) == {"smaller-model"}  # "memory gets released" explains the wrong claim
    # after a semicolon the student says something else, which is graded
    g = grade("q3", "Make the batch bigger: the GPU is busier; also use float16 for the weights.")
    assert "lower-precision" in concepts(g)
