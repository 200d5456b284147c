"""description.describe_model of a saved Keras model read from its file, never built
(`describe_file`): the architecture from config.json, every layer's output shape inferred along
its graph (shapes.py), its parameters from the saved weights' shapes (h5py reads shapes, not the
arrays), its trainable flags, loss and optimizer steps. This is what checking a pretrained
model's architecture needs (grader/checks/modelfile.py), without the ~6 CPU seconds of importing
TensorFlow that loading it costs. Runs in the sandboxed evaluator.

The file is the student's, so nothing in it is trusted beyond what Keras itself would do with
it: only Keras's own layers (fitfile._plain_config), every weight's shape must be the one its
layer's config implies (a file Keras would refuse to load), every tensor shape the file records
must be the one inferred here, and a layer shared by two calls, a layer with several outputs, a
model nested twice or trainable flags Keras may reconcile on loading raise `Unsupported`: the
evaluator then loads the model with Keras, as before. Checked equal to Keras's description on
real models (tests/test_evaluator_filedescription.py)."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

from grader.evaluation import fitfile
from grader.evaluation.numpymodel import _CONFIG_KEYS, _jsonable, _steps
from grader.evaluation.savedfile import Unsupported, read_saved, saved_variables
from grader.evaluation.shapes import Shape, infer

_MODELS = ("Functional", "Sequential")
#: string losses Keras compiles again on loading, and the loss classes described by their config
_LOSS_NAMES = ("sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy")
_LOSS_CLASSES = ("SparseCategoricalCrossentropy", "CategoricalCrossentropy", "BinaryCrossentropy")


@dataclass
class _Node:
    """One layer of a graph: its config entry, output shape, variable shapes, and for a nested
    model its own layers."""
    entry: dict[str, Any]
    out: Shape
    weights: list[Shape]
    learnable: int
    subs: list[_Node] = field(default_factory=list)
    in_shape: Shape | None = None

    @property
    def cls(self) -> str:
        return str(self.entry.get("class_name"))

    @property
    def cfg(self) -> dict[str, Any]:
        return self.entry["config"]

    @property
    def trainable(self) -> bool:
        return bool(self.cfg.get("trainable", True))

    def params(self) -> int:
        return sum(math.prod(s) for s in self.weights) + sum(n.params() for n in self.subs)

    def trainable_params(self) -> int:
        """Keras's `trainable_weights`: none when the layer is not trainable, else its own
        trainable variables and its sublayers' (each by its own flag)."""
        if not self.trainable:
            return 0
        return sum(math.prod(s) for s in self.weights[:self.learnable]) \
            + sum(n.trainable_params() for n in self.subs)


def _tensor(arg: Any) -> tuple[str, dict[str, Any]]:
    """(producing layer's name, the recorded tensor config) of one serialised Keras tensor."""
    if not isinstance(arg, dict) or arg.get("class_name") != "__keras_tensor__":
        raise Unsupported("a layer called on something other than a tensor")
    tcfg = arg.get("config") or {}
    history = tcfg.get("keras_history")
    if not isinstance(history, list) or len(history) != 3 or history[1:] != [0, 0]:
        raise Unsupported("a shared layer or a layer with several outputs")
    return str(history[0]), tcfg


def _recorded(tcfg: dict[str, Any], shape: Shape) -> None:
    """A tensor shape the file records must be the inferred one."""
    if "shape" in tcfg and list(tcfg["shape"]) != list(shape):
        raise Unsupported(f"a tensor recorded as {str(tcfg['shape'])[:40]}, inferred {list(shape)}")


def _entries(model: dict[str, Any]) -> list[dict[str, Any]]:
    layers = (model.get("config") or {}).get("layers")
    if not isinstance(layers, list) or not layers or len(layers) > 2000:
        raise Unsupported("no list of layers")
    if any(not isinstance(e, dict) or not isinstance(e.get("config"), dict) for e in layers):
        raise Unsupported("a layer entry that is not a dict")
    return layers


def _input_shape(entry: dict[str, Any]) -> Shape:
    shape = entry["config"].get("batch_shape")
    if entry.get("class_name") != "InputLayer" or not isinstance(shape, list) or len(shape) < 2 \
            or shape[0] is not None or not all(
                d is None or (isinstance(d, int) and not isinstance(d, bool) and 0 < d <= 1 << 16)
                for d in shape[1:]):
        raise Unsupported(f"an input of shape {str(shape)[:60]}")
    return tuple(shape)


def _layer(entry: dict[str, Any], inputs: list[Shape], depth: int) -> _Node:
    cls = str(entry.get("class_name"))
    if cls in _MODELS:
        if depth:
            raise Unsupported("a model nested inside a nested model")
        subs, out = _graph(entry, depth + 1)
        if len(inputs) != 1 or list(inputs[0]) != list(subs[0].out):
            raise Unsupported("a nested model called on another shape than its input")
        return _Node(entry, out, [], 0, subs, subs[0].out)
    out, weights, learnable = infer(cls, entry["config"], inputs)
    return _Node(entry, out, weights, learnable)


def _graph(model: dict[str, Any], depth: int = 0) -> tuple[list[_Node], Shape]:
    """Every layer of a Sequential (a chain from its InputLayer) or a Functional model (a graph
    in config order, each layer called once on layers before it), with its output shape."""
    entries = _entries(model)
    if entries[0].get("class_name") != "InputLayer":
        raise Unsupported("a model whose first layer is not its input")
    nodes = [_Node(entries[0], _input_shape(entries[0]), [], 0)]
    if model.get("class_name") == "Sequential":
        for entry in entries[1:]:
            nodes.append(_layer(entry, [nodes[-1].out], depth))
        return nodes, nodes[-1].out
    if model.get("class_name") != "Functional":
        raise Unsupported(f"model class {str(model.get('class_name'))[:40]}")
    cfg = model["config"]
    by_name: dict[str, _Node] = {}
    for entry in entries:
        name = str(entry.get("name") or entry["config"].get("name"))
        if name in by_name or name != entry["config"].get("name"):
            raise Unsupported("two layers of one name")
        if entry is not entries[0]:
            if entry.get("class_name") == "InputLayer":
                raise Unsupported("a model with several inputs")
            node_list = entry.get("inbound_nodes")
            if not isinstance(node_list, list) or len(node_list) != 1 or not isinstance(node_list[0], dict):
                raise Unsupported(f"layer {name[:40]} called {len(node_list or [])} times")
            args, kwargs = node_list[0].get("args"), node_list[0].get("kwargs") or {}
            if not isinstance(args, list) or len(args) != 1 or not isinstance(kwargs, dict) \
                    or not set(kwargs) <= {"training", "mask"} \
                    or any(v not in (None, True, False) for v in kwargs.values()):  # shapes alike
                raise Unsupported(f"layer {name[:40]} called with arguments")
            tensors = [_tensor(a) for a in (args[0] if isinstance(args[0], list) else [args[0]])]
            if any(t not in by_name for t, _ in tensors):
                raise Unsupported("a layer called on a layer after it")
            shapes = [by_name[t].out for t, _ in tensors]
            for (_, tcfg), shape in zip(tensors, shapes, strict=True):
                _recorded(tcfg, shape)
            nodes.append(_layer(entry, shapes, depth))
        by_name[name] = nodes[-1]
    ends = [cfg.get(k) for k in ("input_layers", "output_layers")]
    ends = [e[0] if isinstance(e, list) and len(e) == 1 and isinstance(e[0], list) else e for e in ends]
    if ends[0] != [nodes[0].cfg.get("name"), 0, 0] or not isinstance(ends[1], list) or len(ends[1]) != 3 \
            or ends[1][1:] != [0, 0] or ends[1][0] not in by_name:
        raise Unsupported("a Functional model with several inputs or outputs")
    return nodes, by_name[ends[1][0]].out


def _check_weights(h5: Any, config: dict[str, Any], top: list[_Node]) -> list[tuple[dict[str, Any], Any]]:
    """Every layer's saved variables must have the shapes its config implies (else Keras would
    refuse the file); returns the top-level (entry, vars group) pairs (for the optimizer)."""
    saved = fitfile._children(h5, "", fitfile._saved_layers(config))
    if saved is None:
        raise Unsupported("the weights file's layers do not match the config")
    nodes = {id(n.entry): n for n in top}
    for entry, group in saved:
        node = nodes[id(entry)]
        if node.subs:
            subs = fitfile._children(h5, fitfile._group_path(h5, saved, entry), fitfile._saved_layers(entry))
            if subs is None:
                raise Unsupported(f"the saved layers of {node.cfg.get('name')} do not match its config")
            inner = {id(n.entry): n for n in node.subs}
            for sub_entry, sub_group in subs:
                _same_shapes(inner[id(sub_entry)], sub_group)
        _same_shapes(node, group)
    return saved


def _same_shapes(node: _Node, group: Any) -> None:
    saved_variables(group, str(node.cfg.get("name")), node.weights)


def _loss(config: dict[str, Any]) -> dict[str, Any] | None:
    compiled = config.get("compile_config")
    if not compiled:  # as Keras: an uncompiled model saves {}
        return None
    if not isinstance(compiled, dict) or not all(isinstance(m, str) for m in compiled.get("metrics") or []) \
            or compiled.get("loss_weights") or compiled.get("weighted_metrics"):
        raise Unsupported("a compile config Keras may not restore")
    loss = compiled.get("loss")
    if loss is None:
        return None
    if isinstance(loss, str) and loss in _LOSS_NAMES:
        return {"name": loss, "from_logits": False}
    if isinstance(loss, dict) and loss.get("module") == "keras.losses" \
            and loss.get("class_name") in _LOSS_CLASSES:
        cfg = loss.get("config") or {}
        return {"name": str(cfg.get("name") or loss["class_name"]), "class": loss["class_name"],
                "from_logits": bool(cfg.get("from_logits", False))}
    raise Unsupported(f"loss {str(loss)[:80]}")


def _row(node: _Node) -> dict[str, Any]:
    row = {"class": node.cls, "name": str(node.cfg.get("name")), "output_shape": list(node.out),
           "params": node.params(), "trainable": node.trainable, "trainable_params": node.trainable_params(),
           "config": {k: _jsonable(node.cfg[k]) for k in _CONFIG_KEYS if k in node.cfg}}
    if node.subs:
        layers = node.subs[1:] if node.cls == "Sequential" else node.subs  # Keras's `layers`
        row.update(nested=True, n_layers=len(layers), input_shape=list(node.in_shape or ()),
                   trainable_layers=sum(1 for n in layers if n.trainable and n.weights),
                   weighted_layers=sum(1 for n in layers if n.weights))
    return row


def describe_file(path: str, facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """describe_model's description of the model saved at `path`, from the file alone; raises
    Unsupported (with the reason) for anything Keras may see otherwise."""
    import h5py

    config, weights = read_saved(path)
    top_cfg = config.get("config") if isinstance(config.get("config"), dict) else {}
    if top_cfg.get("trainable", True) is not True:
        raise Unsupported("a model marked not trainable")
    nodes, out = _graph(config)
    for node in nodes:
        if any(sub.trainable and sub.weights for sub in node.subs) and not node.trainable:
            raise Unsupported("trainable layers inside a frozen base (flags Keras may reconcile)")
    loss = _loss(config)
    try:
        with h5py.File(io.BytesIO(weights), "r") as h5:
            saved = _check_weights(h5, config, nodes)
            steps = _steps(h5, config, saved)
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise Unsupported(f"malformed weights ({type(exc).__name__}: {str(exc)[:120]})") from exc
    rows = nodes[1:] if config.get("class_name") == "Sequential" else nodes  # Keras's `model.layers`
    described = [_row(n) for n in rows[:500]]
    return {"class": str(config.get("class_name")), "name": str(top_cfg.get("name", "")), "layers": described,
            "input_shape": list(nodes[0].out), "output_shape": list(out),
            "params": sum(n.params() for n in nodes),
            "trainable_params": sum(n.trainable_params() for n in nodes), "loss": loss,
            "optimizer_steps": steps, "declared_params": (facts or {}).get("declared_params")}
