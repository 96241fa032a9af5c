"""The study core: cards on an FSRS schedule, the daily queue, review statistics.

Pure domain modules (no I/O): :mod:`.days` (study days in the user's time zone),
:mod:`.model` (cards, ratings, stored form), :mod:`.scheduler` (py-fsrs wrapper),
:mod:`.review` (one review: FSRS, leeches, the user's stats), :mod:`.queue`,
:mod:`.stats`, :mod:`.cursor`. Firestore lives in :mod:`.store` only.
"""
