"""An OpenAI-compatible chat-completions client (OpenAI, Ollama, llama.cpp server, vLLM, ...), stdlib only.

`POST {base_url}/chat/completions` with `model` and `messages`, Bearer `api_key` when set; the
answer is `choices[0].message.content`. The blocking call runs in a thread with the configured
timeout, so the event loop never waits on the model.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import urllib.error
import urllib.request
from typing import Any

from scrywatch import __version__
from scrywatch.config import AiConfig

SYSTEM_PROMPT = (
    "You summarize application log activity for the developers who run the application. "
    "Write one short paragraph of plain English (3 to 6 sentences). Use only the facts given, state every "
    "number exactly as given, name the services and error messages that matter, and say what changed "
    "compared with the previous window. No headings, no lists, no speculation."
)
MAX_ANSWER_BYTES = 256 * 1024


class AiFailure(Exception):
    """The model could not be asked or did not answer usefully; the message says why."""


def _request(cfg: AiConfig, messages: list[dict[str, str]]) -> str:
    if not cfg.base_url:
        raise AiFailure("[ai] base_url is not set")
    body = {"model": cfg.model, "messages": messages, "temperature": 0.2, "stream": False}
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               "User-Agent": f"ScryWatch/{__version__}"}
    if cfg.api_key:
        headers["Authorization"] = f"Bearer {cfg.api_key}"
    req = urllib.request.Request(cfg.base_url.rstrip("/") + "/chat/completions", method="POST",
                                 data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=cfg.timeout_seconds) as resp:
            raw = resp.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise AiFailure(f"the model endpoint answered HTTP {exc.code}") from None
    except TimeoutError:
        raise AiFailure(f"the model endpoint did not answer within {cfg.timeout_seconds:g} s") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise AiFailure(f"the model endpoint did not answer within {cfg.timeout_seconds:g} s") from None
        raise AiFailure(f"cannot reach the model endpoint: {exc.reason}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise AiFailure(f"cannot reach the model endpoint: {type(exc).__name__}: {exc}") from None
    return _content(raw)


def _content(raw: bytes) -> str:
    try:
        data: Any = json.loads(raw)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise AiFailure("the model endpoint's answer is not a chat completion") from None
    if not isinstance(content, str) or not content.strip():
        raise AiFailure("the model returned an empty answer")
    return content.strip()


async def chat_completion(cfg: AiConfig, facts: dict[str, Any]) -> str:
    """The model's summary of `facts` (JSON-able); AiFailure when it cannot be had in time."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": "Summarize this log activity:\n" + json.dumps(facts, indent=1)}]
    try:
        return await asyncio.wait_for(asyncio.to_thread(_request, cfg, messages), cfg.timeout_seconds * 2 + 1)
    except TimeoutError:
        raise AiFailure(f"the model endpoint did not answer within {cfg.timeout_seconds:g} s") from None
