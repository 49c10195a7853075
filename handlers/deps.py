"""What the listeners need: the shared services, plus the scheduler engines that `/circle checkin
now` and `/peerlearn … now` drive. Built by the runtime's factory and passed to `register`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.circles.rounds import CircleRunner
from bot.pairing.rounds import PairingRunner
from bot.questions.service import QuestionDesk
from bot.schedules.posting import ScheduledPoster
from bot.services import Services
from bot.slack.installations import Installations


@dataclass(frozen=True)
class Deps(Services):
    poster: ScheduledPoster
    circles: CircleRunner
    pairing: PairingRunner  # previews a round for an admin (the scheduler's own runs the rounds)
    questions: QuestionDesk  # /ask and everything after it (the scheduler's own keeps the deadlines)
    installations: Installations | None = None  # OAuth mode: where each workspace's token comes from
