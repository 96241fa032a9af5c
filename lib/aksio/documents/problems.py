"""Problems with a file that no retry can fix: the document ends ``failed`` with a reason."""

from __future__ import annotations


class DocumentProblem(Exception):
    """A permanent problem with an uploaded file: a stable code and a message a person can read."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
