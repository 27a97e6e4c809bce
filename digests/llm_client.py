"""A small client for OpenAI-compatible ``/v1/chat/completions`` servers (Ollama, vLLM,
llama.cpp server, LM Studio, OpenAI), over httpx.

Plain httpx rather than the official ``openai`` package: the project already uses httpx, and
importing ``openai`` 3.57 costs 0.5-1.5 s on top of httpx on this (busy) machine
for one endpoint we call with one JSON body; per-call overhead is in ``bench/llm_client.py``.

Every call has a per-request timeout and an overall deadline; 429 and 5xx answers are retried,
waiting what ``Retry-After`` asks when the deadline leaves room for it, else they fail at once.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from digests.errors import DigestError

__all__ = [
    "ChatClient",
    "Completion",
    "LlmError",
    "completions_url",
    "retry_after_seconds",
]

log = logging.getLogger(__name__)

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_BACKOFF = 1.0  # seconds before the first retry when the server names no wait


class LlmError(DigestError):
    """A completion that could not be had; ``reason`` is the counted fallback reason
    ("timeout", "rate_limited", "http_error", "bad_response")."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    finish_reason: str | None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


def completions_url(base_url: str) -> str:
    """``.../v1`` -> ``.../v1/chat/completions``; a URL that already ends so is kept."""
    base = base_url.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    return f"{base}/chat/completions"


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class ChatClient:
    """One chat completion at a time per call; share one client (one connection pool)."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        api_key: str | None = None,
        timeout: float = 30.0,
        deadline: float = 60.0,
        max_retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.url = completions_url(base_url)
        self.model = model
        self.deadline = deadline
        self.max_retries = max_retries
        self._sleep = sleep
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(
            headers=headers, timeout=httpx.Timeout(timeout), transport=transport
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def complete(
        self, messages: Sequence[dict[str, str]], *, max_tokens: int, temperature: float = 0.2
    ) -> Completion:
        """The model's answer; raises :class:`LlmError` (never an httpx error)."""
        body = {
            "model": self.model,
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": False,
        }
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.deadline):
                return await self._post_with_retries(body, started)
        except TimeoutError as exc:
            raise LlmError("timeout", f"no answer within {self.deadline:g} s") from exc

    async def _post_with_retries(self, body: dict[str, Any], started: float) -> Completion:
        attempt = 0
        while True:
            try:
                response = await self._http.post(self.url, json=body)
            except httpx.TimeoutException as exc:
                raise LlmError("timeout", type(exc).__name__) from exc
            except httpx.HTTPError as exc:
                raise LlmError("http_error", type(exc).__name__) from exc
            if response.status_code not in _RETRY_STATUSES:
                break
            reason = "rate_limited" if response.status_code == 429 else "http_error"
            wait = retry_after_seconds(response.headers.get("retry-after"))
            if wait is None:
                wait = _BACKOFF * 2**attempt
            left = self.deadline - (time.monotonic() - started)
            if attempt >= self.max_retries or wait >= left:
                raise LlmError(reason, f"HTTP {response.status_code}, retry after {wait:g} s")
            attempt += 1
            log.info("LLM server said %d; retrying in %.1f s", response.status_code, wait)
            await self._sleep(wait)
        if response.status_code != 200:
            raise LlmError("http_error", f"HTTP {response.status_code}")
        return _completion(response)


def _completion(response: httpx.Response) -> Completion:
    try:
        data = response.json()
        choice = data["choices"][0]
        text = choice["message"]["content"]
        usage = data.get("usage") or {}
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LlmError("bad_response", f"not a chat completion: {type(exc).__name__}") from exc
    if not isinstance(text, str):
        raise LlmError("bad_response", "the completion has no text")
    return Completion(
        text=text,
        finish_reason=choice.get("finish_reason"),
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
    )
