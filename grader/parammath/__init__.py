"""Q2 parameter and memory math in four stages, one module each (the check is grader/checks/parammath.py).

- reading: the numbers, formulas and sentences of an answer, and which part each number is about
  (picks: the Reading and Pick it hands on; choosing: which number answers each part)
  (with cues: the words per part and language; corrections: EDIT / Update lines; negation:
  rejected values; rivals: several values for one part; order: answers known by their position;
  layout: tables, code, LaTeX, units; outputs: printed values and their names; numberwords:
  numbers written in words or in myriads)
- conventions: the accepted values (MB or MiB, layers kept ...) and the known wrong ones
- verdict: credit and diagnoses for one part, from the reading and the conventions
- feedback: what the student reads, and the evidence shown next to it
"""
