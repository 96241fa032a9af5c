"""A Cloud Tasks emulator of the project's own (gRPC, ``google.cloud.tasks.v2``), for the stack.

What it does as Cloud Tasks does: HTTP tasks dispatched at their schedule time with Cloud
Tasks' headers; an OIDC token minted for the task's service account and audience with a
local key whose certificates it serves over HTTP (:mod:`.oidc`); task names deduplicated
(ALREADY_EXISTS while the task lives and for an hour after it ran or was deleted); the
queue's retry configuration honoured (:mod:`.retry`); pause, resume, purge, run, get, list
and delete. It runs in the project's own virtualenv (google-cloud-tasks' protos and grpcio).
See ``local/README.md`` for what it does not do.
"""
