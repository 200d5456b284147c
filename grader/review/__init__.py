"""The browser review queue (`grader review OUT`): the items needing a person, graded by hand
one question at a time across the class. `queue` decides what is queued; `app` serves it."""
