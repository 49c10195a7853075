"""Build the Bolt app from settings and its collaborators. No module-level app, client or engine."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.circles.rounds import CircleRunner
from bot.pairing.outcomes import RoundKeeper
from bot.pairing.rounds import PairingRunner
from bot.questions.service import QuestionDesk
from bot.schedules.posting import PostingSettings, ScheduledPoster
from bot.services import Services
from bot.slack.acting import acting_for
from bot.slack.client import build_client
from bot.slack.gateway import SlackGateway
from bot.slack.installations import Installations
from bot.slack.pacing import PostPacer
from bot.slack.users import UserDirectory
from bot.slack.workspaces import SlackClients, TeamClient
from handlers import register_all
from handlers.deps import Deps
from runtime.jobs import JobQueue, JobWorker
from runtime.matchers import cheapen_matchers
from runtime.oauth import PeerlearnAuthorize, build_oauth_flow
from runtime.serving import job_runner, queue_lazy_listeners
from runtime.settings import Settings
from runtime.workspace import InstalledAgain, OwnWorkspaceOnly, Served, Workspace, identify
from storage.db import Database
from storage.leases import SCHEDULER_LEASE, Heartbeat
from storage.models import utcnow

log = logging.getLogger(__name__)


class PeerlearnApp(App):
    """Bolt's App, acting for each request's workspace while it is dispatched: every Slack call its
    listeners make goes out with that workspace's token (bot/slack/workspaces.py)."""

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        with acting_for_request(req):
            return super().dispatch(req)


def acting_for_request(req: BoltRequest) -> AbstractContextManager[None]:
    """Act for the request's workspace (a request from Slack, or a queued job's): the one place its
    Slack client is chosen."""
    return acting_for(request_workspace(req))


def request_workspace(req: BoltRequest) -> str | None:
    """The workspace a request is of. Bolt reads it from the request; under an organisation-wide
    install (Enterprise Grid) an event's authorization names no workspace, so the event's own is
    taken and given to the listeners too: data stays keyed per workspace."""
    if req.context.team_id:
        return str(req.context.team_id)
    body: dict[str, Any] = req.body if isinstance(req.body, dict) else {}
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    for found in (body.get("team_id"), event.get("team"), user.get("team_id"), view.get("team_id")):  # type: ignore[union-attr]
        if isinstance(found, str) and found:
            req.context["team_id"] = found
            return found
    return None


def scheduler_client(
    settings: Settings, pacer: PostPacer, installations: Installations | None
) -> tuple[WebClient, Callable[[str], bool] | None]:
    """The scheduler's client and whose schedules it serves: the one token's (every stored team, as
    before), or in OAuth mode each workspace's own token, for the workspaces still installed."""
    if installations is None:
        return build_client(settings.single_token, settings.slack_api_url, pacer=pacer), None
    clients = SlackClients(installations, settings.slack_api_url, pacer=pacer)
    return TeamClient(clients), installations.serves_team


def build_schedulers(
    settings: Settings,
    *,
    db: Database,
    clock: Callable[[], datetime],
    installations: Installations | None = None,
) -> tuple[ScheduledPoster, CircleRunner]:
    """The scheduler's engines: one pacer (each workspace's posting limits, and the holds its posts'
    429s put on a channel or a workspace) and a client whose other retried 429s are paced too."""
    pacer = PostPacer(per_workspace_per_second=settings.posts_per_second)
    client, served = scheduler_client(settings, pacer, installations)
    gateway = SlackGateway(client)
    grace = timedelta(hours=settings.grace_hours)
    # One heartbeat renews everything the process holds: its leadership, posts and opening rounds.
    heartbeat = Heartbeat(db, lease=SCHEDULER_LEASE, clock=clock)
    users = UserDirectory(client, settings.admin_user_ids)
    poster = ScheduledPoster(
        db,
        gateway,
        clock=clock,
        pacer=pacer,
        settings=PostingSettings(grace=grace, tip_emoji=settings.tip_emoji),
        heartbeat=heartbeat,
        rounds=PairingRunner(db, gateway, users, clock=clock).start,
        keeper=each_in_turn(
            RoundKeeper(db, gateway, clock=clock, served=served).run_due,
            question_desk(settings, db=db, slack=gateway, users=users, clock=clock, served=served).keeper.run_due,
        ),
        served=served,
    )
    circles = CircleRunner(
        db,
        gateway,
        users,
        clock=clock,
        pacer=pacer,
        grace=grace,
        heartbeat=heartbeat,
        served=served,
    )
    return poster, circles


def each_in_turn(*keepers: Callable[[], None]) -> Callable[[], None]:
    """The scheduler leader's keepers (pairing rounds, questions' deadlines), each in its own try."""

    def run() -> None:
        for keep in keepers:
            try:
                keep()
            except Exception:  # one keeper's trouble never holds up another's, nor the posts
                log.exception("%s failed; the next tick tries again", getattr(keep, "__qualname__", keep))

    return run


def question_desk(
    settings: Settings,
    *,
    db: Database,
    slack: SlackGateway,
    users: UserDirectory,
    clock: Callable[[], datetime],
    served: Callable[[str], bool] | None = None,
) -> QuestionDesk:
    services = Services(db=db, slack=slack, users=users, clock=clock, tip_emoji=settings.tip_emoji)
    return QuestionDesk(services, window_hours=settings.question_window_hours, served=served)


def build_app(
    settings: Settings,
    *,
    client: WebClient,
    db: Database,
    clock: Callable[[], datetime] = utcnow,
    poster: ScheduledPoster | None = None,
    circles: CircleRunner | None = None,
    workspace: Workspace | None = None,
    installations: Installations | None = None,
) -> App:
    """The app Slack talks to. Signature verification is always on (Bolt's default; never turned off).
    It serves `workspace` only (the bot token's own, from auth.test at startup; asked here if not given),
    or in OAuth mode (`installations`) every workspace it is installed in, each with its own token,
    and the install pages (`client` then has no token: Bolt's OAuth flow calls oauth.v2.access with it).

    Ack functions run in the request thread and their response goes out as soon as they return
    (process_before_response); the work after the ack (Bolt's lazy listeners) is stored in the job
    queue before that, for a job worker to run: see `build_job_worker`.
    """
    return _bolt_app(
        settings,
        client=client,
        db=db,
        clock=clock,
        poster=poster,
        circles=circles,
        workspace=workspace,
        installations=installations,
        queue=JobQueue(db.queue, clock),
        oauth_pages=installations is not None,
    )


def build_job_worker(
    settings: Settings,
    *,
    client: WebClient,
    db: Database,
    clock: Callable[[], datetime] = utcnow,
    poster: ScheduledPoster | None = None,
    circles: CircleRunner | None = None,
    threads: int | None = None,
    workspace: Workspace | None = None,
    installations: Installations | None = None,
) -> JobWorker:
    """A job worker running queued work through the same listeners as `build_app`'s app."""
    # Its app never faces the network: its only requests are rows of the job queue, which the public
    # app wrote after it verified their signatures. Verifying again would fail every job: the rows
    # keep no signature, and Slack's would be older than the 5 minutes allowed once a backlog builds.
    worker_app = _bolt_app(
        settings,
        client=client,
        db=db,
        clock=clock,
        poster=poster,
        circles=circles,
        workspace=workspace,
        installations=installations,
        request_verification_enabled=False,
    )
    runner = job_runner(worker_app, acting_for_request)
    return JobWorker(
        db.queue,
        runner,
        threads=threads or settings.listener_threads,
        clock=clock,
        lease=timedelta(seconds=settings.job_lease_seconds),
        given_back=runner.key_given_back,
    )


def _bolt_app(
    settings: Settings,
    *,
    client: WebClient,
    db: Database,
    clock: Callable[[], datetime],
    poster: ScheduledPoster | None,
    circles: CircleRunner | None,
    workspace: Workspace | None,
    installations: Installations | None,
    queue: JobQueue | None = None,
    request_verification_enabled: bool = True,
    oauth_pages: bool = False,
) -> App:
    served: Served
    slack_client: WebClient
    oauth: dict[str, Any] = {}
    if installations is None:
        served, slack_client = workspace or identify(client), client
    else:
        # Each request authorised from the installation cache; listeners' calls made with the
        # token of the request's workspace (PeerlearnApp acts for it).
        served, slack_client = installations, TeamClient(SlackClients(installations, settings.slack_api_url))
        oauth["authorize"] = PeerlearnAuthorize(installations)
        if oauth_pages:
            oauth["oauth_flow"] = build_oauth_flow(settings, installations, db, client)
    app = PeerlearnApp(
        client=client,
        signing_secret=settings.signing_secret,
        logger=logging.getLogger("peerlearn.bolt"),
        process_before_response=True,
        request_verification_enabled=request_verification_enabled,
        # Before Bolt's own authorization, so every listener (commands, events, actions, views,
        # shortcuts) of this app and of the job worker's is behind it.
        before_authorize=OwnWorkspaceOnly(served),
        **oauth,
    )
    if queue is not None:  # the app facing the network: a request says when it arrived
        queue_lazy_listeners(app, queue)
        app.use(InstalledAgain(db, clock))
    engines: list[tuple[ScheduledPoster, CircleRunner]] = []

    def scheduler_engines() -> tuple[ScheduledPoster, CircleRunner]:
        if not engines:
            engines.append(build_schedulers(settings, db=db, clock=clock, installations=installations))
        return engines[0]

    slack, users = SlackGateway(slack_client), UserDirectory(slack_client, settings.admin_user_ids)
    deps = Deps(
        tip_emoji=settings.tip_emoji,
        db=db,
        slack=slack,
        users=users,
        clock=clock,
        poster=poster or scheduler_engines()[0],
        circles=circles or scheduler_engines()[1],
        pairing=PairingRunner(db, slack, users, clock=clock),
        questions=question_desk(settings, db=db, slack=slack, users=users, clock=clock),
        installations=installations,
    )
    register_all(app, deps)
    cheapen_matchers(app)
    return app
