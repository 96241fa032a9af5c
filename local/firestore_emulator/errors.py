"""The one exception type the service layer turns into a gRPC status."""

from __future__ import annotations

import grpc


class FirestoreError(Exception):
    """A request failed with the given gRPC status, as Firestore would answer it."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(message: str) -> FirestoreError:
    return FirestoreError(grpc.StatusCode.INVALID_ARGUMENT, message)


def not_found(message: str) -> FirestoreError:
    return FirestoreError(grpc.StatusCode.NOT_FOUND, message)


def already_exists(message: str) -> FirestoreError:
    return FirestoreError(grpc.StatusCode.ALREADY_EXISTS, message)


def failed_precondition(message: str) -> FirestoreError:
    return FirestoreError(grpc.StatusCode.FAILED_PRECONDITION, message)


CONTENTION_MESSAGE = (
    "Aborted due to cross-transaction contention. This occurs when multiple transactions attempt to "
    "access the same data, requiring Firestore to abort at least one in order to enforce serializability."
)


def aborted(message: str = CONTENTION_MESSAGE) -> FirestoreError:
    return FirestoreError(grpc.StatusCode.ABORTED, message)
