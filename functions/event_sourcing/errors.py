"""Domain errors of the account ledger; `api.py` maps each type to an HTTP status, the projector
and the rebuilder let the ones they cannot handle fail the record."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every error a client can cause; its message is safe to show to the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidCommandError(LedgerError):
    """The request is not a command this API takes (shape, types, ranges)."""


class MalformedBodyError(LedgerError):
    """The body cannot be read as JSON."""


class AccountNotFoundError(LedgerError):
    """No event was ever stored for this account (or none at the version or time asked for)."""

    def __init__(self, account_id: str, *, detail: str = "") -> None:
        super().__init__(f"account {account_id!r} has no events{detail}")
        self.account_id = account_id


class RuleViolatedError(LedgerError):
    """The command breaks one of the ledger's invariants against the account's current state
    (withdrawing more than the balance, depositing into a closed account...)."""

    def __init__(self, message: str, *, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


class VersionConflictError(LedgerError):
    """Another command was appended since the state this one was decided on: nothing of this
    one was written. Read the account again and decide again."""

    def __init__(self, account_id: str, *, expected: int, current: int) -> None:
        super().__init__(
            f"account {account_id!r} is at version {current}, not {expected}: "
            "read it again and send the command again against the current version"
        )
        self.account_id = account_id
        self.expected = expected
        self.current = current


class CommandIdReusedError(LedgerError):
    """A command id already used for a different command."""

    def __init__(self, command_id: str) -> None:
        super().__init__(
            f"command_id {command_id!r} was already used for a different command: "
            "use a new id for a new command"
        )
        self.command_id = command_id


class UnknownEventTypeError(Exception):
    """A stored event of a type (or schema version) this code cannot read: a deploy of older
    code over newer events. Never a client's fault."""


class ProjectionConflictError(Exception):
    """The read model moved while the projector wrote it (another projector instance);
    raising fails the record so that Lambda hands it over again."""


class InvalidSettingError(RuntimeError):
    """A setting the stack set is present but unusable."""
