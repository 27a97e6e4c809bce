"""Quoted phrases as filters: `/subscribe trade "supply chain"` follows one phrase, not two
rejected halves, whatever quotes the user's keyboard types."""

from __future__ import annotations

import pytest

from bot.commands import CommandCore, parse_command_line
from bot.filters import TaxonomyCatalog, parse_filters, split_words
from bot.ports import ChatRef

CHAT = ChatRef("console", "c1")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("trade", '"supply', 'chain"', "foo"), ["trade", "supply chain", "foo"]),
        (("“supply", "chain”,climate"), ["supply chain", "climate"]),
        (
            (
                "«rare",
                "earths»",
            ),
            ["rare earths"],
        ),
        (('"unclosed', "phrase"), ["unclosed phrase"]),
        (('"supply', "", "  chain", '"'), ["supply chain"]),
        (("a,b", "#climate"), ["a", "b", "climate"]),
        (("don't",), ["don't"]),
        (('""',), []),
    ],
)
def test_split_words(args: tuple[str, ...], words: list[str]) -> None:
    assert split_words(args) == words


def test_phrase_is_a_keyword(catalog: TaxonomyCatalog) -> None:
    parse = parse_filters(['"Supply', 'Chain"', "trade"], catalog)
    assert parse.topics == ("trade",)
    assert parse.keywords == ("supply chain",)
    assert parse.bad_chars == ()


async def test_subscribe_with_a_phrase(core: CommandCore) -> None:
    request = parse_command_line('/subscribe "supply chain" trade', CHAT)
    assert request is not None
    reply = await core.handle(request)
    assert "supply chain" in reply.text
    assert "Only letters" not in reply.text
    listed = await core.handle(parse_command_line("/list", CHAT))  # type: ignore[arg-type]
    assert "supply chain" in listed.text
