"""The project's own user-facing error (a refusal that names a catalog message) and its exit codes."""

from __future__ import annotations

from bot.texts import t

# How every command of `python -m bot` ends.
EXIT_OK = 0
EXIT_FAILED = 1  # the command failed (RunningHub refused, a file is missing, ...)
EXIT_USAGE = 2  # bad settings, workflows.toml or command line
EXIT_INTERRUPTED = 130  # Ctrl-C


class UserError(Exception):
    """A bad input or a refusal. Carries a catalog key and its parameters; changes nothing.

    The Discord error handler renders it in the member's language as one ephemeral sentence; the
    command line renders it in English.
    """

    def __init__(self, key: str, /, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(key)

    def render(self, locale: str | None = None) -> str:
        return t(self.key, locale, **self.params)

    def __str__(self) -> str:
        try:
            return self.render()
        except KeyError:
            return self.key
