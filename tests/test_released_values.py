"""reference/released_values.json (what a wheel install uses for Q9/Q10 without models.py) equals
what reference/models.py computes."""

from __future__ import annotations

import json

from reference import assignment06


def test_released_values_equal_what_the_reference_models_compute() -> None:
    released = json.loads(assignment06.RELEASED_VALUES.read_text(encoding="utf-8"))
    params = assignment06.released_params()
    assert set(released) == set(params)
    for name, cases in params.items():
        assert set(released[name]) == {assignment06._key(p) for p in cases}, name
        for p in cases:  # builds the reference CNN / imports each keras.applications module
            assert released[name][assignment06._key(p)] == getattr(assignment06._models(), name)(p), (name, p)
