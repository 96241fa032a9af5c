"""The tutor: answers grounded in the user's documents, with citations; chats and their
messages under ``users/{uid}/chats/{chatId}/messages``.

- :mod:`.model`: request and response models (pure).
- :mod:`.grounding`: retrieval of passages (through :mod:`aksio.documents.retrieval`).
- :mod:`.store`: prepare (checks, quota, history, passages), answer and store, read.
"""
