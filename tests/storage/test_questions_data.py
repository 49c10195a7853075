"""What questions keep about a person, for `/peerlearn my-data`, and forgetting them, for `forget-me`:
their own questions go with everything on them; others' questions keep their answers, unnamed;
nothing of another person or another workspace is touched."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from storage import questions as queries
from storage.db import Database
from storage.models import Question, QuestionAsk, QuestionReply, QuestionTopic

TEAM = "T0TEST"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def question(db: Database, asker: str, key: str, team: str = TEAM, **values: object) -> int:
    with db.transaction() as session:
        row, _ = queries.insert_question_once(
            session,
            {"team_id": team, "asker_id": asker, "text": f"How do I {key}?", "topics": "postgres",
             "source": "command", "channel_id": "C1", "state": "waiting", "wave": 1, "request_key": key,
             "asked_at": NOW, **values},
        )  # fmt: skip
        queries.set_topics(session, row, ["postgres"])
        return row.id


def ask_and_reply(db: Database, question_id: int, user: str, team: str = TEAM) -> None:
    with db.transaction() as session:
        queries.add_ask(
            session,
            {
                "question_id": question_id,
                "user_id": user,
                "team_id": team,
                "wave": 1,
                "reasons": "teaches postgres",
                "state": "asked",
                "open": True,
                "created_at": NOW,
            },
        )
        queries.add_reply(session, {"question_id": question_id, "ts": f"1.{len(user)}{question_id}", "team_id": team,
                                    "user_id": user, "text": "Try VACUUM", "created_at": NOW})  # fmt: skip


def count(db: Database, model: type) -> int:
    with db.snapshot() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_my_data_and_forget_me(db: Database) -> None:
    own = question(db, "UME", "tune vacuum")
    others = question(db, "UOTHER", "pick an index", answered_by="UME", state="answered", answer_ts="1.5")
    foreign = question(db, "UME", "something elsewhere", team="T0ELSE")
    ask_and_reply(db, own, "UOTHER")
    ask_and_reply(db, others, "UME")
    ask_and_reply(db, foreign, "UOTHER", team="T0ELSE")

    with db.snapshot() as session:
        data = queries.questions_data_of(session, TEAM, "UME")
    # Named by their numbers in the workspace, as people see them: own is #1, others' #2 (T0ELSE has its own #1).
    assert [q["number"] for q in data["asked"]] == [1] and data["asked"][0]["text"] == "How do I tune vacuum?"
    assert [a["question"] for a in data["asked_to_help"]] == [2]
    assert [r["question"] for r in data["replies"]] == [2] and data["answers_accepted"][0]["question"] == 2

    with db.transaction() as session:
        changed = queries.erase_questions_of(session, TEAM, "UME")
    assert changed == 7  # own: 1 ask, 1 reply, 1 topic, the question; others': UME's ask and reply, the answer unnamed
    with db.snapshot() as session:
        assert queries.questions_data_of(session, TEAM, "UME") == {
            "asked": [], "asked_to_help": [], "replies": [], "answers_accepted": [], "others_messages_asked": []
        }  # fmt: skip
        kept = session.get(Question, others)
        assert kept is not None and kept.state == "answered" and kept.answered_by is None
        assert session.get(Question, foreign) is not None  # another workspace's: untouched
    assert count(db, QuestionAsk) == 1 and count(db, QuestionReply) == 1 and count(db, QuestionTopic) == 2
