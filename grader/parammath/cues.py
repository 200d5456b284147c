"""The words that say what a Q2 sentence is about (the batch, one prediction, the parameters,
memory, a total, a minimum), in English and in the other languages students write in: Spanish,
French, German, Dutch, Portuguese, Italian, Russian, Swahili and Hindi / Vietnamese / Chinese (pinyin)
in Latin script. One place for them, so a new language is one edit."""

from __future__ import annotations

import re

#: Batch cues ({n}: the batch size, {word}: it in words). Spanish lote/entrenamiento, French
#: lot/entraînement (not English "a lot more"), German Stapel/Training, Dutch trainen, Russian
#: батч/обучение/пакет, Swahili mafunzo (training) / kundi (group).
BATCH_CUE = (r"batch|training|(?:\b|_)train(?!able)|backprop|\blote\b|"
             r"(?<!\ba\s)\blot\b(?!\s+(?:more|less|of)\b)|entrenamiento|entra[iî]nement|"
             r"\bstapel|treinamento|treino|addestramento|allenamento|батч|обучени|\bпакет|mafunzo|kundi|"
             # Swedish, Norwegian / Danish, Czech, Polish, Turkish, Indonesian, Vietnamese, Greek,
             # Romanian, Hungarian; Chinese, Japanese, Korean, Arabic, Hindi, Hebrew (no \b in scripts
             # without spaces between words)
             r"träning|\btrening|træning|trénov|trénink|dávk|\bpaczk|\bpartii?\b|eğitim|pelatihan|"
             r"huấn\s+luyện|εκπαίδευσ|παρτίδ|antrenar|tanítás|训练|批量|批次|学習|バッチ|학습|훈련|배치|"
             r"تدريب|دفعة|ट्रेनिंग|प्रशिक्षण|बैच|אימון|\bxunlian\b|"
             # Persian (training, batch), Thai (training, batch)
             r"آموزش|دسته|ฝึก|แบทช์|"
             r"\(\s*{n}\s*\)|"
             r"\b(?:{n}|{word})\s+(?:images|instances|samples|pictures|inputs|im[aá]genes|bilder|изображени)|"
             r"\bfor\s+(?:all\s+|the\s+)?(?:{n}|{word})\b|"
             # "... x 50" but not a map's shape written tight ("150x100, 75x50 and 38x25")
             r"(?:(?<![\s(,:=]\d\d)(?<![\s(,:=]\d\d\d)[×x]|\*)\s*{n}\b(?!\s*[×x*/+])|"
             # "so 50 × 14.13 = 706.7 MB": the batch size as the first factor (not of a shape, 50x75)
             r"(?<![\d.,])\b{n}\s*[×x*]\s*(?:\(|(?:\d+[.,]\d[\d.,]*|\d{{4,}}|\d+\s*[kKMG]i?B)\b(?!\s*[×x*]))")
PREDICTION_CUE = re.compile(
    r"predict|\bpred\b|\binfer\b|pr[eé]dic|prediz|vorhersage|voorspelling|inferen[cz]|инференс|предсказ|utabiri|single|"
    r"einzel|seule?\b(?!\s+fois)|\bsol[ao]\b(?!\s+vez)|"  # not "une seule fois", "una sola vez" (once)
    r"(?:for|of|with|on|to)\s+(?:one|1|a|an)\s+(?:image|instance|input|sample|picture)|"
    r"\b(?:one|1|a|an)\s+(?:image|instance|input|sample|picture|example|forward\s+pass)\b|"
    r"\b(?:one|1|single)\s+(?:pic|photo)\b|"  # "ram for 1 pic", texting style
    r"\b(?:una|une|un|uma|ein(?:em|es|e)?|ek|één)\s+(?:imagen|image|immagine|imagem|instancia|bild|"
    r"instanz|photo|afbeelding)|одно(?:го)?\s+изображени|"
    r"previs(?:ão|ao|ione)|singol[ao]|\b(?:RAM|memory|mem)\s*\(\s*1\s*\)|"
    r"förutsägelse|prediksjon|predikc|predykc|tahmin|prediksi|dự\s+đoán|πρόβλεψ|predicți|predikció|"
    r"előrejelzés|预测|推理|推論|予測|예측|추론|تنبؤ|प्रेडिक्शन|अनुमान|חיזוי|prediç|\byuce\b|\btuili\b|"
    r"پیش\u200c?\s?بینی|ทำนาย|อนุมาน", re.I
)
#: "7.2 MB per image": right after an amount, in a sentence that names no batch, one prediction.
PER_ONE = re.compile(
    r"\s*(?:per|each|for\s+each|/)\s*(?:image|instance|input|sample|picture|prediction)\b", re.I)
#: "Per image in training: 11.24 MB", "11.24 MB per image": a rate of the batch, not its total.
PER_IMAGE = re.compile(
    r"\b(?:per|each|every|pro|par|por|je|на\s+одно)\s+(?:image|sample|instance|picture|example|input|bild|imagen|"
    r"immagine|imagem|изображени)", re.I)
NUMBER_WORDS = {16: "sixteen", 32: "thirty-two", 50: "fifty", 64: "sixty-four", 100: "hundred",
                128: "hundred and twenty-eight"}
PARAMS_CUE = re.compile(r"param|par[áâ]m|weights?\b|bias|gewicht|peso|tham\s+s[ốô]|параметр|vigezo|"
                        r"παράμετρ|参数|パラメータ|파라미터|매개변수|المعاملات|معامل|पैरामीटर|פרמטר|"
                        r"\bcanshu\b", re.I)
_MEMORY_WORDS = (r"\bRAM\b|memory|\brequire|\bneed|m[ée]moire|mem[oó]ria|speicher|geheugen|памят|"
                 r"нужн|требу|الذاكرة|ذاكرة|\bneicun\b")
RAM_CUE = re.compile(_MEMORY_WORDS + r"|\bat least|minimum|\btotal|overall|answer|"
                     r"\b(?:gives?|giving|makes|comes\s+to|so|thus|therefore|hence|[Ii]\s+get|we\s+get|it\s+is|it's|"
                     r"that\s+makes|this\s+is)\b", re.I)
MEMORY_CUE = re.compile(_MEMORY_WORDS, re.I)
TOTAL_CUE = re.compile(
    r"total|overall|altogether|in all|sum|whole|answer|the (?:cnn|network|model) has|insgesamt|всего|"
    r"итого|totaal|jumla|zong\s*gong|\bzongji\b", re.I
)
NOT_A_COUNT_OF_PARAMS = re.compile(
    r"\s*-?[ \t]*(?:images?|instances?|samples?|pictures?|pixels?|feature\s*maps?|maps?|filters?|"
    r"channels?|bits?\b|layers?|kernels?|floats?|values?|neurons?|units?)",
    re.I,
)
#: "at least 12.6 MB" in the answer's languages (minstens, mindestens, au moins, al menos, pelo
#: menos, almeno, не менее, как минимум, angalau).
AT_LEAST = re.compile(
    r"\b(?:at\s+least|minimum(?:\s+of)?|min\.?|no\s+less\s+than|minstens|minimaal|mindestens|"
    r"au\s+moins|al\s+menos|pelo\s+menos|almeno|как\s+минимум|минимум|не\s+менее|angalau|zhishao)"
    r"\s*[:=]?\s*[~≈]?\s*$", re.I)
#: Before a value: the student rejects it ("not 903,400", "nicht", "pas", "не 903 400").
NEGATED_BEFORE = re.compile(
    r"\b(?:not|n't|never|isn'?t|no\s+longer|instead\s+of|rather\s+than|nicht|pas|no\s+(?:es|son)|"
    r"não\s+(?:é|são)|non\s+(?:è|sono)|не)\s+(?:(?:need|needs|require|requires|equal|equals|be|"
    r"exactly|just|only|about|around|really)\s+){0,2}[~≈]?\s*$|(?:≠|!=|=/=)\s*[~≈]?\s*$", re.I)

#: A line opened with the word for parameters and a colon: "Parameters: 903,400", "**Params** = 903400".
LABELLED_COUNT = re.compile(r"(?:^|\n)[ \t>*_#-]*(?:total\s+)?(?:param\w*|weights)[*_]*\s*[:=][ \t*_]*$",
                            re.I)
