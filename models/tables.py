"""Every table, imported in one place so Alembic and the app see the same metadata.

Feature modules define their tables in their own `models/<feature>.py` and are
imported here.
"""

from models.complaints import Complaint, ComplaintEvent, ComplaintFollower, PendingThreadReply
from models.knowledge import KnowledgeFeedback, KnowledgeSearch
from models.kudos import KudosGiverDay, Recognition
from models.privacy import PendingRedaction, PrivacyRecord
from models.requests import ProcessedRequest
from models.service_levels import Notification, OwnerReminder
from models.surveys import CallBack, RateWindow, SurveyAnswer, Unsubscribe

__all__ = [
    "CallBack", "Complaint", "ComplaintEvent", "ComplaintFollower", "KnowledgeFeedback", "KnowledgeSearch",
    "KudosGiverDay", "Notification", "OwnerReminder", "PendingRedaction", "PendingThreadReply", "PrivacyRecord", "ProcessedRequest",
    "RateWindow", "Recognition", "SurveyAnswer", "Unsubscribe",
]
