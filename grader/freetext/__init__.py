"""Free-text answers (Q1, Q3-Q8) graded against a concept rubric, with the sentences that earned each point.

The rubric item's `params` declare the key concepts (points, the ways students say them) and
the known misconceptions (a deduction and a correction); see rubrics/assignment06.yaml. Phrase
matching is lexical and lives in grader.textmatch (stemming plus typo-tolerant comparison).

Score = min(points, sum of the concepts found, one per `group`) - deductions, floored at 0 and
rounded to `step`. A stated misconception therefore never leaves full credit.

Confidence (0..1) says how sure the machine is of that score; below the rubric's
`review_threshold` the item is flagged `needs_review` for a human. It drops for matches that
relied on typo tolerance, for concepts that were nearly matched (most of a phrase's words
present), for misconceptions (a deduction is a judgement), for very long answers (the rubric's
words may meet by accident), and for sentences that use the topic's vocabulary yet matched
nothing while the score is not full (the student may have said something right in words the
rubric does not list), more so when such an answer earned at most a quarter of the points (a
missed paraphrase costs most there), and for matches that needed a phrase's head noun left out
("only convolutions" for "only convolutional layers"). Filler and off-topic text does not lower
it: a 0 for those is certain.

Reading as a TA does (issue 13): a concept counts only from text about its subject (Q6: the
sentences about that architecture, grader/textunits.py) and not where the same words say the
opposite (`unless`, `unless_patterns`) or are negated, rejected ("does not help") or denied ("it
is not true that"); the words that state a misconception earn nothing; a misconception is
deducted only where it is asserted: not where it is denied (up to the student's own correction
after a ':' or 'but'), nor where the student takes it back at once ("... no, sorry, that's
backwards", grader/freetext/retraction.py); a right claim taken back ("no weights... hmm wait, I
think it does have one?") earns nothing, and a concept read and rejected so (negated,
contradicted, withdrawn) is no near miss for the confidence. Bare terms ("weight sharing,
translation invariance") earn at most `keyword_share` (25%) of the points and send the answer to
review; so does an answer not written in English (grader/textlang.py: function words, or a
non-Latin script), whatever it scored. Q6: a sentence about a named architecture that says
something yet earned nothing for it lowers the confidence (an innovation in words or typos the
phrases cannot read). Hidden text (HTML comments, display:none) is removed before grading by the
locator (grader/notebook.py).

A concept's `context_patterns` read the whole answer, for what a student states across
sentences: "the last pool gives 7x7x512. Replace the Dense(4096) by Conv2D(4096, kernel_size=7)"
is the kernel-size conversion (credited to the sentence the match ends in).

A sentence-embedding signal (all-MiniLM-L6-v2 run with NumPy, grader/embed.py) was measured
and not adopted: as credit it lowered held-out agreement, as a review flag it caught 1 more
wrong grade in 53 at the cost of 6-9 more flags (benchmarks/embedding_signal.py), and it costs
30-60 ms of CPU per sentence, too much for the 1-second static self-check.
Modules, one job each: rubric (params -> objects), reading (sentences and units by subject),
attribution (which units a concept may be credited from), finding (concepts), misconceptions
(asserted, not mentioned), confidence (when a human should look), scoring (grade_text),
elsewhere (an answer to another question of the rubric, for the concepts check).

Static check: no TensorFlow, no execution.
"""
