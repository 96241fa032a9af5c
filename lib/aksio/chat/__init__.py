"""The tutor: answers grounded in the user's documents, with citations; chats and their
messages under ``users/{uid}/chats/{chatId}/messages``.

- :mod:`.model`: request and response models, the stored records, the rules of a turn (pure).
- :mod:`.repository`: the only code reading and writing ``chats`` and their ``messages``.
- :mod:`.grounding`: passages from the user's documents (through their public API).
- :mod:`.service`: prepare (checks, quota, history, passages), answer and store, read, delete.
"""
