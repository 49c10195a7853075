"""Tables. Every row carries the Slack team id, so one database serves many workspaces unmixed."""

from storage.models.base import Base, SlackId, StrEnumColumn, UTCDateTime, utcnow
from storage.models.circles import Circle, CircleMember, CircleRound, ParticipantStatus, RoundParticipant, RoundState
from storage.models.home import ChannelIntro, HomeVisit
from storage.models.installations import EnterpriseWorkspace, SlackBot, SlackInstallation, SlackOAuthState
from storage.models.numbers import WorkspaceCounter
from storage.models.pairing import (
    MentorProfile,
    PairingGroup,
    PairingLeftOut,
    PairingMember,
    PairingRound,
    ProfileSkill,
)
from storage.models.people import ErasureReceipt, FileDelivery, WorkspaceLifecycle
from storage.models.questions import (
    Question,
    QuestionAsk,
    QuestionReply,
    QuestionsChannel,
    QuestionTopic,
    TagAuthor,
)
from storage.models.runtime import Job, ProcessedEvent, RequestKey
from storage.models.schedules import CustomPrompt, Schedule, ScheduledPost, SchedulerLease
from storage.models.tips import ANONYMOUS_AUTHOR, Tip, TipDeletion, TipReaction, TipVote

__all__ = [
    "ANONYMOUS_AUTHOR",
    "Base",
    "ChannelIntro",
    "Circle",
    "CircleMember",
    "CircleRound",
    "CustomPrompt",
    "EnterpriseWorkspace",
    "ErasureReceipt",
    "FileDelivery",
    "HomeVisit",
    "Job",
    "MentorProfile",
    "PairingGroup",
    "PairingLeftOut",
    "PairingMember",
    "PairingRound",
    "ParticipantStatus",
    "ProcessedEvent",
    "ProfileSkill",
    "Question",
    "QuestionAsk",
    "QuestionReply",
    "QuestionTopic",
    "QuestionsChannel",
    "RequestKey",
    "RoundParticipant",
    "RoundState",
    "Schedule",
    "ScheduledPost",
    "SchedulerLease",
    "SlackBot",
    "SlackId",
    "SlackInstallation",
    "SlackOAuthState",
    "StrEnumColumn",
    "TagAuthor",
    "Tip",
    "TipDeletion",
    "TipReaction",
    "TipVote",
    "UTCDateTime",
    "WorkspaceCounter",
    "WorkspaceLifecycle",
    "utcnow",
]
