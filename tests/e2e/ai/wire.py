"""A local HTTP server speaking OpenAI's wire format (chat completions, streaming, and
embeddings), so tests and the benchmark run the real ``openai`` client against it.

By default it behaves like a sensible model: for a card request it reads the passages out
of the prompt and answers with cards in the requested JSON (made by the offline provider
from the passage text), with ``usage``; for a chat it answers citing passage [1]. Tests
script other behaviour by queueing responses: a status with a JSON body, a raw content
string (malformed JSON), a delay (timeouts), or a callable.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aksio.ai.base import CardRequest, Passage
from aksio.ai.offline import OfflineProvider
from aksio.ai.text import estimate_tokens

_PASSAGE = re.compile(r'<passage id="(\d+)"[^>]*>\n(.*?)\n</passage>', re.S)
_COUNT = re.compile(r"Write up to (\d+) cards")


@dataclass
class Scripted:
    status: int = 200
    body: Any = None  # a JSON body as is (e.g. an error object)
    content: str | None = None  # the assistant message content of a normal completion
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def passages_of(prompt: str) -> list[Passage]:
    return [Passage(text=html.unescape(m.group(2))) for m in _PASSAGE.finditer(prompt)]


def model_cards(request: dict[str, Any]) -> dict[str, Any]:
    """What the fake model writes for a card request: cards of the passages' own text."""
    prompt = next(m["content"] for m in request["messages"] if m["role"] == "user")
    passages = passages_of(prompt)
    count = int(_COUNT.search(prompt).group(1)) if _COUNT.search(prompt) else 10  # type: ignore[union-attr]
    result = OfflineProvider().generate_cards(CardRequest(passages=passages, count=count))
    return {
        "cards": [
            {
                "kind": c.kind,
                "front": c.front,
                "back": c.back,
                "text": c.text,
                "passage": c.passage + 1,
                "quote": c.quote or "",
            }
            for c in result.cards
        ]
    }


def schema_name(request: dict[str, Any]) -> str | None:
    fmt = request.get("response_format") or {}
    return (fmt.get("json_schema") or {}).get("name") if isinstance(fmt, dict) else None


def model_quiz(request: dict[str, Any]) -> dict[str, Any]:
    """What the fake model writes for a quiz request: questions of the passages' own facts
    (the offline quiz maker's), in the quiz schema."""
    from aksio.quizzes import offline

    prompt = next(m["content"] for m in request["messages"] if m["role"] == "user")
    passages = passages_of(prompt)
    found = re.search(r"Write up to (\d+) questions of kinds ([a-z_, ]+)\.", prompt)
    count, kinds = (int(found.group(1)), found.group(2).split(", ")) if found else (5, ["multiple_choice"])
    made, _ = offline.make_questions(passages, count, kinds, seed="wire", context=passages)
    out = []
    for q in made:
        source = q.source or {}
        index = next((i for i, p in enumerate(passages) if source.get("quote", "")[:40] in p.text), 0)
        out.append(
            {
                "kind": q.kind,
                "prompt": q.prompt,
                "options": [t for _, t in q.options] if q.kind == "multiple_choice" else [],
                "answer": q.right_text if q.kind != "true_false" else q.answer,
                "accepted": [],
                "explanation": q.explanation,
                "passage": index + 1,
                "quote": str(source.get("quote", "")),
            }
        )
    return {"questions": out}


def model_grade(request: dict[str, Any]) -> dict[str, Any]:
    """The fake model's rubric: right when the given answer shares the expected one's first
    four letters (a lenient grader, unlike the offline exact match)."""
    payload = json.loads(request["messages"][-1]["content"])
    return {
        "verdicts": [
            {"id": a["id"], "correct": a["given"].strip().lower()[:4] == a["expected"].strip().lower()[:4]}
            for a in payload["answers"]
        ]
    }


def completion(content: str, request: dict[str, Any], finish: str = "stop") -> dict[str, Any]:
    prompt_tokens = sum(estimate_tokens(str(m.get("content", ""))) for m in request.get("messages", []))
    return {
        "id": "chatcmpl-local",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "local"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": estimate_tokens(content),
            "total_tokens": prompt_tokens + estimate_tokens(content),
        },
    }


class WireServer:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[Scripted | Callable[[dict[str, Any]], Scripted]] = []
        self.lock = threading.Lock()
        # A streamed answer's pace, like a hosted model's (bench/web_tutor.py): seconds before
        # the first token and between tokens; 0 streams at once.
        self.first_token_delay = 0.0
        self.token_delay = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                server.handle(self, request)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def calls(self) -> int:
        return len(self.requests)

    def handle(self, h: BaseHTTPRequestHandler, request: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append({"path": h.path, **request})
            scripted = self.script.pop(0) if self.script else None
        if callable(scripted):
            scripted = scripted(request)
        if scripted is not None and scripted.delay:
            time.sleep(scripted.delay)
        if h.path.endswith("/embeddings"):
            self._send(h, 200, self._embeddings(request))
            return
        if scripted is not None and scripted.status != 200:
            self._send(
                h, scripted.status, scripted.body or {"error": {"message": "scripted", "type": "x"}}, scripted.headers
            )
            return
        if request.get("stream"):
            self._stream(h, request, scripted.content if scripted else None)
            return
        if scripted is not None and scripted.body is not None:
            self._send(h, 200, scripted.body)
            return
        if scripted is not None and scripted.content is not None:
            content = scripted.content
        elif schema_name(request) == "quiz":
            content = json.dumps(model_quiz(request))
        elif schema_name(request) == "grade":
            content = json.dumps(model_grade(request))
        elif request.get("response_format"):
            content = json.dumps(model_cards(request))
        else:
            content = self._answer(request)
        self._send(h, 200, completion(content, request))

    @staticmethod
    def _answer(request: dict[str, Any]) -> str:
        system = request["messages"][0]["content"]
        passages = passages_of(system)
        if not passages:
            return "Your documents do not say."
        first = passages[0].text.split(". ")[0].strip().rstrip(".")
        return f"{first}. [1]"

    @staticmethod
    def _embeddings(request: dict[str, Any]) -> dict[str, Any]:
        inputs = request.get("input")
        texts = inputs if isinstance(inputs, list) else [inputs]
        vectors, _ = OfflineProvider().embed([str(t) for t in texts])
        return {
            "object": "list",
            "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
            "model": request.get("model", "local"),
            "usage": {"prompt_tokens": sum(estimate_tokens(str(t)) for t in texts), "total_tokens": 0},
        }

    def _stream(self, h: BaseHTTPRequestHandler, request: dict[str, Any], content: str | None) -> None:
        text = content if content is not None else self._answer(request)
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Connection", "close")
        h.end_headers()
        base = {
            "id": "chatcmpl-local",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": "local",
        }
        time.sleep(self.first_token_delay)
        for i, piece in enumerate(re.findall(r"\S+\s*", text)):
            if i and self.token_delay:
                time.sleep(self.token_delay)
            chunk = base | {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            h.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            h.wfile.flush()
        end = base | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        h.wfile.write(f"data: {json.dumps(end)}\n\n".encode())
        usage = base | {"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
        h.wfile.write(f"data: {json.dumps(usage)}\n\n".encode())
        h.wfile.write(b"data: [DONE]\n\n")
        h.wfile.flush()
        h.close_connection = True

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)
