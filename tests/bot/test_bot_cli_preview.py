"""``digestbot preview`` settings: defaults without pydantic when nothing can set them."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli import PIPELINE_FIELDS, preview_config
from bot.settings import Settings
from digests.config import PipelineConfig


def _changed(value: object) -> object:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, Path):
        return Path("/elsewhere/topics.toml")
    return None  # other types: no pipeline setting has them


def test_every_setting_the_pipeline_reads_is_listed_and_named_digestbot() -> None:
    base = Settings(_env_file=None).pipeline_config()  # type: ignore[call-arg]
    for name, field in Settings.model_fields.items():
        value = _changed(getattr(Settings(_env_file=None), name))  # type: ignore[call-arg]
        if value is None:
            continue
        changed = Settings(_env_file=None, **{name: value}).pipeline_config()  # type: ignore[call-arg]
        if changed != base:
            assert name in PIPELINE_FIELDS, name
            assert str(field.validation_alias).startswith("DIGESTBOT_"), name


def test_defaults_without_settings_are_what_settings_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.lower().startswith("digestbot_") or name.lower() in PIPELINE_FIELDS:
            monkeypatch.delenv(name)
    fast = preview_config({}, tmp_path / ".env")
    settings = Settings(_env_file=None).pipeline_config()  # type: ignore[call-arg]
    assert fast == replace(settings, allow_private_addresses=True)
    assert fast == PipelineConfig(allow_private_addresses=True)


@pytest.mark.parametrize("name", ["DIGESTBOT_SUMMARY_WORDS", "summary_words", "SUMMARY_WORDS"])
def test_a_variable_or_env_file_is_read(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, "40")
    assert preview_config(os.environ, tmp_path / ".env").max_summary_words == 40
    monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DIGESTBOT_SUMMARY_WORDS=30\n")
    assert preview_config({}, tmp_path / ".env").max_summary_words == 30
