"""Who may do what beyond their own work: the one rule, for every feature.

Managers (MANAGER_IDS) and admins (ADMIN_IDS) may reassign, resolve and reopen any
complaint and see the team's figures; only admins look after the knowledge base.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.complaints import Complaint


@dataclass(frozen=True)
class Permissions:
    manager_ids: frozenset[str] = frozenset()
    admin_ids: frozenset[str] = frozenset()

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.admin_ids

    def is_manager(self, user_id: str) -> bool:
        """Admins count as managers."""
        return user_id in self.manager_ids or self.is_admin(user_id)

    def can_manage(self, user_id: str, complaint: Complaint) -> bool:
        """The complaint's owner, a manager or an admin."""
        return user_id == complaint.owner_id or self.is_manager(user_id)
