"""Measure a student's trained model outside the student's kernel, on data the grader holds.

The kernel saved each trained model as `.keras` (capture dir). The grader side (`process`)
copies that file into a fresh sandbox (grader/execute/sandbox.py: bubblewrap, no network, its
own memory cap and a time limit) and runs the evaluator there (`python -c <program>`: the
modules below as source, so the grader's package stays hidden from it; `process.program`).
For each model the evaluator (`inprocess.measure_in_process`):

1. inspects the file before loading it (`inspection`): the zip's member sizes, and the
   parameter count the config declares, computed without building anything, so a 1 KB config
   declaring 300M parameters is refused with a status instead of allocating gigabytes;
2. reads a simple model (a chain of Keras's own common layers) with h5py and runs it with NumPy,
   never importing TensorFlow (`numpymodel`); anything else it loads with Keras' `safe_mode`
   (no deserialised Python code), recording why (`reader` in the result);
3. rebuilds the inputs from the official data files with the student's preprocessing as
   captured (`inputs`: an affine map of raw pixels, the sample shape, a resize when the student
   resized), and checks them against the statistics the capture recorded: inputs the grader
   cannot reproduce are a status (`input-mismatch`), not a number;
4. predicts on the official test set with the official labels, never on the student's own
   split or labels;
5. probes memorisation and test-set training (`memorisation`): the model's accuracy on the test
   set against a grader-chosen sample of the training set (and, as evidence, shifted noisy
   copies of both).

It prints one JSON object per model. Student code is never imported or executed there. Every
result of a model that loaded carries `file_model` (`description.describe_model`): the
architecture as the file holds it, which the checks score from (grader/checks/modelfile.py),
never from the kernel's capture. A spec with `inspect: true` only loads and describes the model
(no data needed); with `training: true` as well (a model saved after one fit()) it describes how
the file was trained (`description.describe_training`, or `fitfile.training_from_file` without
building the model: optimizer, base trainable flags, base weights against the grader's own
ImageNet weights, `imagenet`).

This package's `__init__` runs in the sandbox too: it imports nothing.
"""
