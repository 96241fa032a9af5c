"""Flashcard generation jobs: a job per request (``users/{uid}/jobs/{jobId}``), processed
one step (a batch of chunks) per Cloud Task.

- :mod:`.model`: request/response models, the plan of steps, dedupe keys, drafts → cards (pure).
- :mod:`.inputs`: the job's input as passages: pasted text, or document chunks.
- :mod:`.store`: create a job, run a step (idempotent), read jobs, accept/reject drafts.
"""
