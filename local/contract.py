"""The API contract: the committed OpenAPI document (``lib/aksio/openapi.json``) and its gate.

    check [--base REF]   fail when the document the code generates differs from the committed
                         one, or when the committed one breaks the one at git REF (default
                         HEAD~1; a PR build passes the branch it merges into) without a
                         version bump and a changelog entry
    accept               write the generated document as the committed one, refusing a breaking
                         change without a version bump and a changelog entry

Breaking (for a client built against the old document): a path or operation removed; a success
status removed; a field removed from a request or a response; an enum value removed; a new
required request field or parameter; a field's type changed. Adding is not breaking.

A breaking change needs a new major version (``aksio.__version__``; under 1.0, a new minor
version) and a ``## <version>`` section in ``lib/aksio/CHANGELOG.md`` saying what broke. A
version that changed needs its section too.

Run: ``.venv/bin/python local/contract.py check`` (``make test`` runs it through
``tests/unit/test_contract.py``; ``make openapi-accept`` runs ``accept``).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

DOCUMENT = ROOT / "lib" / "aksio" / "openapi.json"
CHANGELOG = ROOT / "lib" / "aksio" / "CHANGELOG.md"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def generated() -> dict[str, Any]:
    from aksio import openapi

    return openapi.build(openapi.function_apis(ROOT))


def render(document: dict[str, Any]) -> str:
    from aksio import openapi

    return openapi.render(document)


# -- what breaks a client -----------------------------------------------------------------------


class _Walk:
    """Compares two schemas of one place in the API (``side``: what the client sends, or what
    it reads), resolving ``$ref`` in each document's components."""

    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old_doc, self.new_doc = old, new
        self.seen: set[tuple[str, str, str]] = set()

    @staticmethod
    def _resolve(doc: dict[str, Any], schema: Any) -> tuple[dict[str, Any], str]:
        ref = ""
        while isinstance(schema, dict) and "$ref" in schema:
            ref = schema["$ref"]
            schema = doc.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
        return (schema if isinstance(schema, dict) else {}), ref

    def compare(self, old: Any, new: Any, where: str, side: str) -> Iterator[str]:
        old, old_ref = self._resolve(self.old_doc, old)
        new, new_ref = self._resolve(self.new_doc, new)
        if old_ref and new_ref:
            key = (old_ref, new_ref, side)
            if key in self.seen:
                return
            self.seen.add(key)
        yield from _node(old, new, where)
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        for name, schema in old_props.items():
            if name not in new_props:
                yield f"{where}.{name}: field removed"
            else:
                yield from self.compare(schema, new_props[name], f"{where}.{name}", side)
        if side == "request":
            for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
                yield f"{where}.{name}: new required field"
        if "items" in old and "items" in new:
            yield from self.compare(old["items"], new["items"], f"{where}[]", side)
        for key in ("anyOf", "oneOf", "allOf"):
            if len(old.get(key, [])) == len(new.get(key, [])):
                for i, (a, b) in enumerate(zip(old.get(key, []), new.get(key, []), strict=True)):
                    yield from self.compare(a, b, f"{where}<{key}[{i}]>", side)


def _node(old: dict[str, Any], new: dict[str, Any], where: str) -> Iterator[str]:
    """What changed in one schema itself: its type, its enum."""
    old_type, new_type = old.get("type"), new.get("type")
    if old_type and new_type and _types(old_type) - _types(new_type):
        yield f"{where}: type {old_type} became {new_type}"
    if "enum" in old and "enum" in new:
        for value in old["enum"]:
            if value not in new["enum"]:
                yield f"{where}: enum value {value!r} removed"


def _types(value: Any) -> set[str]:
    return set(value) if isinstance(value, list) else {value}


def _json_schema(operation_part: dict[str, Any]) -> Any:
    return operation_part.get("content", {}).get("application/json", {}).get("schema")


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What in ``new`` breaks a client of ``old`` (empty: nothing)."""
    walk = _Walk(old, new)
    found: list[str] = []
    for path, old_item in old.get("paths", {}).items():
        new_item = new.get("paths", {}).get(path)
        if new_item is None:
            found.append(f"{path}: path removed")
            continue
        for method in METHODS:
            if method not in old_item:
                continue
            op = f"{method.upper()} {path}"
            if method not in new_item:
                found.append(f"{op}: operation removed")
            else:
                found += _operation(walk, op, old_item[method], new_item[method])
    return found


def _operation(walk: _Walk, op: str, old_op: dict[str, Any], new_op: dict[str, Any]) -> list[str]:
    found: list[str] = []
    old_params = {(p["in"], p["name"]): p for p in old_op.get("parameters", [])}
    for p in new_op.get("parameters", []):
        previous = old_params.get((p["in"], p["name"]))
        if p.get("required") and not (previous and previous.get("required")):
            found.append(f"{op}: new required {p['in']} parameter {p['name']}")
        if previous:
            found += walk.compare(previous.get("schema", {}), p.get("schema", {}), f"{op} {p['name']}", "request")
    old_body, new_body = old_op.get("requestBody"), new_op.get("requestBody")
    if new_body and new_body.get("required") and not old_body:
        found.append(f"{op}: a request body is now required")
    if old_body and new_body:
        found += walk.compare(_json_schema(old_body), _json_schema(new_body), f"{op} body", "request")
    for status, old_response in old_op.get("responses", {}).items():
        if not status.startswith("2"):
            continue
        new_response = new_op.get("responses", {}).get(status)
        if new_response is None:
            found.append(f"{op}: success status {status} removed")
            continue
        old_schema, new_schema = _json_schema(old_response), _json_schema(new_response)
        if old_schema is not None and new_schema is not None:
            found += walk.compare(old_schema, new_schema, f"{op} {status}", "response")
    return found


# -- the gate -----------------------------------------------------------------------------------


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text)[:3])


def major_bump(old: str, new: str) -> bool:
    """A new major version (under 1.0: a new minor one, as semver allows)."""
    a, b = _version(old), _version(new)
    if a[0] == 0 and b[0] == 0:
        return b[1] > a[1]
    return b[0] > a[0]


def changelog_has(version: str, changelog: str) -> bool:
    return re.search(rf"^## {re.escape(version)}\b", changelog, flags=re.MULTILINE) is not None


def gate(old: dict[str, Any], new: dict[str, Any], changelog: str) -> list[str]:
    """Why ``new`` may not replace ``old`` (empty: it may)."""
    problems = []
    old_version, new_version = old["info"]["version"], new["info"]["version"]
    breaks = breaking_changes(old, new)
    if breaks and not major_bump(old_version, new_version):
        problems.append(
            f"breaking changes need a new major version (under 1.0 a new minor one) than {old_version}:\n  "
            + "\n  ".join(breaks)
        )
    if (breaks or new_version != old_version) and not changelog_has(new_version, changelog):
        problems.append(f"lib/aksio/CHANGELOG.md has no '## {new_version}' section")
    return problems


def at_git(ref: str) -> dict[str, Any] | None:
    """The committed document at ``ref``; None when git has no such commit or file there."""
    rel = DOCUMENT.relative_to(ROOT).as_posix()
    run = subprocess.run(["git", "show", f"{ref}:{rel}"], cwd=ROOT, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        return None
    document: dict[str, Any] = json.loads(run.stdout)
    return document


def check(base: str, *, require_base: bool = False) -> list[str]:
    problems = []
    committed = json.loads(DOCUMENT.read_text())
    if render(generated()) != DOCUMENT.read_text():
        problems.append(
            "the OpenAPI document the code generates differs from lib/aksio/openapi.json: "
            "run `make openapi-accept` (it refuses breaking changes without a version bump)"
        )
    previous = at_git(base)
    if previous is not None:
        problems += gate(previous, committed, CHANGELOG.read_text())
    elif require_base:
        problems.append(f"no committed document at {base} to compare with (a shallow checkout? fetch the history)")
    else:
        print(f"contract: no committed document at {base}: nothing earlier to break", file=sys.stderr)
    return problems


def accept() -> list[str]:
    new = generated()
    problems = gate(json.loads(DOCUMENT.read_text()), new, CHANGELOG.read_text()) if DOCUMENT.exists() else []
    if not problems:
        DOCUMENT.write_text(render(new))
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    checking = sub.add_parser("check")
    checking.add_argument("--base", default="HEAD~1", help="git ref of the contract to compare with")
    checking.add_argument("--require-base", action="store_true", help="fail when git has no document at --base")
    sub.add_parser("accept")
    args = parser.parse_args()
    problems = check(args.base, require_base=args.require_base) if args.command == "check" else accept()
    for problem in problems:
        print(f"contract: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print("contract: ok")


if __name__ == "__main__":
    main()
