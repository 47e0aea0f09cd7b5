"""Change requests: the approval policy and the state machine, from request to outcome.

A request is bound, when asked for, to the environment, the schemas, the from and to revisions
and a digest of the planned SQL; that, and only that, runs once approved. Every move of a request
is a compare-and-set in the store, so a request runs once however often an approving reaction is
delivered. The service tells the world through a :class:`ChangeNotifier`; it knows nothing of Slack.

Its modules, each one concern: ``requests`` (what a request is, and how one is built), ``events``
(news of a request, typed), ``policy`` (who may approve, and what a change must meet), ``machine``
(reactions counted, decided, expired), ``runs`` (a run, and the hinfo watch or the data check after it),
``recovery`` (runs abandoned, settled by their database), ``proposals`` (asking), ``served`` (what pqserver
should serve after a restart, and which environments have a change), ``service`` (:class:`ChangeService`, the
one public service).
"""

from typing import TYPE_CHECKING

from bot.services.changes.events import (
    DataVerdict,
    HinfoUnreadable,
    HinfoVerdict,
    MigrationStep,
    PqserverChecked,
    RequestEvent,
    RestartNotDone,
    RestartStep,
    RolloutProgress,
    RolloutResumed,
)
from bot.services.changes.policy import (
    ALL,
    busy_refusal,
    check_prepare,
    check_proposal,
    check_restart,
    check_restart_all,
    check_rollout,
)
from bot.services.changes.requests import (
    ALLOWED_REWRITE,
    APPROVE,
    FORCED,
    PREPARE,
    REJECT,
    RESTART,
    ROLLOUT,
    ChangeNotifier,
    Finished,
    Proposal,
    RequestTickets,
    RequestView,
    overrides_detail,
    overrides_text,
    request_view,
)
from bot.services.changes.served import change_label
from bot.services.changes.service import ChangeService

if TYPE_CHECKING:
    from bot.services.changes.requests import RequestResult

__all__ = [
    "ALL",
    "ALLOWED_REWRITE",
    "APPROVE",
    "FORCED",
    "PREPARE",
    "REJECT",
    "RESTART",
    "ROLLOUT",
    "ChangeNotifier",
    "ChangeService",
    "DataVerdict",
    "Finished",
    "HinfoUnreadable",
    "HinfoVerdict",
    "MigrationStep",
    "PqserverChecked",
    "Proposal",
    "RequestEvent",
    "RequestResult",
    "RequestTickets",
    "RequestView",
    "RestartNotDone",
    "RestartStep",
    "RolloutProgress",
    "RolloutResumed",
    "busy_refusal",
    "change_label",
    "check_prepare",
    "check_proposal",
    "check_restart",
    "check_restart_all",
    "check_rollout",
    "overrides_detail",
    "overrides_text",
    "request_view",
]
