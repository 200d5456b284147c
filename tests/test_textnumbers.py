"""Reading numbers, units and arithmetic steps from students' free text."""

from __future__ import annotations

import pytest

from grader.textformulas import find_equations, safe_eval
from grader.textnumbers import agrees, find_quantities, format_number
from grader.textsegments import segments


def one(text: str):
    found = find_quantities(text)
    assert len(found) == 1, [q.raw for q in found]
    return found[0]


@pytest.mark.parametrize(
    "text, value, unit",
    [
        ("903,400 parameters", 903_400, None),
        ("903.400 parameters", 903_400, None),  # dot as thousands separator
        ("1.343.400", 1_343_400, None),
        ("903 400 params", 903_400, None),
        ("903\u202f400 params", 903_400, None),  # narrow no-break space
        ("903'400", 903_400, None),
        ("903400", 903_400, None),
        ("9.03e5", 903_000, None),
        ("9.03E+05", 903_000, None),
        ("9.03 × 10^5", 903_000, None),
        ("9.03x10⁵", 903_000, None),
        ("0.9 M", 900_000, None),
        ("903k", 903_000, None),
        ("0.9 million", 900_000, None),
        ("36,108,000 bytes", 36_108_000, "B"),
        ("36.11 megabytes", 36_110_000, "MB"),
        ("12.6MB", 12_600_000, "MB"),
        ("12,6 MB", 12_600_000, "MB"),  # decimal comma
        ("13.47 MiB", 13.47 * 2**20, "MiB"),
        ("3.6 KB", 3_600, "kB"),
        ("3.5 KiB", 3.5 * 1024, "KiB"),
        ("0.56 GB", 560_000_000, "GB"),
        ("1.2 GiB", 1.2 * 2**30, "GiB"),
        ("3.6M bytes", 3_600_000, "B"),
        ("5.66e8 bytes", 566_000_000, "B"),
        ("564.6 Mb", 564_600_000, "MB"),  # students mean megabytes
    ],
)
def test_number_formats(text, value, unit):
    q = one(text)
    assert q.value == pytest.approx(value)
    assert q.unit == unit
    assert q.is_memory == (unit is not None)


def test_ambiguous_dot_is_explained_and_keeps_both_readings():
    q = one("903.400 parameters")
    assert "thousands separator" in q.note
    assert agrees(903.4, q) and agrees(903_400, q)
    q = one("3.613 MB")  # with a byte unit the dot is a decimal point
    assert q.value == pytest.approx(3_613_000) and q.alternatives == []


def test_precision_follows_what_was_written():
    assert agrees(903_400, one("0.9 M"))  # 0.9 M means 0.85..0.95 M
    assert agrees(903_400, one("9.03e5"))
    assert not agrees(903_400, one("903,000"))  # an exact count is exact
    assert agrees(12_613_600, one("12.6 MB"))
    assert not agrees(12_613_600, one("12.7 MB"))
    assert agrees(14_133_600, one("13.48 MB"))  # MB written, MiB meant: both readings are tried
    assert agrees(565_613_600, one("564.6 MB"), rel=0.005)
    assert not agrees(565_613_600, one("564.6 MB"))


def test_words_and_names_are_not_numbers():
    assert find_quantities("float32 tensors in a conv2d layer") == []
    assert [q.value for q in find_quantities("3x3x3")] == [3, 3, 3]
    assert [q.value for q in find_quantities("2,800, 180,200 and 720,400")] == [2800, 180_200, 720_400]


def test_equations_are_evaluated_and_slips_found():
    (eq,) = find_equations("Lowest Layer: 100 feature maps x (3x3x3 parameters) = 27,000 parameters.")
    assert eq.lhs.value == 2_700 and eq.rhs.value == 27_000 and not eq.holds and not eq.is_sum
    (eq,) = find_equations("- layer 1: (3×3×3 + 1) × 100 = 2,800")
    assert eq.holds and eq.lhs.value == 2_800
    (eq,) = find_equations("27,000 + 1,800,000 + 7,200,000 = 9,007,200")
    assert eq.is_sum and not eq.holds and eq.lhs.value == 9_027_000


def test_chained_equations_with_units():
    eqs = find_equations("100×150×100 = 1,500,000 floats × 4 bytes = 6 MB")
    assert [(e.lhs.value, e.holds) for e in eqs] == [(1_500_000, True), (6_000_000, True)]
    eqs = find_equations("903,400 * 4 = 3,613,600 bytes = 3.44 MB")  # MiB written as MB: holds
    assert all(e.holds for e in eqs)
    (eq,) = find_equations("(1,500,000 + 750,000 + 380,000) floats × 4 bytes ≈ 10.5 MB per instance")
    assert eq.approx and eq.holds and eq.lhs.is_memory
    (eq,) = find_equations("6 MB + 3 MB + 3.6 MB = 13.6 MB")
    assert eq.is_sum and not eq.holds


def test_unit_ratios_and_hyphens_are_not_operators():
    assert find_equations("RAM for a mini-batch of 50 images ≈ 564,6 MB") == []
    (eq,) = find_equations("9,027,000 parameters x 4 bytes/parameter x 1 instance = 36,108,000 bytes")
    assert eq.lhs.value == 36_108_000 and eq.holds
    assert find_equations("Total Parameters = 9,027,000 parameters") == []  # a label, not a formula


def test_numbers_inside_code_comments_and_formulas():
    text = "# params = (3*3*3+1)*100 + (3*3*100+1)*200 + (3*3*200+1)*400 = 903400"
    (eq,) = find_equations(text)
    assert eq.holds and eq.lhs.value == 903_400


def test_safe_eval_refuses_anything_but_arithmetic():
    assert safe_eval("(3*3*3 + 1) * 100") == 2800
    assert safe_eval("__import__('os').system('true')") is None
    assert safe_eval("2 ** 1000") is None
    assert safe_eval("1 / 0") is None


def test_segments_split_sentences_and_join_wrapped_lines():
    text = (
        "Total: 903,400 parameters.\n\nOne prediction\nneeds 6 MB and 3 MB. Training keeps:\n"
        "(1,500,000 + 750,000) floats ×\n4 bytes ≈ 9 MB.\nTotal Parameters = 1\nTotal Parameters = 2"
    )
    parts = [s.text for s in segments(text)]
    assert parts[0] == "Total: 903,400 parameters."
    assert parts[1] == "One prediction\nneeds 6 MB and 3 MB."
    assert "×\n4 bytes ≈ 9 MB." in parts[2] or "×\n4 bytes ≈ 9 MB." in parts[3]
    assert parts[-2:] == ["Total Parameters = 1", "Total Parameters = 2"]
    for seg in segments(text):
        assert text[seg.start : seg.end] == seg.text


def test_format_number():
    assert format_number(903_400) == "903,400"
    assert format_number(12.6136, 2) == "12.61"


def test_a_formula_never_reaches_across_a_paragraph():
    text = "layer 3 = (3*3*200+1)*400\n\n= 720,400 and 1 + 2 = 3"
    eqs = find_equations(text)
    assert [(e.lhs.value, e.holds) for e in eqs] == [(3, True)]
    # within a paragraph a formula may wrap: the result on the next line still counts
    (eq,) = find_equations("(3*3*200+1)*400\n= 720,400")
    assert eq.holds and eq.lhs.value == 720_400


def test_words_in_parentheses_and_cut_sums():
    (eq,) = find_equations("RAM = 3.6 MB (weights) + 9 MB (activations) = 13.6 MB")
    assert eq.is_sum and eq.lhs.value == 12_600_000 and not eq.holds
    # the end of a longer sum is not a formula of its own: no false slip
    assert find_equations("50 × 10.52 MB is 526 MB; + 36 MB inputs + 3.6 MB params ≈ 565.6 MB") == []


def test_indian_grouping_and_a_misplaced_comma():
    # lakh/crore grouping: 9,03,400 is 903,400 and 1,26,13,600 bytes is 12.6 MB
    assert [q.value for q in find_quantities("2,800 + 1,80,200 + 7,20,400 = 9,03,400")] == [
        2_800, 180_200, 720_400, 903_400]
    assert find_quantities("1,26,13,600 bytes")[0].value == 12_613_600
    # "90,3400": a decimal comma or the digits 903400 grouped wrongly; both readings are kept
    (q,) = find_quantities("Total parameter count: 90,3400")
    assert q.value == 90.34 and q.alternatives == [903_400]
    # with a byte unit the comma stays a decimal comma
    assert find_quantities("12,6136 MB")[0].value == 12_613_600


def test_question_marks_between_amounts_do_not_end_a_sentence():
    parts = [s.text for s in segments("For the batch: 36 MB? 526 MB? 565.6 MB?")]
    assert parts == ["For the batch: 36 MB? 526 MB? 565.6 MB?"]
    # a period before a number still may ("... of weights). 50 images need 565.6 MB")
    assert len(segments("That is 3.6 MB of weights. 50 images need 565.6 MB")) == 2


def test_slang_units_are_megabytes_and_gigabytes():
    megs, gigs = find_quantities("about 12.6 megs to predict, 0.57 gigs to train")
    assert (megs.unit, megs.value) == ("MB", 12.6e6) and (gigs.unit, gigs.value) == ("GB", 0.57e9)


def test_a_lone_value_followed_by_a_label_is_no_formula():
    # "ram≈12.6mb batch≈566mb": 12.6 MB is not a formula whose result is 566 MB
    assert find_equations("params=903400 ram≈12.6mb batch≈566mb") == []
    assert len(find_equations("36,108,000 bytes = 36.1 MB")) == 1


def test_an_approx_line_does_not_run_on_into_the_next_label():
    segs = segments("one prediction ≈ 0.0117 GiB\nmini-batch (50) ≈ 0.527 GiB")
    assert [s.text for s in segs] == ["one prediction ≈ 0.0117 GiB", "mini-batch (50) ≈ 0.527 GiB"]


@pytest.mark.parametrize("text, value, unit", [
    ("12,6 МБ памяти", 12_600_000, "MB"),  # Russian megabytes, decimal comma
    ("0,57 ГБ", 570_000_000, "GB"),
    ("565 613 600 байт", 565_613_600, "B"),
    ("0,9 млн параметров", 900_000, None),  # Russian "million"
    ("12,03 Mio", 12.03 * 2**20, "MiB"),  # French mébioctet
    ("0,9 Mio. Parameter", 900_000, None),  # German Millionen, before a word for parameters
    ("100.9 Mbit", 12_612_500, "Mbit"),  # bits: an eighth of the byte unit
    ("565.613.600 Bytes", 565_613_600, "B"),  # German capitalised Bytes, dotted grouping
    ("565.6MBs", 565_600_000, "MB"),  # plural abbreviations
    ("12.6 Megabytes", 12_600_000, "MB"),
    ("13.5 Mib", 13.5 * 2**20, "MiB"),
])
def test_other_languages_units_and_bits(text, value, unit):
    q = find_quantities(text)[0]
    assert q.value == pytest.approx(value) and q.unit == unit


def test_a_single_dot_group_is_thousands_in_an_answer_written_the_european_way():
    eq = find_equations("(1.500.000 + 750.000 + 903.400) × 4 bytes = 12.613.600 bytes ≈ 12,6 MB")[0]
    assert eq.holds
    assert find_quantities("2.800 Parameter, 12,6 MB")[0].value == 2800
    assert find_quantities("2.800 and 12.6 MB")[0].value == 2.8  # a dot decimal elsewhere: as written


def test_a_value_restated_in_parentheses_inside_a_formula_is_no_factor():
    eq = find_equations("6 MB + 3 MB + 902,700 × 4 B (3.61 MB) = 12.61 MB")[0]
    assert eq.holds and eq.lhs.value == pytest.approx(12_610_800)


def test_a_multiplier_or_unit_on_the_next_line_belongs_to_that_line():
    q = find_quantities("P = 903400\nM(1) = 12.6 MB")[0]
    assert q.value == 903_400 and q.unit is None


def test_layer_indices_are_no_operands():
    eq = find_equations("Single instance: 9 MB (layers 1+2 alive at the same time) + 3.6 MB for weights "
                        "= 12.6 MB.")
    assert len(eq) == 1 and eq[0].holds and abs(eq[0].lhs.value - 12.6e6) < 1


def test_a_running_sum_that_writes_each_terms_result_holds():
    eqs = find_equations("50 images: 50*(6+3+1.52) = 526 MB + 50*0.72 = 36 MB + 3.6 MB ≈ 565.6 MB")
    assert [e.rhs.raw for e in eqs] == ["526 MB", "36 MB", "565.6 MB"] and all(e.holds for e in eqs)
    # a wrong last result is still a slip
    assert not find_equations("50*(6+3+1.52) = 526 MB + 50*0.72 = 36 MB + 3.6 MB ≈ 575.6 MB")[-1].holds


def test_a_comma_before_three_digits_of_megabytes_is_decimal_when_the_answer_groups_nothing():
    q = [q for q in find_quantities("Parameters 903400. Prediction: 12,614 MB.") if q.unit][0]
    assert abs(q.value - 12.614e6) < 1
    # where the answer groups digits with commas, the comma groups these too
    q = [q for q in find_quantities("903,400 parameters; 1,091 MB in all") if q.unit][0]
    assert q.value == 1091e6


def test_a_word_with_vowel_signs_or_joiners_stays_inside_its_formula():
    for text in ("maps 10.52 MB + น้ำหนัก 3.61 MB ≈ 14.13 MB", "نقشه‌ها 10.52 MB + وزن‌ها 3.61 MB ≈ 14.13 MB",
                 "मैप 10.52 MB + भार 3.61 MB ≈ 14.13 MB"):
        (eq,) = find_equations(text)
        assert eq.holds and abs(eq.lhs.value - 14.13e6) < 1, text


def test_millions_of_bytes_in_romance_languages_and_german_milliards():
    (q,) = find_quantities("12,6 millions d'octets")
    assert q.unit == "B" and q.value == 12.6e6
    (q,) = find_quantities("565,6 millones de bytes")
    assert q.unit == "B" and abs(q.value - 565.6e6) < 1
    (q,) = find_quantities("0,57 Mrd. Byte")
    assert q.unit == "B" and abs(q.value - 0.57e9) < 1
    # 'de' before a word that is no unit stays outside the number
    (q,) = find_quantities("0,9 millones de parámetros")
    assert q.raw == "0,9 millones" and q.unit is None


def test_plain_bits_are_an_eighth_of_a_byte():
    (q,) = find_quantities("100,908,800 bits")
    assert q.unit == "bit" and q.value == 100_908_800 / 8
