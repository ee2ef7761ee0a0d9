"""The `openai` provider against a small OpenAI-compatible server on loopback, and its builtin fallback."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from scrywatch.clock import FakeClock
from tests.alerts.live import ingest
from tests.alerts.receivers import Receiver
from tests.support import Account

COMPLETION = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1741234567, "model": "llama3.1",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "  Three errors hit the api.  "},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 100, "completion_tokens": 7, "total_tokens": 107},
}


def ai(base_url: str, **extra: Any) -> dict[str, Any]:
    return {"ai": {"provider": "openai", "base_url": base_url, "model": "llama3.1", "api_key": "sk-test",
                   "timeout_seconds": 2.0, **extra}}


def three_errors(owner: Account, clock: FakeClock) -> None:
    ingest(owner, [{"timestamp": clock.now_ms() - i, "level": "error", "service": "api",
                    "message": f"upstream 50{i} from billing"} for i in range(3)])


def test_model_answer_is_the_summary(start: Callable[..., Account], make_receiver: Callable[..., Receiver],
                                     clock: FakeClock) -> None:
    model = make_receiver(reply=json.dumps(COMPLETION).encode(), reply_type="application/json")
    owner = start(**ai(model.url("/v1/")))
    three_errors(owner, clock)
    r = owner.client.post(f"{owner.base}/insights/summary", json={"minutes": 5})
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["summary_text"] == "Three errors hit the api." and s["provider"] == "openai"
    assert s["model"] == "llama3.1" and s["fallback"] is False
    assert (s["event_count"], s["error_count"], s["warn_count"]) == (3, 3, 0)  # counts are ours, not the model's

    [hit] = model.hits
    assert hit.path == "/v1/chat/completions"
    assert hit.headers["authorization"] == "Bearer sk-test" and hit.headers["content-type"] == "application/json"
    sent = hit.json()
    assert sent["model"] == "llama3.1" and sent["stream"] is False
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert all(isinstance(m["content"], str) and m["content"] for m in sent["messages"])
    facts = json.loads(sent["messages"][1]["content"].split("\n", 1)[1])
    assert facts["window"]["error_count"] == 3 and facts["top_services"][0]["service"] == "api"
    assert facts["top_error_patterns"][0]["pattern"] == "upstream {num} from billing"


def test_unreachable_model_falls_back_to_builtin(start: Callable[..., Account], clock: FakeClock) -> None:
    gone = Receiver()
    url = gone.url("/v1")
    gone.close()
    owner = start(**ai(url))
    three_errors(owner, clock)
    s = owner.client.post(f"{owner.base}/insights/summary", json={"minutes": 5}).json()
    assert s["provider"] == "builtin" and s["fallback"] is True
    assert s["fallback_reason"].startswith("cannot reach the model endpoint")
    assert s["summary_text"].startswith("In the last 5 minutes, 3 events were logged: 3 errors")
    assert owner.client.get(f"{owner.base}/insights/summary").json()["summary"]["fallback"] is True


def test_slow_or_broken_models_fall_back_with_the_reason(start: Callable[..., Account],
                                                         make_receiver: Callable[..., Receiver],
                                                         clock: FakeClock) -> None:
    cases = [
        (make_receiver(hang=True), "the model endpoint did not answer within 0.5 s"),
        (make_receiver(statuses=[500]), "the model endpoint answered HTTP 500"),
        (make_receiver(reply=b'{"choices": []}'), "the model endpoint's answer is not a chat completion"),
    ]
    for model, reason in cases:
        owner = start(**ai(model.url("/v1"), timeout_seconds=0.5))
        s = owner.client.post(f"{owner.base}/insights/summary", json={"minutes": 5}).json()
        assert (s["provider"], s["fallback"], s["fallback_reason"]) == ("builtin", True, reason)
        assert len(model.hits) == 1


def test_without_fallback_an_unreachable_model_is_503(start: Callable[..., Account]) -> None:
    gone = Receiver()
    url = gone.url("/v1")
    gone.close()
    owner = start(**ai(url, fallback=False))
    r = owner.client.post(f"{owner.base}/insights/summary", json={"minutes": 5})
    assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
    assert owner.client.get(f"{owner.base}/insights/summary").json() == {"summary": None}
