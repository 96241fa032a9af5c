"""Quizzes: practice tests made from a deck (instantly) or from documents (a job run step by
step by Cloud Tasks), taken as attempts graded on the server, misses turned into cards.

- :mod:`.model`: the stored quiz and attempt, their rules and public views (pure).
- :mod:`.build`: questions from a deck's cards: multiple choice, true/false, short answer (pure).
- :mod:`.grading`: answers → correctness, short answers by normalised match (pure).
- :mod:`.api`: the request and response models.
- :mod:`.repository`: the only code touching ``users/{uid}/quizzes`` (+ ``attempts/``).
- :mod:`.service`: create, read, start, answer, submit, history, misses → cards.
"""
