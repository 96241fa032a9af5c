"""Documents: the user's uploaded course material, from signed upload to searchable chunks.

Pure modules (no I/O): :mod:`.model` (the document record and the rules of its life),
:mod:`.kinds` (allowed types, magic numbers, safe names, zip-bomb checks), :mod:`.extract`
(text with page/slide numbers), :mod:`.chunking`, :mod:`.lexical` (the BM25 index),
:mod:`.api` (request/response models), :mod:`.problems`. Persistence: :mod:`.repository`
(the only code reading and writing ``users/{uid}/documents`` and its chunks and index).
Services: :mod:`.service` (create-upload, list, get, delete, and the public API other
packages use), :mod:`.process` (the ``process-upload`` event handler), :mod:`.retrieval`
(top-k chunks for a query). Adapters: :mod:`.signing` (V4 signed upload URLs),
:mod:`.embeddings` (vectors and ``find_nearest``, when on).
"""
