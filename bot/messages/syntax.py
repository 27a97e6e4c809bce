"""How users of each platform type a command: texts spell commands through these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommandSyntax:
    """How users of one platform type a command.

    ``template`` wraps the command line (``"/{}"``, ``"/digest {}"``, ```{}```);
    ``renamed`` maps a core command name to the word typed on this platform where they differ
    (Slack's ``/digest`` cannot also be the sub-command for "the latest cards": it is ``now``).
    """

    template: str
    renamed: tuple[tuple[str, str], ...] = ()

    def __call__(self, name: str, *args: str) -> str:
        """``cmd("subscribe", "trade")``: how to type the core command ``name`` with ``args``."""
        word = dict(self.renamed).get(name, name)
        return self.template.format(" ".join((word, *args)))

    def typed(self, word: str) -> str:
        """A word the user typed as a command, shown back as they typed it (no renaming)."""
        return self.template.format(word)


TELEGRAM = CommandSyntax("/{}")
SLACK_SLASH_COMMAND = "/digest"  # as in config/slack-manifest.yml; bot.slack listens to it
SLACK = CommandSyntax(SLACK_SLASH_COMMAND + " {}", renamed=(("digest", "now"), ("start", "help")))
CONSOLE = CommandSyntax("`{}`")
SYNTAX_BY_PLATFORM: Mapping[str, CommandSyntax] = {
    "telegram": TELEGRAM,
    "slack": SLACK,
    "console": CONSOLE,
}


def syntax_for(platform: str) -> CommandSyntax:
    """The platform's syntax; Telegram-style slash commands for a platform not listed."""
    return SYNTAX_BY_PLATFORM.get(platform, TELEGRAM)
