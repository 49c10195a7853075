"""Choosing whom to ask about a question: evidence adds up over topics with `/mentor find`'s weights
plus accepted answers; never the asker, anyone already asked or anyone with 3 open questions; people
in their working hours ahead of equals who are off; and the reasons the DM gives."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.pairing.blocks import Helper
from bot.pairing.people import Level
from bot.questions.experts import ACCEPTED_WEIGHT, MAX_OPEN, Evidence, rank

WEDNESDAY_NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # 13:00 in Berlin, 07:00 in New York


def helper(
    user_id: str, *, teaches: bool = False, level: Level | None = None, tips: int = 0, helpful: int = 0
) -> Helper:
    return Helper(user_id, teaches, level, tips, helpful, met_pairings=0)


def evidence() -> Evidence:
    found = Evidence(("postgres", "vacuum"))
    found.helpers = {
        "ULEAD": {"postgres": helper("ULEAD", teaches=True, level=Level.LEAD)},
        "UBOTH": {
            "postgres": helper("UBOTH", teaches=True, level=Level.MID),
            "vacuum": helper("UBOTH", tips=4, helpful=9),
        },
        "UTIPS": {"postgres": helper("UTIPS", tips=2, helpful=1)},
        "UASKER": {"postgres": helper("UASKER", teaches=True, level=Level.LEAD)},
    }
    found.accepted = {("UANSWERS", "vacuum"): 2}
    return found


def ids(experts: list[object]) -> list[str]:
    return [e.user_id for e in experts]  # type: ignore[attr-defined]


def test_scores_add_up_over_topics_and_accepted_answers_count() -> None:
    found = evidence()
    # ULEAD 100+40; UBOTH 100+20 + 5*4+2*9; UANSWERS 2 accepted; UTIPS 5*2+2*1
    scores = found.scores()
    assert scores["ULEAD"] == 140 and scores["UBOTH"] == 158
    assert scores["UANSWERS"] == 2 * ACCEPTED_WEIGHT and scores["UTIPS"] == 12
    ranked = rank(found, now=WEDNESDAY_NOON, zones=None, load={}, exclude={"UASKER"})
    assert ids(ranked) == ["UBOTH", "ULEAD", "UANSWERS", "UTIPS"]


def test_never_the_asker_nor_anyone_asked_nor_anyone_full() -> None:
    ranked = rank(
        evidence(), now=WEDNESDAY_NOON, zones=None, load={"UBOTH": MAX_OPEN, "UTIPS": MAX_OPEN - 1},
        exclude={"UASKER", "ULEAD"},
    )  # fmt: skip
    assert ids(ranked) == ["UANSWERS", "UTIPS"]


def test_people_at_work_now_come_before_equals_who_are_not() -> None:
    zones = {"ULEAD": "America/New_York", "UBOTH": "Europe/Berlin", "UANSWERS": "Asia/Tokyo", "UTIPS": None}
    ranked = rank(evidence(), now=WEDNESDAY_NOON, zones=zones, load={}, exclude={"UASKER"})
    assert ids(ranked) == ["UBOTH", "ULEAD", "UANSWERS", "UTIPS"]  # ULEAD halved (70) stays above 60 halved
    assert [e.in_hours for e in ranked] == [True, False, False, True]
    evening = rank(evidence(), now=WEDNESDAY_NOON.replace(hour=19), zones=zones, load={}, exclude={"UASKER"})
    assert ids(evening)[0] == "ULEAD"  # 14:00 in New York; Berlin has gone home


def test_reasons_say_why_in_the_dm() -> None:
    found = evidence()
    assert found.reasons("UBOTH") == "teaches postgres (mid-level); 4 tips on #vacuum, 9 found them helpful"
    assert found.reasons("UANSWERS") == "2 accepted answers on vacuum"
    tricky = Evidence(("<b>&",), {"U1": {"<b>&": helper("U1", teaches=True)}})
    assert "&lt;b&gt;&amp;" in tricky.reasons("U1") and "<b>" not in tricky.reasons("U1")
