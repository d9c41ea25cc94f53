"""A record of what was read, dropped and aligned: printed as it happens and kept for the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

__all__ = ["ReadLog"]


@dataclass
class ReadLog:
    """Lines describing the inputs. ``echo`` prints each line as it is added (None: silent)."""

    echo: Callable[[str], None] | None = None
    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)
        if self.echo is not None:
            self.echo(line)

    def markdown(self) -> str:
        """The lines as a Markdown bullet list."""
        return "\n".join(f"- {line}" for line in self.lines)
