"""The web-account part of the :class:`~pipeline.ledger.store.Ledger` facade."""
from __future__ import annotations

from typing import Any

from pipeline.ledger import accounts
from pipeline.ledger.accounts import Account


class AccountsMixin:
    """Methods of :class:`Ledger` for web accounts (needs ``read`` and ``write``)."""

    def read(self, fn: Any) -> Any:  # pragma: no cover - provided by Ledger
        raise NotImplementedError

    def write(self, fn: Any) -> Any:  # pragma: no cover - provided by Ledger
        raise NotImplementedError

    def add_user(self, *, name: str, role: str, zones: list[str], password: str, by: str) -> Account:
        """Create an account (checked first: role, password length, known zones, free name)."""
        return self.write(lambda c: accounts.add_user(c, name=name, role=role, zones=zones,
                                                      password=password, by=by))

    def get_user(self, name: str) -> Account | None:
        """The active account ``name``; ``None`` if unknown or disabled."""
        return self.read(lambda c: accounts.get_user(c, name))

    def authenticate(self, name: str, password: str) -> Account | None:
        """The active account if ``password`` is its password, else ``None``."""
        return self.read(lambda c: accounts.authenticate(c, name, password))

    def users(self) -> list[dict[str, Any]]:
        """Every account (name, role, zones, active, created_at), by name."""
        return self.read(accounts.list_users)

    def set_password(self, name: str, password: str, by: str) -> None:
        self.write(lambda c: accounts.set_password(c, name=name, password=password, by=by))

    def set_active(self, name: str, active: bool, by: str) -> bool:
        """Disable or enable ``name``; False when it already was."""
        return self.write(lambda c: accounts.set_active(c, name=name, active=active, by=by))

    def end_sessions(self, name: str) -> None:
        """Void every session and API token of ``name`` issued so far."""
        self.write(lambda c: accounts.end_sessions(c, name))
