"""Which answers are not English (grader/textlang.py): every foreign language goes to a human,
English full of slang, typos, code or LaTeX does not."""

from __future__ import annotations

import pytest

from grader.textlang import guess_language
from tests.freetext_support import grade

FOREIGN = [
    "Las redes convolucionales comparten los pesos del filtro en toda la imagen, así que "
    "necesitan muchos menos parámetros que una red densa.",
    "Hay que bajar el batch size y usar float16, eso reduce la memoria que ocupa el modelo.",
    "Man muss die Batchgröße verkleinern, dann passt das Modell in den Speicher der GPU.",
    "Bisogna ridurre il batch size oppure usare la precisione mista, così la memoria basta.",
    "Batch boyutunu küçültmek gerekiyor, ayrıca float16 kullanabilirsin, böylece bellek yeter.",
    "Evrişimli ağlar ağırlıkları paylaşır, bu yüzden çok daha az parametreye ihtiyaç duyarlar.",
    "CNN me weights share hote hain isliye parameters kam hote hai, aur spatial structure bhi rehta hai.",
    "Batch size chhota karo, ya phir mixed precision use karo, memory bach jayegi.",
    "Свёрточные сети используют одни и те же веса, поэтому параметров намного меньше.",
    "卷积神经网络共享权重，所以参数比全连接网络少很多。",
    "畳み込みニューラルネットワークは重みを共有するので、パラメータが少ないです。",
    "Reţeaua pierde rezoluţia din cauza pooling-ului şi trebuie să clasifice fiecare pixel.",
]

ENGLISH = [
    "ngl cnn just reuses the same lil filter everywhere so u got way less params, mlp would "
    "overfit af lol",
    "the convlution shares wieghts so theres much les paramters then a dense netwrok, and it "
    "keep the spatail structur",
    "just do `model.fit(x, y, batch_size=16)` and `set_global_policy('mixed_float16')` thats it",
    "x = Conv2D(32, 3, padding='same')(x)\ny = MaxPool2D()(x)\nso the pool has no weights o_O",
    "$$\\sum_{i} w_i x_{i+k}$$ is a correlation: y[n] = sum_k h[k] x[n-k], con kernel h shared",
    "Let $y = a x + e$ where $e$ is noise and $a$ is shared, so y o e are just names here.",
    "With $k=3$ and $C_{in}=C_{out}=64$ a conv has $k^2 C_{in} C_{out}$ params vs $10^9$ dense.",
    "In CNN the filter is same for all position of image so the parameter is very less and also "
    "it can detect the feature in any place.",
    "Basically the filter is shared yaar, so params are less, and it keeps the spatial structure na.",
]


@pytest.mark.parametrize("text", FOREIGN)
def test_foreign_answers_are_not_english(text):
    assert not guess_language(text).english


@pytest.mark.parametrize("text", ENGLISH)
def test_english_with_slang_code_or_latex_stays_english(text):
    assert guess_language(text).english, guess_language(text)


def test_a_foreign_answer_is_flagged_whatever_it_scores():
    g = grade("q3", "Hay que bajar el batch size y usar float16 (mixed precision), así la GPU "
                    "tiene memoria suficiente para el modelo.")
    assert g.confidence < 0.5 and g.language != "English"
