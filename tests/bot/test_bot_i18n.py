"""The catalogs: every language has every text of bot/messages, with the same placeholders,
compiled (.mo up to date with .po) and shipped as package data."""

from __future__ import annotations

import fnmatch
import gettext
import string
import tomllib
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot import messages as msg
from bot.i18n import LANGUAGES, LOCALE_DIR, language_of, translator

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [code for code in LANGUAGES if code != "en"]
MessageId = str | tuple[str, ...]


def source_ids() -> set[MessageId]:
    """Every text bot/messages marks for translation, read from the source as pybabel does."""
    found = extract_from_dir(
        ROOT / "bot" / "messages",
        method_map=[("**.py", "python")],
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
    )
    return {message for _file, _line, message, _comments, _context in found}


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def catalog_problems(catalog: Catalog, wanted: set[MessageId]) -> list[str]:
    """What is wrong with one language's catalog: missing, left over, empty or fuzzy texts,
    placeholders that differ from the English."""
    have = {m.id: m for m in catalog if m.id}
    problems = [f"missing: {mid!r}" for mid in wanted - set(have)]
    problems += [f"not in the source any more: {mid!r}" for mid in set(have) - wanted]
    for mid, message in have.items():
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(forms):
            problems.append(f"untranslated: {mid!r}")
            continue
        if isinstance(mid, tuple):  # a plural: {count} may be left out of the "one" form
            allowed = fields(mid[1]) | fields(mid[0])
            needed = allowed - {"count"}
            bad = [f for f in forms if not needed <= fields(f) <= allowed]
        else:
            bad = [f for f in forms if fields(f) != fields(mid)]
        problems += [f"placeholders differ: {mid!r} -> {f!r}" for f in bad]
    return problems


def load(code: str) -> Catalog:
    with open(LOCALE_DIR / code / "LC_MESSAGES" / "digestbot.po", "rb") as handle:
        return read_po(handle, locale=None)


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_catalog_has_every_message_with_its_placeholders(code: str) -> None:
    assert catalog_problems(load(code), source_ids()) == []


def test_a_catalog_missing_a_message_fails() -> None:
    catalog = load("de")
    catalog.delete(msg.BUTTON_HELP)
    problems = catalog_problems(catalog, source_ids())
    assert problems == [f"missing: {msg.BUTTON_HELP!r}"]
    broken = load("de")
    broken[msg.BUTTON_HELP].string = ""
    broken["Hello, {title}!"].string = "Hallo, {titel}!"
    assert len(catalog_problems(broken, source_ids())) == 2


@pytest.mark.parametrize("code", TRANSLATED)
def test_compiled_catalog_matches_its_source(code: str) -> None:
    """The .mo that ships says what the .po says (``pybabel compile`` was run)."""
    with open(LOCALE_DIR / code / "LC_MESSAGES" / "digestbot.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for message in load(code):
        if not message.id:
            continue
        if isinstance(message.id, tuple):  # each plural form, as gettext stores them
            for index, form in enumerate(message.string):
                assert compiled._catalog[(message.id[0], index)] == form, message.id  # type: ignore[attr-defined]
        else:
            assert compiled.gettext(message.id) == message.string, message.id


def test_catalogs_ship_as_package_data() -> None:
    """A plain ``pip install`` carries the compiled catalogs: pyproject's package data
    patterns cover every .mo."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["bot"]
    compiled = [p.relative_to(ROOT / "bot").as_posix() for p in LOCALE_DIR.glob("*/*/*.mo")]
    assert len(compiled) == len(TRANSLATED)
    assert all(any(fnmatch.fnmatch(path, pattern) for pattern in patterns) for path in compiled)


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("pt-br", "pt"),
        ("zh-hans", "zh"),
        ("en_US", "en"),
        ("xx", None),
        ("", None),
        (None, None),
    ],
)
def test_language_of(code: str | None, language: str | None) -> None:
    assert language_of(code) == language


def test_texts_come_in_the_readers_language() -> None:
    assert msg.help_text(msg.TELEGRAM, t=translator("de")).startswith("Das verstehe ich")
    assert msg.help_text(msg.TELEGRAM, t=translator("xx")).startswith("Here is what")
    assert msg.digest_header(3, "x", t=translator("de")) == "Die neuesten 3 Karten zu x:"
