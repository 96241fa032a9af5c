"""A Firestore emulator: the ``google.firestore.v1.Firestore`` gRPC service, in Python.

``start()`` runs one in this process; ``python -m firestore_emulator`` runs one in the foreground.
See README.md for ports, endpoints, limits and known differences from Firestore.
"""

from .server import Emulator, start

__all__ = ["Emulator", "start"]
