"""The manifest's grants and secrets are what each function's code does with Google's services.

A small call graph of ``lib/aksio`` (functions and methods; a name is followed through the
module that imports it) is walked from each function's endpoint module. The calls that need a
grant are recognised by what they call:

    generate_signed_url                     sign_urls + uploads_create (the signed PUT creates)
    blob.upload_from_file / _string / ...   uploads_create
    <bucket>.blob(...).delete, blob.delete  uploads_delete
    get_blob / download_as_*                uploads_read
    create_task                             enqueue_ai_jobs
    "messages:send" (FCM HTTP v1)           fcm_send
    set_custom_user_claims / delete_user /
    update_user / revoke_refresh_tokens     auth_admin
    auth.get_user / get_user_by_email ...   auth_read (implied by auth_admin)
    an endpoint whose Api or route says
    check_revoked=True                      auth_read (the revocation check looks the user up)
    get_secret(NAME)                        the secret NAME

The settings terraform passes to some functions only (UPLOAD_BUCKET, TASKS_*,
BILLING_RETURN_ORIGINS) are checked the same way: a function whose code reads one gets it.

A function the walk finds doing something its grants do not allow fails here (and would fail
in production with a 403); a grant no code path uses fails too. Firestore access is not
derived: every function but ``health`` (reads only) reads and writes it.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "lib"
MANIFEST = json.loads((ROOT / "functions" / "functions.json").read_text())

AUTH_ADMIN_CALLS = {"set_custom_user_claims", "delete_user", "update_user", "revoke_refresh_tokens", "create_user"}
AUTH_READ_CALLS = {"get_user", "get_user_by_email", "get_users", "list_users"}
READ_CALLS = {"get_blob", "download_as_bytes", "download_as_text", "download_to_filename", "download_to_file"}
NOT_DERIVED = {"firestore", "firestore_read"}
# Configuration fields (lib/aksio/config.py) that terraform passes only to some functions, and
# what in a manifest entry makes terraform pass them (modules/functions, local.function_env).
# stripe_prices is not derived: the walk cannot tell Plan.price_id (which reads it) from the
# price_id field of a stored subscription; tests/unit/test_terraform_config.py pins who gets it.
UPLOAD_GRANTS = {"sign_urls", "uploads_create", "uploads_read", "uploads_delete"}
CONFIG_RULES = {
    "billing_return_origins": lambda fn: "billing_return_origins" in fn.get("config", []),
    "upload_bucket": lambda fn: bool(UPLOAD_GRANTS & set(fn.get("grants", []))),
    "tasks_queue": lambda fn: "enqueue_ai_jobs" in fn.get("grants", []),
    "tasks_location": lambda fn: "enqueue_ai_jobs" in fn.get("grants", []),
}
CONFIG_FIELDS = set(CONFIG_RULES)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(LIB).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in LIB.rglob("*.py")}


def is_blob(expr: ast.AST) -> bool:
    """``bucket.blob(...)``, ``bucket.get_blob(...)`` or a variable named like a blob."""
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        return expr.func.attr in ("blob", "get_blob")
    return isinstance(expr, ast.Name) and "blob" in expr.id.lower()


@dataclass
class Node:
    refs: set[str] = field(default_factory=set)  # other nodes, "module:qualname"
    attrs: set[str] = field(default_factory=set)  # attribute names read (properties are found by name)
    needs: set[str] = field(default_factory=set)  # grants and "secret:NAME"


class ModuleGraph:
    """The nodes of one module: its top level ("module:") and each function or method."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tree = ast.parse(MODULES[name].read_text())
        self.aliases: dict[str, str] = {}  # local name → "module" or "module:name"
        self.constants: dict[str, str] = {}
        self.defs: dict[str, ast.AST] = {}
        self.properties: dict[str, str] = {}  # "Class.name" → name, for @property methods
        self.loaded_attrs: set[str] = set()
        self.nodes: dict[str, Node] = {}
        self._collect()

    def _collect(self) -> None:
        self._imports()
        for stmt in self.tree.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant):
                self.constants |= {t.id: str(stmt.value.value) for t in stmt.targets if isinstance(t, ast.Name)}
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.defs[stmt.name] = stmt
            if isinstance(stmt, ast.ClassDef):
                methods = [m for m in stmt.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
                self.defs |= {f"{stmt.name}.{m.name}": m for m in methods}
                self.properties |= {
                    f"{stmt.name}.{m.name}": m.name
                    for m in methods
                    if any(isinstance(d, ast.Name) and d.id == "property" for d in m.decorator_list)
                }
        defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        top = [s for s in self.tree.body if not isinstance(s, defs)]
        # decorators run at import: they belong to the top level
        decorators = [ast.Expr(d) for s in self.tree.body if isinstance(s, defs) for d in s.decorator_list]
        self.nodes[""] = self._node(ast.Module(body=[*top, *decorators], type_ignores=[]))
        for qual, d in self.defs.items():
            if isinstance(d, ast.ClassDef):  # a class: its methods (properties: by attribute name)
                methods = [q for q in self.defs if q.startswith(qual + ".") and q not in self.properties]
                self.nodes[qual] = Node(refs={f"{self.name}:{q}" for q in methods})
            else:
                self.nodes[qual] = self._node(d)

    def _imports(self) -> None:
        """Every aksio import of the module, at any depth (lazy imports inside functions too)."""
        package = self.name if MODULES[self.name].name == "__init__.py" else self.name.rpartition(".")[0]
        for n in ast.walk(self.tree):
            if isinstance(n, ast.Import):
                for a in n.names:
                    if a.name.startswith("aksio"):
                        self.aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
            elif isinstance(n, ast.ImportFrom):
                base = n.module or ""
                if n.level:
                    up = package.split(".")[: len(package.split(".")) - (n.level - 1)]
                    base = ".".join([*up, base] if base else up)
                for a in n.names if base.startswith("aksio") else []:
                    full = f"{base}.{a.name}"
                    self.aliases[a.asname or a.name] = full if full in MODULES else f"{base}:{a.name}"

    def _resolve(self, expr: ast.AST) -> str | None:
        """``name`` or ``alias.attr[.attr]`` as a node or module."""
        chain: list[str] = []
        while isinstance(expr, ast.Attribute):
            chain.insert(0, expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return None
        head = expr.id
        if head in self.defs:
            return f"{self.name}:{head}"
        target = self.aliases.get(head)
        if target is None:
            return None
        for attr in chain:
            if ":" in target:
                break
            target = f"{target}.{attr}" if f"{target}.{attr}" in MODULES else f"{target}:{attr}"
        return target

    def _node(self, body: ast.AST) -> Node:
        node = Node()
        for n in ast.walk(body):
            if isinstance(n, (ast.Name, ast.Attribute)) and isinstance(getattr(n, "ctx", None), ast.Load):
                target = self._resolve(n)
                if target:
                    node.refs.add(target if ":" in target else f"{target}:")
                if isinstance(n, ast.Attribute):
                    node.attrs.add(n.attr)
                    if n.attr in CONFIG_FIELDS:
                        node.needs.add(f"config:{n.attr}")
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and "messages:send" in n.value:
                node.needs.add("fcm_send")  # the FCM HTTP v1 endpoint (also inside an f-string)
            if isinstance(n, ast.Call):
                node.needs |= self._call_needs(n)
        return node

    def _call_needs(self, call: ast.Call) -> set[str]:
        func = call.func
        attr = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if attr == "generate_signed_url":
            return {"sign_urls", "uploads_create"}
        if attr in ("upload_from_file", "upload_from_string", "upload_from_filename"):
            return {"uploads_create"}  # a file the function writes itself (an export's ZIP)
        if attr == "delete" and isinstance(func, ast.Attribute) and is_blob(func.value):
            return {"uploads_delete"}
        if attr == "get_secret" and call.args:
            arg = call.args[0]
            name = arg.value if isinstance(arg, ast.Constant) else self.constants.get(getattr(arg, "id", ""))
            return {f"secret:{name}"}
        simple = {"create_task": "enqueue_ai_jobs"} | dict.fromkeys(READ_CALLS, "uploads_read")
        simple |= dict.fromkeys(AUTH_ADMIN_CALLS, "auth_admin")
        if attr in AUTH_READ_CALLS and isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "auth":
            return {"auth_read"}  # firebase_admin.auth (a repository's get_user is Firestore)
        return {simple[attr]} if attr in simple else set()


GRAPHS = {name: ModuleGraph(name) for name in MODULES}
PROPERTIES: dict[str, set[str]] = {}  # property name → its nodes
for _graph in GRAPHS.values():
    for _qual, _name in _graph.properties.items():
        PROPERTIES.setdefault(_name, set()).add(f"{_graph.name}:{_qual}")


def node(ref: str) -> Node | None:
    module, _, qual = ref.partition(":")
    graph = GRAPHS.get(module)
    return None if graph is None else graph.nodes.get(qual)


# The account check of spending routes runs only where a route says ``spends=`` (aksio.http
# calls it per route): counted by :func:`checks_revocation`, not by walking the shared pipeline.
ROUTE_OPTION_CHECKS = ("aksio.guards:", "aksio.auth:check_active", "aksio.auth:_state")


def walk(start: str) -> Iterator[tuple[str, Node]]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        ref = todo.pop()
        if ref in seen or ref.startswith(ROUTE_OPTION_CHECKS):
            continue
        seen.add(ref)
        found = node(ref)
        if found is None:
            continue
        yield ref, found
        todo.extend(found.refs)
        todo.extend(p for attr in found.attrs for p in PROPERTIES.get(attr, ()))
        module = ref.partition(":")[0]
        # importing a module runs its package's and its own top level
        parts = module.split(".")
        todo.extend(f"{'.'.join(parts[:i])}:" for i in range(1, len(parts) + 1))


def starts(function: str) -> tuple[list[str], list[str]]:
    """Where the function's code begins: every definition of its endpoint modules (the routes),
    and the names its main.py imports from elsewhere. Also returns the endpoint modules."""
    tree = ast.parse((ROOT / "functions" / function / "main.py").read_text())
    refs: list[str] = []
    endpoints: list[str] = []
    for n in ast.walk(tree):
        if not (isinstance(n, ast.ImportFrom) and n.module and n.module.startswith("aksio")):
            continue
        if n.module.startswith("aksio.endpoints."):
            endpoints.append(n.module)
            refs += [f"{n.module}:"] + [f"{n.module}:{q}" for q in GRAPHS[n.module].defs]
        else:
            refs += [f"{n.module}:{a.name}" for a in n.names]
    return refs, endpoints


def checks_revocation(module: str) -> bool:
    """A route (or the Api) checks revocation, or spends (its account is looked up: aksio.guards)."""
    return any(
        isinstance(n, ast.keyword)
        and n.arg in ("check_revoked", "spends")
        and isinstance(n.value, ast.Constant)
        and n.value.value
        for n in ast.walk(GRAPHS[module].tree)
    )


def derived(function: str) -> tuple[set[str], set[str]]:
    """(grants, secrets) the function's code needs."""
    needs: set[str] = set()
    refs, endpoints = starts(function)
    for start in refs:
        for _, found in walk(start):
            needs |= found.needs
    if any(checks_revocation(module) for module in endpoints):
        needs.add("auth_read")
    if "auth_admin" in needs:
        needs.discard("auth_read")  # the admin role reads users too
    secrets = {n.removeprefix("secret:") for n in needs if n.startswith("secret:")}
    return {n for n in needs if ":" not in n}, secrets


def derived_config(function: str) -> set[str]:
    """The configuration fields of CONFIG_FIELDS the function's code reads."""
    needs: set[str] = set()
    for start in starts(function)[0]:
        for _, found in walk(start):
            needs |= {n.removeprefix("config:") for n in found.needs if n.startswith("config:")}
    return needs


def test_each_functions_grants_are_what_its_code_does() -> None:
    mismatches = {}
    for function, spec in MANIFEST.items():
        grants, _ = derived(function)
        declared = set(spec.get("grants", [])) - NOT_DERIVED
        if grants != declared:
            mismatches[function] = {"code needs": sorted(grants - declared), "unused grant": sorted(declared - grants)}
    assert not mismatches, mismatches


def test_each_functions_secrets_are_the_ones_its_code_reads() -> None:
    mismatches = {}
    for function, spec in MANIFEST.items():
        _, secrets = derived(function)
        if secrets != set(spec.get("secrets", [])):
            mismatches[function] = {"code reads": sorted(secrets), "manifest": sorted(spec.get("secrets", []))}
    assert not mismatches, mismatches


def test_each_function_gets_the_settings_its_code_reads() -> None:
    mismatches = {}
    for function, spec in MANIFEST.items():
        reads = derived_config(function)
        given = {name for name, rule in CONFIG_RULES.items() if rule(spec)}
        if reads != given:
            mismatches[function] = {"code reads": sorted(reads - given), "given, unread": sorted(given - reads)}
    assert not mismatches, mismatches


def test_the_walk_sees_each_kind_of_call() -> None:
    # the recognisers find what they must, where it is (a recogniser finding nothing would
    # make the two tests above vacuous)
    assert derived("create-upload")[0] == {"sign_urls", "uploads_create", "uploads_delete", "auth_read"}
    assert derived("documents")[0] == {"uploads_delete"}
    assert derived("process-upload") == ({"uploads_read", "uploads_delete"}, {"OPENAI_API_KEY"})
    assert "enqueue_ai_jobs" in derived("generate-flashcards")[0]
    assert derived("send-reminders")[0] == {"fcm_send"}
    assert derived("stripe-webhook") == ({"auth_admin"}, {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"})
    assert derived("account")[0] == {"auth_read", "enqueue_ai_jobs", "sign_urls", "uploads_create", "uploads_read"}
    assert "auth_admin" in derived("account-jobs")[0]
    assert derived("decks") == (set(), set())
    assert derived_config("create-portal-session") == {"billing_return_origins"}
    assert derived_config("run-generation") == {"tasks_queue", "tasks_location"}
    assert derived_config("decks") == set()
