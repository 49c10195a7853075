"""The numbers people see and type ("Tip #3", `/ask close 7`), counted per workspace.

A workspace's first tip is #1 whatever other workspaces hold: a global id would tell each
workspace how busy the others are. The database id stays the internal key (buttons, metadata,
foreign keys, jobs); the number is only what people read and type.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import String
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SlackId
from storage.upsert import increment

TIP = "tip"
QUESTION = "question"
PROMPT = "prompt"  # an admin's custom prompt (`/peerlearn prompt remove 3`)


class WorkspaceCounter(Base):
    """The last number a workspace gave a tip, a question or a custom prompt: numbers are never given
    twice, even after the highest one's row is deleted (an old post still says "Tip #9")."""

    __tablename__ = "workspace_counters"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # tip | question | prompt
    last: Mapped[int]


def next_number(kind: str) -> Callable[[DefaultExecutionContext], int]:
    """A column default: the inserted row's workspace's next number of `kind`, taken in the
    inserting transaction (whatever inserts the row: a query of storage/, the ORM, a test).

    Taken before the INSERT runs, so an insert that then conflicts (a rerun of the same request,
    racing the first) leaves a number unused: numbers may skip, never repeat."""

    def default(context: DefaultExecutionContext) -> int:
        team_id = context.get_current_parameters()["team_id"]  # type: ignore[no-untyped-call]
        return increment(context.connection, WorkspaceCounter, {"team_id": team_id, "kind": kind}, "last")

    return default
