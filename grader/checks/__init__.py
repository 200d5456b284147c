"""One module per kind of check. Importing this package registers every kind."""

from grader.checks import concepts, execution, models, parammath  # noqa: F401
