"""Write the layout notebooks of tests/layouts/ (run: python3 tests/layouts/make_layouts.py).

Each notebook is laid out the way a real hand-in was (one markdown cell for everything, answers
typed into code cells, labels without spaces, unnumbered headings, shifted or other-edition
numbering, unlabelled code, hidden text...), written in students' words, not the rubric's. The
cells each question should be located in are stored in the notebook's metadata
(`metadata.layout.expected`: question -> cells; `absent`: questions a careful reader would not
find) and checked by tests/test_layouts.py. Regenerate and commit the .ipynb files after an edit.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ALL = [f"q{n}" for n in range(1, 11)]


@dataclass
class C:
    """A cell and the questions it belongs to."""

    kind: str  # "md" | "code" | "raw"
    source: str
    qs: tuple[str, ...] = ()


def md(source: str, *qs: str) -> C:
    return C("md", source, qs)


def code(source: str, *qs: str) -> C:
    return C("code", source, qs)


@dataclass
class Layout:
    name: str
    style: str
    cells: list[C]
    absent: list[str] = field(default_factory=list)
    edition: str | None = None


# ---- students' answers (paraphrased, messy) ----------------------------------------------

A1 = ("cnn's have way less parameters bc the kernels are shared over the whole picture, and they "
      "find a pattern anywhere in the image (translation invariance). dense nets flatten the image "
      "so they lose which pixels are next to each other")
A2 = ("layer1: (3*3*3+1)*100 = 2800, layer2: (3*3*100+1)*200 = 180200, layer3: (3*3*200+1)*400 = "
      "720400 -> total 903,400 params.\nRAM for 1 image about 14.85 MB, for a batch of 50 around 565.6 MB")
A3 = "smaller mini batch, use float16 / mixed precision, less filters, bigger stride, get a bigger GPU lol"
A3_LIST = ("1. reduce the batch size\n2. use a stride of 2 in the first layer\n3. drop a layer or two\n"
           "4. 16 bit floats instead of 32\n5. spread the model over 2 GPUs")
A4 = "pooling has no weights at all so its cheaper, a strided conv still has to learn its kernel"
A5 = "when relu activations blow up, LRN makes the strongly firing neurons inhibit neighbouring maps"
A6 = ("AlexNet - much bigger, relu, dropout, conv layers stacked directly. GoogLeNet - inception "
      "modules w/ 1x1 convs. ResNet - skip connections. SENet - SE blocks recalibrate the maps. "
      "Xception - depthwise separable convs")
A7 = ("a FCN has only conv (and pooling) layers so it takes any image size. to turn a dense layer "
      "into a conv use a kernel as big as the input maps, padding valid, one filter per neuron")
A8 = "the cnn loses spatial resolution going deeper (strides, pooling) but every pixel needs a class"

P = {  # the questions as students copy them (from the handout, sometimes slightly off)
    "q1": "What are the advantages of a CNN over a fully connected DNN for image classification?",
    "q2": ("Consider a CNN composed of three convolutional layers, each with 3 × 3 kernels, a stride of "
           "2, and \"same\" padding. The lowest layer outputs 100 feature maps, the middle one outputs "
           "200, and the top one outputs 400. The input images are RGB images of 200 × 300 pixels. "
           "What is the total number of parameters in the CNN?"),
    "q3": ("If your GPU runs out of memory while training a CNN, what are five things you could try to "
           "solve the problem?"),
    "q4": ("Why would you want to add a max pooling layer rather than a convolutional layer with the "
           "same stride?"),
    "q5": "When would you want to add a local response normalization layer?",
    "q6": ("Can you name the main innovations in AlexNet, compared to LeNet-5? What about the main "
           "innovations in GoogLeNet, ResNet, SENet, and Xception?"),
    "q7": ("What is a fully convolutional network? How can you convert a dense layer into a "
           "convolutional layer?"),
    "q8": "What is the main technical difficulty of semantic segmentation?",
    "q9": "Build your own CNN from scratch and try to achieve the highest possible accuracy on MNIST.",
    "q10": "Use transfer learning for large image classification, going through these steps:",
}
ANS = {"q1": A1, "q2": A2, "q3": A3, "q4": A4, "q5": A5, "q6": A6, "q7": A7, "q8": A8}

MNIST_LOAD = """from tensorflow import keras
(X_train, y_train), (X_test, y_test) = keras.datasets.mnist.load_data()
X_train = X_train[..., None] / 255.0
X_test = X_test[..., None] / 255.0"""
MNIST_MODEL = """model = keras.Sequential([
    keras.layers.Conv2D(32, 3, activation='relu', input_shape=(28, 28, 1)),
    keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(64, 3, activation='relu'),
    keras.layers.MaxPooling2D(),
    keras.layers.Flatten(),
    keras.layers.Dense(10, activation='softmax'),
])
model.compile(loss='sparse_categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
model.fit(X_train, y_train, epochs=5, validation_split=0.1)"""
MNIST_EVAL = "model.evaluate(X_test, y_test)"
TL_LOAD = """(xtr, ytr), (xte, yte) = keras.datasets.cifar10.load_data()
xtr, ytr = xtr[:5000], ytr[:5000]"""
TL_MODEL = """base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False,
                                      weights='imagenet')
base.trainable = False
inp = keras.Input((32, 32, 3))
x = keras.layers.Resizing(96, 96)(inp)
x = keras.applications.mobilenet_v2.preprocess_input(x)
x = base(x, training=False)
x = keras.layers.GlobalAveragePooling2D()(x)
out = keras.layers.Dense(10, activation='softmax')(x)
tl = keras.Model(inp, out)
tl.compile(loss='sparse_categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
tl.fit(xtr, ytr, epochs=2, validation_split=0.2)"""
TL_EVAL = "tl.evaluate(xte, yte)"


def code_q9(*qs: str) -> list[C]:
    return [code(MNIST_LOAD, *qs), code(MNIST_MODEL, *qs), code(MNIST_EVAL, *qs)]


def code_q10(*qs: str) -> list[C]:
    return [code(TL_LOAD, *qs), code(TL_MODEL, *qs), code(TL_EVAL, *qs)]


def one_cell(parts: list[str]) -> str:
    return "\n\n".join(parts)


# ---- the layouts ---------------------------------------------------------------------------

def layouts() -> list[Layout]:
    out: list[Layout] = []
    add = out.append

    # 1. everything in one markdown cell, #### headings
    body = one_cell([f"#### {n}. {P[f'q{n}']}\n{ANS[f'q{n}']}" for n in range(1, 9)])
    add(Layout("one_cell_hash_headings", "one markdown cell, #### headings, code below",
               [md("# DL HW 6 - cnn", ), md(body, *ALL[:8]), md("#### 9. mnist", "q9"), *code_q9("q9"),
                md("#### 10. transfer learning", "q10"), *code_q10("q10")]))

    # 1b. one markdown cell, numbered list 1. .. 8. with answers in between
    body = one_cell([f"{n}. {P[f'q{n}']}\n\n{ANS[f'q{n}']}" for n in range(1, 9)])
    add(Layout("one_cell_numbered_list", "one markdown cell, numbered list with answers between",
               [md(body, *ALL[:8]), md("9. Build your own CNN from scratch and try to get the best "
                                       "accuracy on MNIST", "q9"), *code_q9("q9"),
                md("10. Transfer learning", "q10"), *code_q10("q10")]))

    # 1c. one markdown cell with everything, the Q3 answer a numbered list 1-5 of its own
    parts = []
    for n in range(1, 9):
        parts.append(f"{n}. {P[f'q{n}']}")
        parts.append(A3_LIST if n == 3 else ANS[f"q{n}"])
    add(Layout("one_cell_list_inside_answer", "one cell, numbered questions, Q3 answered with a 1-5 list",
               [md(one_cell(parts), *ALL[:8]), md("9) cnn on mnist", "q9"), *code_q9("q9"),
                md("10) transfer learning", "q10"), *code_q10("q10")]))

    # 2. all ten typed into ONE code cell, "Ans:" on the same line, fenced code for Q9
    lines = [f"{n}. {P[f'q{n}']} Ans: {ANS[f'q{n}'].splitlines()[0]}" for n in range(1, 9)]
    lines.append(f"9. {P['q9']}\nAns:\n```python\n{MNIST_LOAD}\n{MNIST_MODEL}\n```")
    lines.append("10. " + P["q10"] + "\nAns: i used MobileNetV2 pretrained on imagenet with a new "
                 "softmax head, frozen first then fine tuned")
    add(Layout("code_cell_all_prose", "all answers as plain text in one code cell, fenced Q9 code",
               [code("\n".join(lines), *ALL)]))

    # 2b. one code cell per question, prose
    cells = [code(f"{n}. {P[f'q{n}']}\nAns: {ANS[f'q{n}']}", f"q{n}") for n in range(1, 9)]
    add(Layout("code_cells_prose_each", "each answer typed into its own code cell",
               [*cells, code("#9 mnist cnn\n" + MNIST_LOAD, "q9"), code(MNIST_MODEL, "q9"),
                code("# 10 transfer\n" + TL_LOAD, "q10"), code(TL_MODEL, "q10")]))

    # 3. "1.What" without a space, Answer: prefixes
    cells = []
    for n in range(1, 9):
        cells.append(md(f"{n}.{P[f'q{n}']}", f"q{n}"))
        cells.append(md(f"Answer: {ANS[f'q{n}']}", f"q{n}"))
    add(Layout("no_space_after_number", "1.What without space, Answer: prefix",
               [*cells, md("9.Build your own CNN from scratch on MNIST", "q9"), *code_q9("q9"),
                md("10.Use transfer learning", "q10"), *code_q10("q10")]))

    # 3b. **1.**What bold labels, all in one cell
    body = "\n\n".join(f"**{n}.**{P[f'q{n}']}\n\n{ANS[f'q{n}']}" for n in range(1, 9))
    add(Layout("bold_number_labels", "**1.**What bold labels in one cell",
               [md(body, *ALL[:8]), md("**9.**MNIST", "q9"), *code_q9("q9"),
                md("**10.**Transfer", "q10"), *code_q10("q10")]))

    # 3c. "# 6." alone on its line, answer on the next lines
    cells = [md(f"# {n}.\n{ANS[f'q{n}']}", f"q{n}") for n in range(1, 9)]
    add(Layout("hash_number_alone", "'# 6.' on its own line, answer below, same cell",
               [md("Name: Juan P.  Homework 6"), *cells, md("# 9.", "q9"), *code_q9("q9"),
                md("# 10.", "q10"), *code_q10("q10")]))

    # 3d. "Q 3 -" labels
    cells = [md(f"Q {n} - {ANS[f'q{n}']}", f"q{n}") for n in range(1, 9)]
    add(Layout("q_space_dash", "'Q 3 -' labels with the answer on the same line",
               [*cells, md("Q 9 -", "q9"), *code_q9("q9"), md("Q 10 -", "q10"), *code_q10("q10")]))

    # 4. headings without numbers
    cells = [md("## Advantages of CNN vs dense", "q1"), md(A1, "q1"),
             md("## Number of params and RAM", "q2"), md(A2, "q2"),
             md("## GPU out of memory", "q3"), md(A3, "q3"),
             md("## Max pooling vs conv with stride", "q4"), md(A4, "q4"),
             md("## Local response normalisation", "q5"), md(A5, "q5"),
             md("## Innovations of AlexNet, GoogLeNet, ResNet...", "q6"), md(A6, "q6"),
             md("## Fully convolutional nets", "q7"), md(A7, "q7"),
             md("## Semantic segmentation difficulty", "q8"), md(A8, "q8"),
             md("## Build CNN from scratch on MNIST", "q9"), *code_q9("q9"),
             md("## Transfer Learning", "q10"), *code_q10("q10")]
    add(Layout("unnumbered_headings", "headings without numbers", cells))

    # 4b. only the copied question as a bold line
    cells = []
    for n in range(1, 9):
        cells.append(md(f"**{P[f'q{n}']}**", f"q{n}"))
        cells.append(md(ANS[f"q{n}"], f"q{n}"))
    add(Layout("bold_prompt_only", "the copied question as a bold line, no number",
               [*cells, md(f"**{P['q9']}**", "q9"), *code_q9("q9"), md(f"**{P['q10']}**", "q10"),
                *code_q10("q10")]))

    # 5. "Exercise 10" heading over Q9's prompt, "Exercise 11" over Q10's
    cells = []
    for n in range(1, 9):
        cells.append(md(f"## Exercise {n}\n{P[f'q{n}']}", f"q{n}"))
        cells.append(md(ANS[f"q{n}"], f"q{n}"))
    add(Layout("wrong_numbers_prompt_wins", "Exercise 10 heading with Q9's copied prompt",
               [*cells, md(f"## Exercise 10\n{P['q9']}", "q9"), *code_q9("q9"),
                md(f"## Exercise 11\n{P['q10']}", "q10"), *code_q10("q10")]))

    # 5b. skipped Q2, numbered the rest 2..9 with prompts
    cells = [md(f"### 1. {P['q1']}", "q1"), md(A1, "q1")]
    for n in range(3, 9):
        cells.append(md(f"### {n - 1}. {P[f'q{n}']}", f"q{n}"))
        cells.append(md(ANS[f"q{n}"], f"q{n}"))
    add(Layout("skipped_q2_shifted", "Q2 skipped, the rest numbered 2..9 (copied prompts)",
               [*cells, md(f"### 8. {P['q9']}", "q9"), *code_q9("q9"), md(f"### 9. {P['q10']}", "q10"),
                *code_q10("q10")], absent=["q2"]))

    # 5c. skipped Q2, shifted numbers, prompts NOT copied for the later ones
    cells = [md(f"### 1. {P['q1']}", "q1"), md(A1, "q1"), md(f"### 2. {P['q3']}", "q3"), md(A3, "q3"),
             md(f"### 3. {P['q4']}", "q4"), md(A4, "q4"), md(f"### 4. {P['q5']}", "q5"), md(A5, "q5"),
             md("### 5.", "q6"), md(A6, "q6"), md("### 6.", "q7"), md(A7, "q7"),
             md("### 7.", "q8"), md(A8, "q8"), md("### 8.", "q9"), *code_q9("q9"),
             md("### 9.", "q10"), *code_q10("q10")]
    add(Layout("shifted_numbers_some_prompts", "shifted by one, only the first prompts copied", cells,
               absent=["q2"], edition="numbered one lower"))

    # 6. first edition (HOML 1st ed. ch. 13): 7 = MNIST, 8 = Inception v3, 9 = transfer learning
    first = [
        "What are the advantages of a CNN over a fully connected DNN for image classification?",
        P["q2"].replace('"same"', "SAME"), P["q3"], P["q4"], P["q5"],
        "Can you name the main innovations in AlexNet, compared to LeNet-5? What about the main "
        "innovations in GoogLeNet and ResNet?"]
    cells = []
    for n, prompt in enumerate(first, 1):
        cells.append(md(f"## {n}. {prompt}", f"q{n}"))
        cells.append(md(ANS[f"q{n}"], f"q{n}"))
    add(Layout("first_edition_numbering", "1st edition numbering: 7 MNIST, 8 Inception, 9 transfer",
               [*cells, md("## 7. Build your own CNN and try to achieve the highest possible accuracy "
                           "on MNIST.", "q9"), *code_q9("q9"),
                md("## 8. Classifying large images using Inception v3."),
                code("model = keras.applications.InceptionV3(weights='imagenet')"),
                md("## 9. Transfer learning for large image classification.", "q10"), *code_q10("q10")],
               absent=["q7", "q8"], edition="1st"))

    # 6b. first edition numbers, no prompts: only the code tells
    cells = [md(f"## Exercise {n}\n{ANS[f'q{n}']}", f"q{n}") for n in range(1, 7)]
    add(Layout("first_edition_numbers_only", "1st edition numbers without prompts, code decides",
               [*cells, md("## Exercise 7", "q9"), *code_q9("q9"), md("## Exercise 9", "q10"),
                *code_q10("q10")], absent=["q7", "q8"], edition="1st"))

    # 6c. third edition numbering: LRN gone, 8 = MNIST, 9 = transfer
    third = [("q1", 1), ("q2", 2), ("q3", 3), ("q4", 4), ("q6", 5), ("q7", 6), ("q8", 7)]
    cells = []
    for q, n in third:
        prompt = P[q] if q != "q6" else ("Can you name the main innovations in AlexNet, as compared to "
                                         "LeNet-5? What about GoogLeNet, ResNet, SENet, Xception, "
                                         "EfficientNet, and ConvNeXt?")
        cells.append(md(f"**Exercise {n}.** {prompt}\n\n{ANS[q]}", q))
    add(Layout("third_edition_numbering", "3rd edition numbering (no LRN; 8 MNIST, 9 transfer)",
               [*cells, md("**Exercise 8.** " + P["q9"], "q9"), *code_q9("q9"),
                md("**Exercise 9.** " + P["q10"], "q10"), *code_q10("q10")], absent=["q5"], edition="3rd"))

    # 7. code with no heading at all, after labelled prose answers
    cells = []
    for n in range(1, 9):
        cells.append(md(f"### Q{n}\n{ANS[f'q{n}']}", f"q{n}"))
    add(Layout("unlabelled_code_after_answers", "Q9/Q10 code in consecutive cells, no heading",
               [*cells, *code_q9("q9"), md("now with a pretrained model", "q10"), *code_q10("q10")]))

    # 7b. only code, nothing labelled
    add(Layout("unlabelled_code_only", "an unlabelled notebook of code",
               [code("import numpy as np\nfrom tensorflow import keras"), *code_q9("q9"), *code_q10("q10")],
               absent=ALL[:8]))

    # combos -----------------------------------------------------------------------------------
    # HTML headings, HTML comments with fake answers, hidden divs
    cells = []
    for n in range(1, 9):
        if n == 5:
            cells.append(md("<h3>Question 5</h3>\n<!-- TODO: LRN answer: inhibit neighbouring maps -->\n"
                            "<div style=\"display:none\">LRN is used when neurons fire strongly</div>"))
            continue
        cells.append(md(f"<h3>Question {n}</h3>\n<p>{ANS[f'q{n}']}</p>", f"q{n}"))
    add(Layout("html_hidden_text", "HTML headings; Q5 answered only in a comment and a hidden div",
               [*cells, md("<h3>Question 9</h3>", "q9"), *code_q9("q9"), md("<h3>Question 10</h3>", "q10"),
                *code_q10("q10")], absent=["q5"]))

    # white text: the answer to Q4 exists only in white font
    cells = []
    for n in range(1, 9):
        if n == 4:
            cells.append(md(f"## {n}) {P['q4']}\n<font color=\"white\">pooling has no params</font>\n"
                            "<span style=\"color: #FFFFFF\">no weights</span>"))
            continue
        cells.append(md(f"## {n}) {P[f'q{n}']}\n\n{ANS[f'q{n}']}", f"q{n}"))
    add(Layout("white_text_answer", "Q4 answered only in white text",
               [*cells, md("## 9)", "q9"), *code_q9("q9"), md("## 10)", "q10"), *code_q10("q10")],
               absent=["q4"]))

    # copied all prompts, answered only some: the rest is missing, not located
    cells = []
    for n in range(1, 11):
        cells.append(md(f"### {n}. {P[f'q{n}']}", f"q{n}") if n in (1, 2) else md(f"### {n}. {P[f'q{n}']}"))
        if n in (1, 2):
            cells.append(md(ANS[f"q{n}"], f"q{n}"))
        else:
            cells.append(md(""))
    add(Layout("prompts_only_mostly", "the handout's questions copied, only Q1 and Q2 answered", cells,
               absent=ALL[2:]))

    # bold "**Q1:** answer" on the same line, one cell, code with # Q9 / # Question 10 comments
    body = "\n\n".join(f"**Q{n}:** {ANS[f'q{n}']}" for n in range(1, 9))
    add(Layout("bold_q_inline_and_code_comments", "**Q1:** answer inline; code labelled by comments",
               [md("# Homework 6\nby Mei", ), md(body, *ALL[:8]), code("# Q9\n" + MNIST_LOAD, "q9"),
                code(MNIST_MODEL, "q9"), code("# Question 10\n" + TL_LOAD, "q10"), code(TL_MODEL, "q10")]))

    # label spelling variants
    labels = ["Question-1)", "Ques 2:", "Qn.3", "question 4", "QUESTION 5.", "Q.6", "Ex. 7", "Problem 8:"]
    cells = []
    for n, label in enumerate(labels, 1):
        cells.append(md(f"{label} {ANS[f'q{n}']}", f"q{n}"))
    add(Layout("label_spellings", "Question-1) / Ques 2: / Qn.3 / question 4 / Ex. 7 ...",
               [*cells, md("Task 9", "q9"), *code_q9("q9"), md("Task 10", "q10"), *code_q10("q10")]))

    # "Answer 3:" labels and numbers written as words, with a "Part 1/2" section heading
    words = ["One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight"]
    cells = [md("# Part 1: theory")]
    for n in range(1, 9):
        cells.append(md(f"Answer {n}: {ANS[f'q{n}']}", f"q{n}") if n % 2 else
                     md(f"### Question {words[n - 1]}\n{ANS[f'q{n}']}", f"q{n}"))
    add(Layout("answer_n_and_word_numbers", "'Answer 3:' labels, 'Question Two', Part headings",
               [*cells, md("# Part 2: code"), md("### Question Nine", "q9"), *code_q9("q9"),
                md("### Question Ten", "q10"), *code_q10("q10")]))

    # answers typed as docstrings and print() calls in code cells
    cells = [code(f'"""\nQ{n}. {P[f"q{n}"]}\nAns: {ANS[f"q{n}"]}\n"""', f"q{n}") for n in range(1, 5)]
    cells += [code(f'print("{n}) {ANS[f"q{n}"].splitlines()[0]}")', f"q{n}") for n in range(5, 9)]
    add(Layout("answers_in_strings_and_prints", "answers as docstrings / print() in code cells",
               [*cells, code('"""Q9 mnist cnn"""', "q9"), *code_q9("q9"), code("# Q10\n" + TL_LOAD, "q10"),
                code(TL_MODEL, "q10")]))

    # sub-headings and numbered steps inside the Q10 answer
    cells = []
    for n in range(1, 9):
        cells.append(md(f"# Question {n}", f"q{n}"))
        cells.append(md(ANS[f"q{n}"], f"q{n}"))
    add(Layout("subheadings_inside_answers", "steps and sub-headings (### Step 1, 1. Load) inside Q9/Q10",
               [*cells, md("# Question 9", "q9"), md("### 1. Load the data", "q9"), code(MNIST_LOAD, "q9"),
                md("### 2. Model", "q9"), code(MNIST_MODEL, "q9"),
                md("# Question 10", "q10"), md("1. Load cifar\n2. split\n3. pretrained base", "q10"),
                code(TL_LOAD, "q10"), md("## Step 4: fine tune", "q10"), code(TL_MODEL, "q10")]))

    # prose code cell for 1-8, then real code cells for 9 and 10 labelled by comments
    lines = [f"Q{n}) {ANS[f'q{n}'].splitlines()[0]}" for n in range(1, 9)]
    add(Layout("prose_code_then_real_code", "answers 1-8 as text in a code cell, then real code",
               [code("\n".join(lines), *ALL[:8]), code("#9\n" + MNIST_LOAD, "q9"), code(MNIST_MODEL, "q9"),
                code("#10\n" + TL_LOAD, "q10"), code(TL_MODEL, "q10")]))

    # out of order, prompts copied
    order = [2, 1, 3, 5, 4, 6, 8, 7]
    cells = []
    for n in order:
        cells.append(md(f"**{P[f'q{n}']}**\n\n{ANS[f'q{n}']}", f"q{n}"))
    add(Layout("out_of_order_prompts", "answered out of order, prompts copied",
               [*cells, md(f"**{P['q9']}**", "q9"), *code_q9("q9"), md(f"**{P['q10']}**", "q10"),
                *code_q10("q10")]))

    # typos and paraphrases in bold prompts
    para = {
        "q1": "wat are the advantges of CNN over dense nets?",
        "q2": "how many parmeters does the 3 layer CNN have and how much RAM does it need?",
        "q3": "GPU runs out of memory while training - 5 things to try?",
        "q4": "why use max pooling instead of a conv layer with the same stride?",
        "q5": "when to use local response normalisation?",
        "q6": "main innovations of AlexNet, GoogLeNet, ResNet, SENet, Xception?",
        "q7": "what is a fully convolutional net, how to convert dense into conv layer?",
        "q8": "main difficulty of semantic segmentation?",
    }
    cells = []
    for n in range(1, 9):
        cells.append(md(f"**{para[f'q{n}']}**", f"q{n}"))
        cells.append(md(ANS[f"q{n}"], f"q{n}"))
    add(Layout("paraphrased_bold_prompts", "paraphrased and misspelt questions as bold lines",
               [*cells, md("**mnist cnn from scratch**", "q9"), *code_q9("q9"),
                md("**transfer learning**", "q10"), *code_q10("q10")]))

    # nothing answered: the template only
    add(Layout("template_only", "the handout as given: headings and questions, no answers",
               [md(f"## {n}. {P[f'q{n}']}") for n in range(1, 11)] + [code("")], absent=ALL))

    # raw cells and Answer: on its own line, code cells with magics
    cells = []
    for n in range(1, 9):
        cells.append(C("raw", f"{n}) {P[f'q{n}']}", (f"q{n}",)))
        cells.append(md(f"Answer:\n{ANS[f'q{n}']}", f"q{n}"))
    add(Layout("raw_questions_answer_lines", "questions in raw cells, 'Answer:' on its own line",
               [*cells, C("raw", "9) mnist", ("q9",)), code("%matplotlib inline\n" + MNIST_LOAD, "q9"),
                code(MNIST_MODEL, "q9"), C("raw", "10) transfer", ("q10",)), code("!ls\n" + TL_LOAD, "q10"),
                code(TL_MODEL, "q10")]))

    # one heading per question but Q10's code forgot its heading (after Q9's code)
    cells = []
    for n in range(1, 9):
        cells.append(md(f"## Q{n}. {P[f'q{n}']}\n{ANS[f'q{n}']}", f"q{n}"))
    add(Layout("q10_heading_forgotten", "Q10 code directly after Q9 code, no heading",
               [*cells, md("## Q9. MNIST", "q9"), *code_q9("q9"), *code_q10("q10")]))

    # Roman numerals: "## Question IV:", "### VII.", "**Exercise ix)**"
    roman = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]
    heads = {1: "## Question I:", 2: "## Question II:", 3: "### III.", 4: "### IV -", 5: "**Exercise v)**",
             6: "### VI.", 7: "### VII)", 8: "## Question viii"}
    cells = [md(f"{heads[n]} {P[f'q{n}'] if n % 2 else ''}\n\n{ANS[f'q{n}']}", f"q{n}") for n in range(1, 9)]
    add(Layout("roman_numerals", "Roman numerals after a label or at a heading's start",
               [md("# Homework VI: CNNs (Chapter XIV)"), *cells, md(f"## Exercise {roman[8]}. MNIST", "q9"),
                *code_q9("q9"), md(f"## {roman[9]}. transfer learning", "q10"), *code_q10("q10")]))

    # several questions under one label: "## Questions 1 and 2", "**Q3-Q5**", "Q6 & Q7:"
    joint = [md(f"## Questions 1 and 2\n\n{ANS['q1']}\n\n{ANS['q2']}", "q1", "q2"),
             md(f"**Q3-Q5**\n\n{ANS['q3']}\n\npooling: {ANS['q4']}\n\nLRN: {ANS['q5']}", "q3", "q4", "q5"),
             md(f"Q6 & Q7: {ANS['q6']}\n\n{ANS['q7']}", "q6", "q7"), md(f"## Q8\n{ANS['q8']}", "q8")]
    add(Layout("joint_questions", "several questions answered in one block under one label",
               [*joint, md("## Q9", "q9"), *code_q9("q9"), md("## Q10", "q10"), *code_q10("q10")]))
    return out


def build(layout: Layout) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    expected: dict[str, list[int]] = {}
    for i, c in enumerate(layout.cells):
        if c.kind == "md":
            cell = nbformat.v4.new_markdown_cell(c.source)
        elif c.kind == "raw":
            cell = nbformat.v4.new_raw_cell(c.source)
        else:
            cell = nbformat.v4.new_code_cell(c.source)
        nb.cells.append(cell)
        for q in c.qs:
            expected.setdefault(q, []).append(i)
    for q in layout.absent:
        if q in expected:
            raise ValueError(f"{layout.name}: {q} is both expected and absent")
    missing = [q for q in ALL if q not in expected and q not in layout.absent]
    if missing:
        raise ValueError(f"{layout.name}: say where {missing} are or list them as absent")
    nb.metadata["layout"] = {"style": layout.style, "expected": expected, "absent": layout.absent}
    if layout.edition:
        nb.metadata["layout"]["edition"] = layout.edition
    return nb


def main() -> int:
    names = set()
    for layout in layouts():
        if layout.name in names:
            raise ValueError(f"duplicate layout {layout.name}")
        names.add(layout.name)
        nbformat.write(build(layout), HERE / f"{layout.name}.ipynb")
    for stale in HERE.glob("*.ipynb"):
        if stale.stem not in names:
            stale.unlink()
    print(f"wrote {len(names)} layout notebooks to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
