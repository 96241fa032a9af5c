"""The two ways a stack fails to come up: a component that cannot start, a signal while starting."""

from __future__ import annotations


class StackError(Exception):
    """A component could not be started; ``str()`` names it and says why."""

    def __init__(self, component: str, reason: str, log_tail: str = "") -> None:
        super().__init__(f"{component}: {reason}")
        self.component = component
        self.reason = reason
        self.log_tail = log_tail

    def report(self) -> str:
        text = f"stack: {self.component} failed to start: {self.reason}"
        if self.log_tail:
            text += f"\n--- last lines of the {self.component} log ---\n{self.log_tail}\n---"
        return text


class Interrupted(Exception):
    """A signal asked the stack to stop while it was starting."""
