"""The LLM client choice: plain httpx (``digests.llm_client``) beside the official ``openai``
package, against the same fake OpenAI-compatible server (a child process).

Reports, for each: import time in a fresh interpreter (median of 5, measured on top of what
``digestbot run`` imports anyway: httpx), and per-call overhead over N sequential chat
completions on the fake (median wall time per call, client CPU seconds per call). ``openai`` is
not a dependency: ``pip install openai`` to include it.

    python bench/llm_client.py [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digests.llm_client import ChatClient  # noqa: E402
from tests.news.fake_llm import FakeLlmServer, Reply  # noqa: E402

SUMMARY = "The city council approved a record budget of 4.2 billion dollars on Tuesday."
MESSAGES = [
    {"role": "system", "content": "Summarise the article."},
    {"role": "user", "content": "The city council approved a budget. " * 200},
]


def _serve(port_out: multiprocessing.SimpleQueue) -> None:  # type: ignore[type-arg]
    async def main() -> None:
        async with FakeLlmServer(Reply(SUMMARY)) as server:
            port_out.put(server.port)
            await asyncio.Event().wait()

    asyncio.run(main())


def import_ms(module: str, baseline: str = "asyncio, httpx", runs: int = 5) -> float:
    code = (
        f"import time, {baseline}; t = time.perf_counter(); import {module}; "
        "print((time.perf_counter() - t) * 1000)"
    )
    times = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout)
        for _ in range(runs)
    ]  # fmt: skip
    return statistics.median(times)


async def per_call_httpx(url: str, calls: int) -> tuple[float, float]:
    client = ChatClient(url, model="tiny")
    try:
        await client.complete(MESSAGES, max_tokens=300)  # warm the connection
        walls = []
        cpu = time.process_time()
        for _ in range(calls):
            started = time.perf_counter()
            await client.complete(MESSAGES, max_tokens=300)
            walls.append(time.perf_counter() - started)
        return statistics.median(walls), (time.process_time() - cpu) / calls
    finally:
        await client.aclose()


async def per_call_openai(url: str, calls: int) -> tuple[float, float]:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=url, api_key="none", max_retries=2, timeout=30)
    try:
        await client.chat.completions.create(
            model="tiny",
            messages=MESSAGES,
            max_tokens=300,  # type: ignore[arg-type]
        )
        walls = []
        cpu = time.process_time()
        for _ in range(calls):
            started = time.perf_counter()
            await client.chat.completions.create(
                model="tiny",
                messages=MESSAGES,
                max_tokens=300,  # type: ignore[arg-type]
            )
            walls.append(time.perf_counter() - started)
        return statistics.median(walls), (time.process_time() - cpu) / calls
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    try:
        import openai  # noqa: F401

        have_openai = True
    except ImportError:
        have_openai = False

    print("import on top of asyncio + httpx (median of 5, fresh interpreter):")
    print(f"  digests.llm       {import_ms('digests.llm'):7.1f} ms")
    if have_openai:
        print(f"  openai            {import_ms('openai'):7.1f} ms")

    queue: multiprocessing.SimpleQueue = multiprocessing.SimpleQueue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=_serve, args=(queue,), daemon=True)
    server.start()
    try:
        url = f"http://127.0.0.1:{queue.get()}/v1"
        print(f"per call, {args.calls} sequential completions on the fake server:")
        wall, cpu = asyncio.run(per_call_httpx(url, args.calls))
        print(f"  httpx ChatClient  {wall * 1000:7.2f} ms wall (median), {cpu * 1000:.2f} ms CPU")
        if have_openai:
            wall_o, cpu_o = asyncio.run(per_call_openai(url, args.calls))
            print(
                f"  openai AsyncOpenAI {wall_o * 1000:6.2f} ms wall (median), "
                f"{cpu_o * 1000:.2f} ms CPU  (x{wall_o / wall:.2f} wall, x{cpu_o / cpu:.2f} CPU)"
            )
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
