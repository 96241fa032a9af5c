"""Documents: the user's uploaded course material, from signed upload to searchable chunks.

Pure modules (no I/O): :mod:`.kinds` (allowed types, magic numbers, safe names, zip-bomb
checks), :mod:`.extract` (text with page/slide numbers), :mod:`.chunking`, :mod:`.lexical`
(the BM25 index), :mod:`.api` (request/response models), :mod:`.problems`. Adapters:
:mod:`.signing` (V4 signed upload URLs), :mod:`.store` (Firestore and Storage),
:mod:`.process` (the ``process-upload`` event handler), :mod:`.embeddings` (vectors and
``find_nearest``, when on), :mod:`.retrieval` (top-k chunks for a query).
"""
