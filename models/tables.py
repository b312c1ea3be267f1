"""Every table, imported in one place so Alembic and the app see the same metadata.

Feature modules define their tables in their own `models/<feature>.py` and are
imported here.
"""

from models.complaints import Complaint, ComplaintEvent, ComplaintFollower, PendingThreadReply
from models.knowledge import KnowledgeFeedback, KnowledgeSearch
from models.kudos import KudosGiverDay, Recognition
from models.privacy import PrivacyRecord
from models.requests import ProcessedRequest
from models.service_levels import Notification, OwnerReminder

__all__ = [
    "Complaint", "ComplaintEvent", "ComplaintFollower", "KnowledgeFeedback", "KnowledgeSearch", "KudosGiverDay",
    "Notification", "OwnerReminder", "PendingThreadReply", "PrivacyRecord", "ProcessedRequest", "Recognition",
]
