"""Web accounts' roles (the accounts themselves: :mod:`pipeline.ledger.accounts`).

A user's ``zones`` are responsibility-zone codes (``patrol_zones.code``, 分片包干). A lead
belongs to the responsibility zone that holds most of it (``leads.patrol_zone_id``, set by the
ledger when the lead is created), so "a patrol member sees only the leads of their zones" is
``lead.patrol_zone_id in ids(user.zones)``. Analysts see every lead and zones do not apply.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.ledger import MIN_PASSWORD_CHARS, ROLES, Account

__all__ = ["MIN_PASSWORD_CHARS", "ROLES", "STEP_ROLES", "User", "as_user", "may_manage"]

#: who takes each lifecycle step in the web app (analysts read, they do not take steps)
STEP_ROLES: dict[str, tuple[str, ...]] = {
    "dispatched": ("supervisor",), "verified": ("patrol", "supervisor"),
    "stopped": ("patrol", "supervisor"), "reported": ("supervisor",), "filed": ("supervisor",),
    "rectified": ("supervisor",), "closed": ("supervisor",),
}


@dataclass(frozen=True)
class User(Account):
    """A signed-in account and what its role may do in the app."""

    @property
    def sees_all(self) -> bool:
        return self.role == "analyst"

    @property
    def may_dispatch(self) -> bool:
        return self.role == "supervisor"

    @property
    def may_verify(self) -> bool:
        return self.role in ("patrol", "supervisor")

    @property
    def may_register_clues(self) -> bool:
        return self.role in ("supervisor", "analyst")

    @property
    def manages_accounts(self) -> bool:
        return self.role in ("supervisor", "analyst")

    def may_take(self, step: str) -> bool:
        return self.role in STEP_ROLES.get(step, ())


def as_user(account: Account | None) -> User | None:
    """The ledger's account as the app's :class:`User`."""
    if account is None:
        return None
    return User(account.name, account.role, account.zones, account.session_version)


def may_manage(manager: User, account: dict[str, Any]) -> bool:
    """Analysts manage every other account; a supervisor the patrol members of their zones."""
    if account["name"] == manager.name:
        return False
    if manager.role == "analyst":
        return True
    return (manager.role == "supervisor" and account["role"] == "patrol"
            and bool(set(account["zones"]) & set(manager.zones)))
