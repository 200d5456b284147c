"""Write the red-team notebooks for question 10's training method (issue 14: the transfer steps
come from the model files the grader saved after each fit, not from the capture); rerun after
edits. Expected outcomes are asserted in tests/test_redteam_transfer.py. Small on purpose: the
real CIFAR-10 subset and the real alpha-0.35 ImageNet weights from the data directory, about
1,500 training images (192 where the base trains unfrozen), one epoch per fit. Written the way students write.

- honest_transfer: frozen base first, then the top of the base unfrozen with a 10x lower
  learning rate: every training step met;
- unfrozen_from_start: the honest counterpart of the first attack: the base's top 20 layers
  trained from the first fit, then again with the same learning rate;
- forged_frozen_first: the same training, then the capture found through gc.get_objects() and
  edited to claim a frozen first fit and a lower learning rate for the second;
- random_base: the honest counterpart of the second attack: MobileNetV2 with weights=None,
  frozen first and fine-tuned (a method without the pretrained weights);
- forged_weights_source: the same, with the capture's weight source (and a load_weights entry)
  forged to name the ImageNet file.
"""

from __future__ import annotations

from build import write_all  # the same notebook frame as the other red-team notebooks (run from here)

LOAD = """\
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
(xtrain, ytrain), (xtest, ytest) = keras.datasets.cifar10.load_data()
ytrain, ytest = ytrain.ravel(), ytest.ravel()
x_tr, y_tr = xtrain[:1500].astype('float32'), ytrain[:1500]
x_val, y_val = xtrain[1500:1800].astype('float32'), ytrain[1500:1800]
x_te, y_te = xtest[:500].astype('float32'), ytest[:500]
print(np.bincount(y_tr))"""


#: the attacks' base is trained from the first fit, its top 20 layers (a full backward pass
#: through MobileNetV2 takes ~40 s to trace on a loaded CPU)
UNFREEZE_TOP = "\nfor l in base.layers[:-20]:\n    l.trainable = False"


def model_cell(weights: str, frozen: bool, data: str = "x_tr, y_tr", val: str = "x_val, y_val") -> str:
    return f"""\
base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, include_top=False,
                                      weights={weights})
base.trainable = {not frozen}{UNFREEZE_TOP if not frozen else ""}
inp = keras.Input(shape=(32, 32, 3))
h = layers.Resizing(96, 96)(inp)
h = layers.Rescaling(1./127.5, offset=-1)(h)
h = base(h, training=False)
h = layers.GlobalAveragePooling2D()(h)
out = layers.Dense(10, activation='softmax')(h)
clf = keras.Model(inp, out)
clf.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss='sparse_categorical_crossentropy',
            metrics=['accuracy'])
h1 = clf.fit({data}, epochs=1, batch_size=64, validation_data=({val}))"""


def second_fit(lr: str, unfreeze: bool, data: str = "x_tr, y_tr", val: str = "x_val, y_val") -> str:
    head = "base.trainable = True\nfor l in base.layers[:-20]:\n    l.trainable = False\n" if unfreeze else ""
    return head + f"""\
clf.compile(optimizer=keras.optimizers.Adam({lr}), loss='sparse_categorical_crossentropy',
            metrics=['accuracy'])
h2 = clf.fit({data}, epochs=1, batch_size=64, validation_data=({val}))"""


EVALUATE = """\
test_loss, test_acc = clf.evaluate(x_te, y_te, verbose=0)
print('test accuracy', test_acc)"""

# every fit record says: base frozen in the first, learning rate 1e-5 in the later ones
FORGE_FROZEN = """\
import gc
n = 0
for o in gc.get_objects():
    if isinstance(o, dict) and 'saved_models' in o and 'fits' in o:
        for i, f in enumerate(o['fits']):
            if i == 0:
                for b in (f.get('trainable') or {}).get('bases', []):
                    b['trainable_params'] = 0
                    b['trainable_layers'] = 0
            elif f.get('optimizer'):
                f['optimizer']['learning_rate'] = 1e-05
            n += 1
print('edited', n)"""

FORGE_SOURCE = """\
import gc
IMAGENET = '/root/.keras/models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5'
n = 0
for o in gc.get_objects():
    if isinstance(o, dict) and 'saved_models' in o and 'models' in o:
        for m in o['models']:
            for row in m.get('layers', []):
                if row.get('nested'):
                    row['weights_source'] = IMAGENET
                    n += 1
        o['load_weights'].append({'cell': 3, 'model_name': 'mobilenetv2_0.35_96', 'file': IMAGENET})
print('edited', n)"""

#: the unfrozen base trains slowly on CPU: those notebooks fit 192 images (3 steps) per fit
FEW, FEW_VAL = "x_tr[:192], y_tr[:192]", "x_val[:64], y_val[:64]"

NOTEBOOKS = {
    "honest_transfer": [LOAD, model_cell("'imagenet'", True), second_fit("1e-4", True), EVALUATE],
    "unfrozen_from_start": [LOAD, model_cell("'imagenet'", False, FEW, FEW_VAL),
                            second_fit("1e-3", False, FEW, FEW_VAL), EVALUATE],
    "forged_frozen_first": [LOAD, model_cell("'imagenet'", False, FEW, FEW_VAL),
                            second_fit("1e-3", False, FEW, FEW_VAL), EVALUATE, FORGE_FROZEN],
    "random_base": [LOAD, model_cell("None", True), second_fit("1e-4", True), EVALUATE],
    "forged_weights_source": [LOAD, model_cell("None", True), second_fit("1e-4", True), EVALUATE,
                              FORGE_SOURCE],
}


if __name__ == "__main__":
    write_all(NOTEBOOKS, heading="#### 10. Transfer learning (MobileNetV2, CIFAR-10)")
