"""Is an answer written in English? A function-word count, for flagging answers a human must read.

The concept rubric's phrases are English, so an answer in Spanish, German, French, Portuguese,
Italian or Hindi written in Latin script ("kam karo", "nahi hote") matches little of it and
would silently score low. The grader cannot grade such an answer; it can say so and send it to
a human. Function words (articles, pronouns, prepositions, auxiliaries) make up a third or more
of any prose and do not depend on the topic, so counting them tells the languages apart even in
two sentences full of English technical loan words ("usar float16", "Skip-Verbindungen").

Why not a library: langdetect/lingua are trained on Unicode-script text and do not know Hindi
in Latin script; their models add megabytes to answer one yes/no question with a word list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "English": _words(
        "the a an of to in on at for from by with is are was were be been it its this that these "
        "those and or but so because which who what when where how not no can could would should "
        "will has have had do does we you they he she i my our your their there than then also "
        "each every all only more less into"),
    "Spanish": _words(
        "el la los las un una unos unas de del y o pero porque que en con por para es son está "
        "están se su sus al lo como más menos muy también cada cuando donde sin sobre hay tiene "
        "tienen usar hacer puede pueden"),
    "German": _words(
        "der die das den dem des ein eine einen einem einer und oder aber weil dass mit von zu "
        "für auf ist sind wird werden nicht kein keine sich es wir man zum zur im am beim auch "
        "nur mehr weniger wenn als wie durch über hat haben kann können nach bei vor zwischen "
        "derselben dieselbe diese dieser jede jeder sollen soll muss"),
    "French": _words(
        "le la les un une des du de et ou mais parce que qui dans avec pour par sur est sont il "
        "elle ils on nous ne pas plus moins aussi chaque quand comme sans au aux ce cette ces "
        "leur peut grâce"),
    "Portuguese": _words(
        "o a os as um uma de do da dos das e ou mas porque que em com por para é são não se seu "
        "sua mais menos também cada quando como sem no na nos nas pode"),
    "Italian": _words(
        # not "per": English tables say "per layer", "per-GPU memory" (blind10 read one as Italian)
        "il lo la gli le un una di del della e o ma perché che in con è sono non si suo sua "
        "più meno anche ogni quando come senza nel nella può"),
    "Hindi (Latin script)": _words(
        "hai hain hota hote hoti ka ki ke ko se mein me par aur ya lekin kyunki nahi nahin bhi "
        "karo karna karte kar kam jyada zyada ek yeh ye woh wo isliye jab tab kisi koi sirf "
        "wajah padta jata jaata leta deta sakte sakta"),
    "Dutch": _words(
        "de het een en van dat op te met voor niet zijn om ook als bij door maar dan wordt worden "
        "kan meer minder zoals omdat waardoor elke geen je we"),
    "Indonesian": _words(
        "dan yang di ke dari untuk dengan ini itu adalah tidak akan pada bisa lebih juga atau "
        "karena sehingga setiap tanpa sama seperti"),
    "Polish": _words(
        "i w na z do się jest nie to że jak ale po czy dla przez oraz są może więcej mniej "
        "bez który która które każdy"),
    "Czech": _words(
        "a i v ve na se je jsou to že jak ale po pro při z ze do od který která které jeho její "
        "jako nebo než také jen už bez k ke každý když přes přímo sebe"),
    "Swedish": _words(
        "och att det som ett är av för på med till den inte om har man kan när så eller men "
        "från vid också bara alla mer mindre sin sina genom måste ändå"),
    "Turkish": _words(
        "ve veya bir bu şu için ile de da ki çok daha en gibi ama ancak olarak olan değil yok var "
        "her ise kadar sonra önce göre yerine hem mi ne çünkü yani böylece ayrıca gerekiyor olur "
        "bunu onu şey bence nasıl neden"),
    "Romanian": _words(
        "și sau dar că care este sunt nu se cu pe din la pentru mai fiecare când cum fără prin "
        "al ale unei unui acest această"),
    "Tagalog": _words(
        "ang ng mga sa at na ay para hindi kung ito iyon siya mas lang din rin kasi pero dahil "
        "bawat"),
    "Swahili": _words(
        "na ya wa za kwa ni katika hii hiyo kama lakini au kila sana zaidi bila kwamba"),
}
#: Letters of scripts English is not written in: an answer mostly in one of them is that language
#: even where its technical terms are Latin ("AlexNet은 LeNet-5보다 훨씬 깊고 ...").
_SCRIPTS = {
    "Korean": re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"),
    "Japanese": re.compile(r"[\u3040-\u30ff]"),
    "Chinese": re.compile(r"[\u4e00-\u9fff]"),
    "Russian": re.compile(r"[\u0400-\u04ff]"),
    "Arabic or Persian": re.compile(r"[\u0600-\u06ff]"),
    "Hindi": re.compile(r"[\u0900-\u097f]"),
    "Thai": re.compile(r"[\u0e00-\u0e7f]"),
    "Vietnamese": re.compile(r"[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđơư]"),
    "Greek": re.compile(r"[\u0370-\u03ff]"),
}
SCRIPT_SHARE = 0.2  # of an answer's letters; a stray "σ" or "→" in English prose stays English
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
#: What is not prose and says nothing of the language it sits in: fenced and inline code, LaTeX
#: math and commands, and code lines ("x = Conv2D(32)(x)", "y[n] = sum_k h[k] x[n-k]") whose
#: one-letter names would read as Spanish "y", Italian "e" or Portuguese "o".
_NOT_PROSE = [
    re.compile(r"```.*?(?:```|\Z)", re.S),
    re.compile(r"`[^`\n]*`"),
    re.compile(r"\$\$.*?\$\$", re.S),
    re.compile(r"\$[^$\n]*\$"),
    re.compile(r"\\[a-zA-Z]+"),
]
_CODE_LINE = re.compile(r"^\s*(?:>>>|import\s|from\s+\w+\s+import\s|def\s|for\s.*:\s*$)"
                        r"|\w\s*[-+*/]?=(?!=)\s*\S|\w[(\[][^)\]]*[)\]]|;\s*$")
_CODE_TOKEN = re.compile(r"\w+(?=\s*[\[(=])|(?<=[=\[(,*+/-])\s*\w+")
_ACCENTED = re.compile(r"[äöüßáéíóúñàèìòùâêîôûçãõışğąęłńśźżő]")


@dataclass(frozen=True)
class LanguageGuess:
    language: str  # the most likely language
    english_share: float  # share of the answer's function words that are English ones
    function_words: int

    @property
    def english(self) -> bool:
        return self.language == "English"


def guess_language(text: str) -> LanguageGuess:
    """The language whose function words the answer uses most (English when unsure)."""
    words = [w.lower() for w in _WORD.findall(_prose(text))]
    letters = sum(len(w) for w in words) or 1
    for language, script in _SCRIPTS.items():
        found = len(script.findall(text.lower()))
        # Vietnamese is Latin script: its tone-marked vowels are a few of many letters
        if found >= (3 if language == "Vietnamese" else max(2, SCRIPT_SHARE * letters)):
            return LanguageGuess(language, 0.0, 0)
    counts = {lang: sum(1 for w in words if w in fw) for lang, fw in _FUNCTION_WORDS.items()}
    total = sum(counts.values()) or 1
    en = counts["English"]
    best = max((k for k in counts if k != "English"), key=lambda k: counts[k])
    # letters English does not use ("Residualblöcke", "tamaño") count for the other language
    accented = min(2, sum(1 for w in words if _ACCENTED.search(w)))
    other = counts[best] + accented
    # a short answer or a near tie stays English: "in AlexNet after relu" must not look Spanish
    if other < 2 or other <= 1.2 * en:
        best = "English"
    return LanguageGuess(best, round(en / total, 2), sum(counts.values()))


def _prose(text: str) -> str:
    """The answer without code, math and code-like lines (their words are no language)."""
    for pattern in _NOT_PROSE:
        text = pattern.sub(" ", text)
    lines = []
    for line in text.splitlines():
        if _CODE_LINE.search(line) and len(_WORD.findall(line)) < 40:
            line = _CODE_TOKEN.sub(" ", line)
            # one-letter names on a code line ("y", "o", "e") are variables, not conjunctions
            line = re.sub(r"\b[^\W\d_]\b", " ", line)
        lines.append(line)
    return "\n".join(lines)
