"""A token's refresh in the database, on both databases: one holder of a bot row's refresh lease at a
time (no lock held while Slack answers), and a compare-and-set store on the spent refresh token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage import installations as queries
from storage.db import Database
from storage.models import SlackBot

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def a_bot(db: Database) -> queries.Bot:
    with db.transaction() as session:
        row = SlackBot(
            client_id="C",
            app_id="A",
            team_id="T0ONE",
            bot_token="xoxe.xoxb-old",
            bot_refresh_token="xoxe-1-old",
            bot_token_expires_at=queries.naive(NOW),
            installed_at=queries.naive(NOW),
        )
        session.add(row)
        session.flush()
        bot = queries.bot_by_id(session, row.id)
    assert bot is not None
    return bot


def test_one_holder_of_a_bots_refresh_lease_at_a_time_until_it_is_released_or_runs_out(db: Database) -> None:
    bot = a_bot(db)
    until = NOW + timedelta(seconds=30)
    with db.transaction() as session:
        assert queries.take_refresh_lease(session, bot.row_id, "p1", NOW, until)
    with db.transaction() as session:
        assert not queries.take_refresh_lease(session, bot.row_id, "p2", NOW, until)
        assert queries.take_refresh_lease(session, bot.row_id + 1, "p2", NOW, until)  # another bot's: free
    after = until + timedelta(seconds=1)  # p1 died holding it: its lease ran out
    with db.transaction() as session:
        assert queries.take_refresh_lease(session, bot.row_id, "p2", after, after + timedelta(seconds=30))
    with db.transaction() as session:
        queries.release_refresh_lease(session, bot.row_id, "p2")
    with db.transaction() as session:
        assert queries.take_refresh_lease(session, bot.row_id, "p1", NOW, until)


def test_a_refreshed_token_is_stored_only_over_the_refresh_token_it_was_refreshed_with(db: Database) -> None:
    bot = a_bot(db)
    later = NOW + timedelta(hours=12)
    with db.transaction() as session:
        assert queries.store_rotated(session, bot, token="xoxe.xoxb-new", refresh_token="xoxe-1-new", expires_at=later)
    with db.transaction() as session:  # a second refresh of the same (now spent) refresh token
        assert not queries.store_rotated(
            session, bot, token="xoxe.xoxb-late", refresh_token="xoxe-1-late", expires_at=later
        )
    with db.snapshot() as session:
        row = session.scalars(select(SlackBot)).one()
    assert (row.bot_token, row.bot_refresh_token) == ("xoxe.xoxb-new", "xoxe-1-new")
