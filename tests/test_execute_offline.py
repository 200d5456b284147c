"""Offline data inside a real kernel: the Keras dataset loaders and pretrained weights come from
the grader's data directory, through every namespace students reach them by."""

from __future__ import annotations

import nbformat

from grader.execute.runner import ExecutionOptions, execute_notebook


def _run(cells: list[str], data_dir, profile: str = "quick"):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    options = ExecutionOptions(data_dir=str(data_dir), profile=profile, cell_timeout=120, timeout=300,
                               memory="4G")
    return execute_notebook(nb, options)


def test_mnist_and_cifar10_come_from_the_data_dir(data_dir):
    import numpy as np

    with np.load(data_dir / "mnist.npz") as f:
        mnist_sum = int(f["x_test"][:100].sum())
    with np.load(data_dir / "cifar10-10k.npz") as f:
        cifar_sum = int(f["x_train"][:10].sum())
    record = _run([
        "import keras, numpy as np\n"
        "(x, y), (xt, yt) = keras.datasets.mnist.load_data()\n"
        "print(x.shape, x.dtype, xt.shape, int(xt[:100].sum()), np.bincount(yt).tolist())",
        "from tensorflow.keras.datasets import mnist, cifar10\n"
        "(a, b), (c, d) = mnist.load_data()\n"
        "print('tf.keras mnist', a.shape, int(c[:100].sum()))",
        "(a, b), (c, d) = cifar10.load_data()\n"
        "print('cifar', a.shape, b.shape, a.dtype, c.shape, int(a[:10].sum()))",
        "import tensorflow as tf\n"
        "(a, b), _ = tf.keras.datasets.cifar10.load_data()\n"
        "print('tf cifar', a.shape)",
    ], data_dir)
    assert record.status == "completed", record.problems
    assert not record.problems, record.problems
    out = [c.output_text for c in record.cells]
    assert f"(60000, 28, 28) uint8 (10000, 28, 28) {mnist_sum}" in out[0]
    assert "[980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]" in out[0]
    assert f"tf.keras mnist (60000, 28, 28) {mnist_sum}" in out[1]
    assert f"cifar (10000, 32, 32, 3) (10000, 1) uint8 (10000, 32, 32, 3) {cifar_sum}" in out[2]
    assert "tf cifar (10000, 32, 32, 3)" in out[3]
    assert str(data_dir / "mnist.npz") in record.data_files
    assert any(s["used"] == "cifar10-10k.npz" for s in record.substitutions)
    assert record.seeds.get("keras") == 42 and record.seeds.get("numpy") == 42
    assert record.versions.get("tensorflow") and record.versions.get("keras")
    assert record.device == "cpu" or record.device.startswith("gpu")


def test_tensorflow_imported_first_still_gets_offline_data_and_capture(data_dir):
    """alice's order: `import tensorflow` first, which imports keras inside a try block."""
    record = _run([
        "import tensorflow as tf\nfrom tensorflow.keras import layers, models\n"
        "from tensorflow.keras.datasets import mnist",
        "(x, y), (xt, yt) = mnist.load_data()\nprint('mnist', x.shape)\n"
        "m = models.Sequential([layers.Input((28, 28)), layers.Flatten(), layers.Dense(10)])\n"
        "m.compile('adam', tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n"
        "m.fit(x[:64] / 255, y[:64], epochs=1, verbose=0)",
    ], data_dir)
    assert not record.problems, record.problems
    assert "mnist (60000, 28, 28)" in record.cells[1].output_text
    assert record.versions.get("keras") and record.seeds.get("keras") == 42
    assert [f.get("cell") for f in record.fits] == [1]


def _conv1_kernel_sum(path) -> float:
    import h5py
    import numpy as np

    with h5py.File(path, "r") as f:
        names: list[str] = []
        f.visit(lambda n: names.append(n) if isinstance(f[n], h5py.Dataset) and "Conv1" in n else None)
        return float(np.abs(np.asarray(f[sorted(names)[0]])).sum())


def test_full_profile_missing_weights_fail_the_cell_and_other_sizes_map_to_the_same_alpha(data_dir):
    """A missing file names itself and where to put it; a no-top file for another input size
    loads the same alpha's 224-pixel no-top weights, recorded as a substitution."""
    missing = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5"
    assert not (data_dir / "weights" / missing).exists()
    cells = ["import keras, numpy as np\n"
             "base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, "
             "weights='imagenet')"]
    for alpha in ("0.35", "0.5"):
        cells.append(
            "base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, "
            f"alpha={alpha}, weights='imagenet')\n"
            "print('conv1', float(np.abs(base.get_layer('Conv1').get_weights()[0]).sum()))")
    record = _run(cells, data_dir, profile="full")
    run = record.cell(0)
    assert run.status == "error" and run.error_name == "OfflineFileMissing"
    assert missing in run.error_value and str(data_dir / "weights") in run.error_value
    assert record.missing_weights == []
    for index, alpha in ((1, "0.35"), (2, "0.5")):
        expected = _conv1_kernel_sum(
            data_dir / "weights" / f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{alpha}_224_no_top.h5")
        assert record.cell(index).status == "ok", record.problems
        assert f"conv1 {expected}"[:12] in record.cell(index).output_text
    subs = [(s["requested"].rsplit("_", 4)[1:3], s["used"].rsplit("_", 4)[1:3]) for s in record.substitutions]
    assert subs == [(["0.35", "96"], ["0.35", "224"]), (["0.5", "96"], ["0.5", "224"])]


def test_quick_profile_builds_random_weights_and_records_it(data_dir):
    record = _run([
        "import keras\n"
        "base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False,\n"
        "                                      weights='imagenet')\n"
        "print(base.count_params())",
    ], data_dir, profile="quick")
    assert record.cell(0).status == "ok", record.problems
    assert "2257984" in record.cell(0).output_text
    [missing] = record.missing_weights
    assert missing["model"] == "MobileNetV2" and "1.0_96_no_top" in missing["file"]
    assert "random weights" in missing["reason"]




def test_a_data_dir_reached_through_a_symlink_is_readable_by_its_given_path(data_dir, tmp_path):
    link = tmp_path / "datasets"
    link.symlink_to(data_dir)
    record = _run([f"import numpy as np\nprint(np.load({str(link / 'mnist.npz')!r})['y_test'].shape)"],
                  link)
    assert not record.problems, record.problems
    assert "(10000,)" in record.cells[0].output_text
