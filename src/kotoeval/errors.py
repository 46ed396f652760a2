"""The one error tree of kotoeval.

Every error a user can meet derives from :class:`KotoevalError` and from the builtin that fits,
so callers may catch either. Messages say what went wrong, where, and what to do; they never
contain a personal identity code or a data row.
"""


class KotoevalError(Exception):
    """Base of every error raised on purpose by kotoeval."""


class SpecError(KotoevalError, ValueError):
    """A user-supplied choice (scale, option, study spec) is invalid."""


class DeliveryError(KotoevalError, ValueError):
    """A register delivery is structurally unusable (missing column, unreadable file, …)."""


class KeyFileError(KotoevalError, ValueError):
    """The project key file is missing, malformed, too widely readable, or would be overwritten."""


class DisclosureError(KotoevalError, RuntimeError):
    """An output would leave the secure zone without passing disclosure control."""
