"""Q2 reference values: built from the real Keras model, cached for the TF-free static path."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from grader.checks.parammath import grade_text
from grader.rubric import load_rubric
from reference import compute, q2_memory

ROOT = Path(__file__).resolve().parent.parent
RUBRIC = ROOT / "rubrics" / "assignment06.yaml"


def _q2_params(rubric=None) -> dict:
    return (rubric or load_rubric()).item("q2.params").params


def _by_hand(network: dict) -> dict:
    """The textbook arithmetic, independent of Keras and of reference/q2_memory.py."""
    h, w, c = network["input"]
    rows = []

    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    for layer in network["layers"]:
        (kh, kw), (sh, sw), f = pair(layer["kernel"]), pair(layer["stride"]), layer["filters"]
        if layer["padding"] == "same":
            h, w = math.ceil(h / sh), math.ceil(w / sw)
        else:
            h, w = (h - kh) // sh + 1, (w - kw) // sw + 1
        rows.append({"params": (kh * kw * c + 1) * f, "output_shape": [h, w, f]})
        c = f
    return {"layers": rows, "total_params": sum(r["params"] for r in rows)}


def test_cached_facts_equal_what_keras_computes():
    network = q2_memory.normalize_network(_q2_params())
    cached, source = q2_memory.facts_for(network)
    assert source == "cache"
    fresh = q2_memory.keras_facts(network)  # builds the real model (imports TensorFlow)
    assert {k: v for k, v in cached.items() if k != "keras_version"} == {
        k: v for k, v in fresh.items() if k != "keras_version"
    }


def test_every_rubric_network_is_cached_so_grading_never_needs_tensorflow():
    rubric = load_rubric()
    cache = q2_memory.load_cache()
    for item in rubric.items:
        if item.params.get("reference") == "conv_net_memory":
            key = q2_memory.spec_key(q2_memory.normalize_network(item.params))
            assert key in cache, (
                f"{item.id}: network not cached; run python -m reference.q2_memory --update-cache"
            )


def test_values_match_the_textbook_arithmetic_and_the_issue_figures():
    params = _q2_params()
    ref = compute("reference.assignment06", "conv_net_memory", params)
    hand = _by_hand(ref["network"])
    assert ref["params_total"] == hand["total_params"]
    assert [layer["params"] for layer in ref["layers"]] == [r["params"] for r in hand["layers"]]
    assert [layer["output_shape"] for layer in ref["layers"]] == [r["output_shape"] for r in hand["layers"]]
    # the figures the issue quotes, to their rounding
    pred, batch = ref["ram_prediction"], ref["ram_batch"]
    assert pred["optimised-minimum"] / 1e6 == pytest.approx(12.6, abs=0.05)
    assert pred["all-layers-kept"] / 1e6 == pytest.approx(14.1, abs=0.05)
    assert pred["all-layers-kept"] / 2**20 == pytest.approx(13.47, abs=0.01)
    assert batch["batch-minimum"] / 1e6 == pytest.approx(564.6, rel=0.005)
    assert ref["bytes_per_value"] == 4 and ref["batch_size"] == 50


def test_static_path_computes_q2_without_importing_tensorflow():
    code = (
        "import sys\n"
        "from grader.rubric import load_rubric\n"
        "from reference import compute\n"
        "r = load_rubric()\n"
        "v = compute(r.reference, 'conv_net_memory', r.item('q2.params').params)\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
        "print(v['source'], v['params_total'], len(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert out[0] == "cache" and out[2] == "0"
    assert int(out[1]) == _by_hand(q2_memory.normalize_network(_q2_params()))["total_params"]


def test_changing_only_the_yaml_gives_new_correct_values(tmp_path):
    data = yaml.safe_load(RUBRIC.read_text(encoding="utf-8"))
    q2 = next(q for q in data["questions"] if q["id"] == "q2")
    network = {
        "input": [64, 96, 1],
        "dtype": "float32",
        "batch_size": 16,
        "layers": [
            {"type": "conv2d", "filters": 32, "kernel": 5, "stride": 1, "padding": "same"},
            {"type": "conv2d", "filters": 48, "kernel": 3, "stride": 2, "padding": "valid"},
        ],
    }
    for item in q2["items"]:
        item["params"]["network"] = network
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    rubric = load_rubric(path)
    params = _q2_params(rubric)
    ref = compute(rubric.reference, "conv_net_memory", params)
    assert ref["source"] == "keras"  # not in the cache: built with Keras now
    hand = _by_hand(q2_memory.normalize_network(params))
    assert ref["params_total"] == hand["total_params"] == (5 * 5 * 1 + 1) * 32 + (3 * 3 * 32 + 1) * 48
    assert [layer["output_shape"] for layer in ref["layers"]] == [r["output_shape"] for r in hand["layers"]]
    maps = [math.prod(r["output_shape"]) * 4 for r in hand["layers"]]
    inputs = 64 * 96 * 1 * 4
    assert ref["ram_prediction"]["optimised-minimum"] == max(inputs + maps[0], maps[0] + maps[1]) + (
        hand["total_params"] * 4
    )
    assert ref["ram_batch"]["batch-minimum"] == 16 * (sum(maps) + inputs) + hand["total_params"] * 4
    # the check follows: the new total earns credit, the assignment's 903,400 does not
    total = f"{hand['total_params']:,}"
    assert grade_text(f"Total: {total} parameters.", "params", params).credit == 1.0
    assert grade_text("Total: 903,400 parameters.", "params", params).credit == 0.0
    batch_mb = ref["ram_batch"]["batch-minimum"] / 1e6
    o = grade_text(f"Training on a batch of 16 needs about {batch_mb:.1f} MB of RAM.", "ram_batch", params)
    assert o.credit == 1.0, o.feedback
    # nothing was written to the committed cache
    assert q2_memory.spec_key(q2_memory.normalize_network(params)) not in q2_memory.load_cache()


@pytest.mark.parametrize(
    "network, message",
    [
        (None, "params.network is missing"),
        ({"input": [200, 300], "layers": []}, "params.network.input"),
        ({"input": [8, 8, 3], "layers": [{"type": "dense", "filters": 3}]}, "only type conv2d"),
        ({"input": [8, 8, 3], "layers": [{"filters": 3, "padding": "full"}]}, "padding"),
        ({"input": [8, 8, 3], "layers": [{"filters": 3}], "batch_size": 0}, "batch_size"),
    ],
)
def test_a_bad_network_description_gets_a_one_line_message(network, message):
    with pytest.raises(q2_memory.NetworkSpecError) as err:
        q2_memory.normalize_network({"network": network} if network is not None else {})
    assert message in str(err.value) and "\n" not in str(err.value)


def test_cache_file_is_valid_json_keyed_by_the_spec_hash():
    cache = json.loads(q2_memory.CACHE_FILE.read_text(encoding="utf-8"))
    for key, entry in cache.items():
        assert q2_memory.spec_key({**entry["network"], "batch_size": 1}) == key
