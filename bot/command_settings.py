"""``/settings``: the pure part, a subscription with the user's words applied (or the message
saying what is wrong with them). The command core stores the result."""

from __future__ import annotations

from dataclasses import replace

from bot import messages as msg
from bot.i18n import Translator, language_of
from bot.models import Subscription
from bot.schedule import example_zone, parse_daily_time, parse_timezone, timezone_region

__all__ = ["apply_settings"]

_TIMEZONE_WORDS = ("timezone", "tz", "zone")
_LANGUAGE_WORDS = ("language", "lang", "sprache", "langue", "idioma", "lingua", "язык", "мова")


def apply_settings(
    cmd: msg.CommandSyntax, sub: Subscription, args: list[str], t: Translator
) -> Subscription | str:
    """The subscription with ``args`` applied, or the message saying what is wrong."""
    word, rest = args[0].lower(), args[1:]
    if word in ("instant", "hourly"):
        if rest:
            return msg.settings_too_many(cmd, args, t=t)
        return replace(sub, mode=word)
    if word in _TIMEZONE_WORDS:
        if not rest:
            return msg.settings_missing_timezone(cmd, t=t)
        if len(rest) > 1:
            return msg.settings_too_many(cmd, args, t=t)
        return _with_timezone(cmd, sub, rest[0], t)
    if word in _LANGUAGE_WORDS:
        if len(rest) != 1:
            return msg.language_unknown(cmd, " ".join(rest), t=t)
        language = language_of(rest[0])
        if language is None:
            return msg.language_unknown(cmd, rest[0], t=t)
        return replace(sub, language=language)
    if word == "daily":
        if len(rest) > 2:
            return msg.settings_too_many(cmd, args, t=t)
        daily = parse_daily_time(rest[0]) if rest else (sub.daily_time or "08:00")
        if daily is None:
            return msg.settings_bad_time(cmd, rest[0], t=t)
        updated = replace(sub, mode="daily", daily_time=daily)
        return _with_timezone(cmd, updated, rest[1], t) if len(rest) == 2 else updated
    return msg.settings_bad_mode(cmd, args[0], t=t)


def _with_timezone(
    cmd: msg.CommandSyntax, sub: Subscription, name: str, t: Translator
) -> Subscription | str:
    zone = parse_timezone(name)
    if zone is None:
        region = timezone_region(name)
        if region is not None:
            return msg.settings_timezone_region(cmd, region, example_zone(region), t=t)
        return msg.settings_bad_timezone(cmd, name, t=t)
    return replace(sub, timezone=zone.key)
