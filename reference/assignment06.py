"""Reference values for assignment 06 (CNNs). Each function is referred to by name in
rubrics/assignment06.yaml. Heavy imports stay inside the functions."""

from __future__ import annotations

from reference import q2_memory  # noqa: F401,E402  (registers conv_net_memory)
