"""``digestbot preview`` with many inputs written to a file shows ``n/N`` on the terminal; an
error line starts on a clean line; nothing of this when stderr is not a terminal."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from digests.config import CONFIG_DIR, PipelineConfig
from digests.preview import main_preview

SAMPLE = CONFIG_DIR / "samples" / "cgtn-first-voice-china-rok.html"


def test_progress_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    missing = str(tmp_path / "missing.html")
    code = main_preview([str(SAMPLE), missing, str(SAMPLE)], fmt="json", config=PipelineConfig())
    out, err = capsys.readouterr()
    assert code == 1 and len(out.splitlines()) == 2
    assert "digestbot: 1/3 inputs done" in err and "digestbot: 3/3 inputs done" in err
    assert f"\r\x1b[Kdigestbot: {missing}:" in err  # the error line starts clean
    assert err.endswith("\r\x1b[K")  # and the progress line is cleared at the end


def test_no_progress_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main_preview([str(SAMPLE), str(SAMPLE)], fmt="json", config=PipelineConfig()) == 0
    assert "inputs done" not in capsys.readouterr().err
