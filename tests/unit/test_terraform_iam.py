"""Least privilege in terraform: each function holds exactly the roles and secrets below.

The expected table is written out here: a function that gains a role, a binding or a secret
(in functions/functions.json, in the grant vocabulary of terraform/modules/iam, or through a
new IAM resource anywhere in terraform/) fails a test until this table says so too. The HCL is
parsed with python-hcl2; no terraform binary or provider is needed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "local"))

import terraform_iam as tf  # noqa: E402

FIRESTORE = ("roles/datastore.user", "project")
UPLOAD_DELETER = "${google_project_iam_custom_role.upload_deleter.name}"
ENQUEUE = {("roles/cloudtasks.enqueuer", "tasks_queue"), ("roles/iam.serviceAccountUser", "tasks_invoker")}

# function → (role, scope) bindings, secrets. Change only with a reason the code gives.
AUTH_READ = ("roles/firebaseauth.viewer", "project")
EXPECTED: dict[str, tuple[set[tuple[str, str]], set[str]]] = {
    "health": ({("roles/datastore.viewer", "project")}, set()),
    "decks": ({FIRESTORE}, set()),
    "cards": ({FIRESTORE}, set()),
    "review-card": ({FIRESTORE}, set()),
    "study-queue": ({FIRESTORE}, set()),
    "stats": ({FIRESTORE}, set()),
    "notifications": ({FIRESTORE}, set()),
    # the routes that spend look the account up (disabled, revoked: aksio.guards)
    "chat-reply": ({FIRESTORE, AUTH_READ}, {"OPENAI_API_KEY"}),
    "create-checkout-session": ({FIRESTORE, AUTH_READ}, {"STRIPE_SECRET_KEY"}),
    "create-portal-session": ({FIRESTORE, AUTH_READ}, {"STRIPE_SECRET_KEY"}),
    # the plan claim: get_user + set_custom_user_claims
    "stripe-webhook": (
        {FIRESTORE, ("roles/firebaseauth.admin", "project")},
        {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"},
    ),
    # signBlob as itself for the V4 URL; the signed PUT creates (never replaces) the object;
    # the caller's abandoned uploads are swept (their objects deleted) on each create
    "create-upload": (
        {
            FIRESTORE,
            ("roles/iam.serviceAccountTokenCreator", "self"),
            ("roles/storage.objectCreator", "upload_bucket"),
            (UPLOAD_DELETER, "upload_bucket"),
            AUTH_READ,
        },
        set(),
    ),
    "documents": ({FIRESTORE, (UPLOAD_DELETER, "upload_bucket")}, set()),
    # a file that fails for good is deleted (its record stays, with the reason)
    "process-upload": (
        {FIRESTORE, ("roles/storage.objectViewer", "upload_bucket"), (UPLOAD_DELETER, "upload_bucket")},
        {"OPENAI_API_KEY"},
    ),
    "generate-flashcards": ({FIRESTORE, AUTH_READ} | ENQUEUE, set()),
    "run-generation": ({FIRESTORE} | ENQUEUE, {"OPENAI_API_KEY"}),
    "send-reminders": ({FIRESTORE, ("roles/firebasecloudmessaging.admin", "project")}, set()),
    # a fit is a task: the request enqueues it, the daily job enqueues the due ones
    "scheduling": ({FIRESTORE} | ENQUEUE, set()),
    "optimize-fsrs": ({FIRESTORE}, set()),
    "refit-fsrs": ({FIRESTORE} | ENQUEUE, set()),
    # deleting a course with its contents deletes its documents' files
    "courses": ({FIRESTORE, (UPLOAD_DELETER, "upload_bucket")}, set()),
    "tags": ({FIRESTORE}, set()),
    # quizzes from documents are jobs; short answers graded by the model
    "quizzes": ({FIRESTORE} | ENQUEUE, {"OPENAI_API_KEY"}),
    # export/import URLs signed as itself; export and import jobs enqueued; no Auth admin here
    "account": (
        {
            FIRESTORE,
            AUTH_READ,
            ("roles/iam.serviceAccountTokenCreator", "self"),
            ("roles/storage.objectCreator", "upload_bucket"),
            ("roles/storage.objectViewer", "upload_bucket"),
        }
        | ENQUEUE,
        set(),
    ),
    # the jobs: deletion (Auth user disabled then deleted, Stripe closed, files deleted),
    # export (the ZIP written, replaced on a retry), import (the file read)
    "account-jobs": (
        {
            FIRESTORE,
            ("roles/firebaseauth.admin", "project"),
            ("roles/storage.objectCreator", "upload_bucket"),
            ("roles/storage.objectViewer", "upload_bucket"),
            (UPLOAD_DELETER, "upload_bucket"),
        }
        | ENQUEUE,
        {"STRIPE_SECRET_KEY"},
    ),
}

# Every IAM resource of the configuration: (for_each, role, member). The first group makes the
# functions' bindings from the vocabulary (and nothing else); the others bind fixed identities.
IAM_RESOURCES: dict[str, tuple[Any, Any, Any]] = {
    "modules/iam:google_project_iam_member.function": (
        "${local.project_bindings}",
        "${each.value.role}",
        "${each.value.member}",
    ),
    "modules/iam:google_service_account_iam_member.function_signs_as_itself": (
        "${local.self_bindings}",
        "${each.value.role}",
        "${each.value.member}",
    ),
    "modules/iam:google_service_account_iam_member.function_acts_as_tasks_invoker": (
        "${local.invoker_bindings}",
        "${each.value.role}",
        "${each.value.member}",
    ),
    "modules/storage:google_storage_bucket_iam_member.this": (
        "${var.iam_members}",
        "${each.value.role}",
        "${each.value.member}",
    ),
    "modules/tasks:google_cloud_tasks_queue_iam_member.this": (
        "${var.iam_members}",
        "${each.value.role}",
        "${each.value.member}",
    ),
    "modules/secrets:google_secret_manager_secret_iam_member.accessor": (
        "${var.accessors}",
        "roles/secretmanager.secretAccessor",
        "${each.value.member}",
    ),
    # fixed identities: build, invokers, eventarc, the storage service agent
    "modules/iam:google_project_iam_member.build": (
        '${toset(["roles/logging.logWriter", "roles/artifactregistry.writer"])}',
        "${each.value}",
        "${local.build_member}",
    ),
    "modules/iam:google_project_iam_member.build_gcf_buckets": (
        None,
        "roles/storage.objectAdmin",
        "${local.build_member}",
    ),
    "modules/iam:google_project_iam_member.eventarc_receiver": (
        None,
        "roles/eventarc.eventReceiver",
        "serviceAccount:${google_service_account.eventarc.email}",
    ),
    "modules/iam:google_project_iam_member.gcs_pubsub_publisher": (
        None,
        "roles/pubsub.publisher",
        "${data.google_storage_project_service_account.gcs.member}",
    ),
    "modules/functions:google_storage_bucket_iam_member.build_reads_source": (
        None,
        "roles/storage.objectViewer",
        "serviceAccount:${var.build_service_account_email}",
    ),
    "modules/functions:google_cloud_run_service_iam_member.invoker": (
        "${local.invokers}",
        "roles/run.invoker",
        "${each.value}",
    ),
    # the web app's static files, public (tests/unit/test_terraform_web.py)
    "modules/web:google_storage_bucket_iam_member.public_read": (None, "roles/storage.objectViewer", "allUsers"),
}
IAM_TYPE_WORDS = ("_iam_member", "_iam_binding", "_iam_policy")


def iam_resources(root: Path = tf.TERRAFORM) -> dict[str, tuple[Any, Any, Any]]:
    return {
        address: (body.get("for_each"), body.get("role"), body.get("member"))
        for address, body in tf.resources(root).items()
        if any(word in address.split(":")[1].split(".")[0] for word in IAM_TYPE_WORDS)
    }


def test_each_function_holds_exactly_the_expected_roles_and_secrets() -> None:
    table = tf.table()
    assert set(table) == set(EXPECTED), "a function was added or removed: give it a row in EXPECTED"
    for name, (bindings, secrets) in EXPECTED.items():
        assert set(table[name].bindings) == bindings, name
        assert set(table[name].secrets) == secrets, name


def test_a_function_gaining_a_grant_or_a_secret_is_caught() -> None:
    functions = tf.manifest()
    functions["decks"] = {**functions["decks"], "grants": [*functions["decks"]["grants"], "auth_admin"]}
    functions["health"] = {**functions["health"], "secrets": ["OPENAI_API_KEY"]}
    table = tf.table(functions)
    assert ("roles/firebaseauth.admin", "project") in table["decks"].bindings
    assert table["decks"].bindings != frozenset(EXPECTED["decks"][0])
    assert table["health"].secrets != frozenset(EXPECTED["health"][1])


def test_every_grant_of_the_manifest_maps_to_bindings_on_a_known_scope() -> None:
    vocab = tf.vocabulary()
    used = {g for fn in tf.manifest().values() for g in fn.get("grants", [])}
    assert used <= set(vocab), f"grants without bindings: {sorted(used - set(vocab))}"
    for grant, bindings in vocab.items():
        assert bindings, grant
        for b in bindings:
            assert b["scope"] in tf.SCOPE_WORDS, (grant, b)
            assert b["role"].startswith("roles/") or b["role"] == UPLOAD_DELETER, (grant, b)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tf.table({"x": {"grants": ["owner"]}})


def test_every_function_declares_its_grants_and_config() -> None:
    for name, fn in tf.manifest().items():
        assert isinstance(fn.get("grants"), list), name
        assert fn["grants"], f"{name}: no grants (every function reads Firestore)"
        assert isinstance(fn.get("config"), list), name


def test_only_send_reminders_may_send_pushes_and_only_signers_sign() -> None:
    table = tf.table()
    fcm = {n for n, a in table.items() if any(r == "roles/firebasecloudmessaging.admin" for r, _ in a.bindings)}
    assert fcm == {"send-reminders"}
    signers = {n for n, a in table.items() if any(s == "self" for _, s in a.bindings)}
    assert signers == {"create-upload", "account"}
    auth_admins = {n for n, a in table.items() if ("roles/firebaseauth.admin", "project") in a.bindings}
    assert auth_admins == {"stripe-webhook", "account-jobs"}
    assert not signers & auth_admins  # no account can both sign and administer users
    enqueuers = {n for n, a in table.items() if a.bindings >= ENQUEUE}
    assert enqueuers == {
        "generate-flashcards",
        "run-generation",
        "scheduling",
        "refit-fsrs",
        "account",
        "account-jobs",
        "quizzes",
    }


def test_every_iam_resource_is_known_and_none_is_authoritative() -> None:
    found = iam_resources()
    assert not [a for a in found if "_iam_binding" in a or "_iam_policy" in a]
    assert found == IAM_RESOURCES


def test_an_iam_resource_added_anywhere_is_caught(tmp_path: Path) -> None:
    copy = tmp_path / "terraform"
    shutil.copytree(tf.TERRAFORM, copy, ignore=shutil.ignore_patterns(".terraform*"))
    extra = copy / "modules" / "functions" / "extra.tf"
    extra.write_text(
        'resource "google_project_iam_member" "sneaky" {\n'
        "  project = var.project_id\n"
        '  role    = "roles/owner"\n'
        '  member  = "serviceAccount:x@y"\n'
        "}\n"
    )
    assert iam_resources(copy) != IAM_RESOURCES
    assert "modules/functions:google_project_iam_member.sneaky" in iam_resources(copy)


def test_the_function_bindings_are_wired_from_the_vocabulary() -> None:
    iam = tf.locals_of(tf.TERRAFORM / "modules" / "iam" / "main.tf")
    assert 'b.scope == "project"' in iam["project_bindings"]
    assert 'b.scope == "self"' in iam["self_bindings"]
    assert 'b.scope == "tasks_invoker"' in iam["invoker_bindings"]
    outputs = {
        k: v for block in tf.load(tf.TERRAFORM / "modules" / "iam" / "outputs.tf")["output"] for k, v in block.items()
    }
    assert 'b.scope == "upload_bucket"' in outputs["upload_bucket_members"]["value"]
    assert 'b.scope == "tasks_queue"' in outputs["tasks_queue_members"]["value"]
    assert "fn.secrets" in outputs["secret_accessors"]["value"]
    modules = {k: v for block in tf.load(tf.TERRAFORM / "main.tf")["module"] for k, v in block.items()}
    assert modules["iam"]["functions"] == "${local.functions}"
    assert modules["storage"]["iam_members"] == "${module.iam.upload_bucket_members}"
    assert modules["tasks"]["iam_members"] == "${module.iam.tasks_queue_members}"
    assert modules["secrets"]["accessors"] == "${module.iam.secret_accessors}"
    assert modules["functions"]["service_account_emails"] == "${module.iam.function_emails}"
    function = tf.resources()["modules/functions:google_cloudfunctions2_function.this"]
    assert function["service_config"][0]["service_account_email"] == "${var.service_account_emails[each.key]}"
    # no single runtime account is left
    assert not [a for a in tf.resources() if a.endswith("google_service_account.runtime")]


def test_every_secret_of_the_manifest_is_created() -> None:
    variables = {k: v for block in tf.load(tf.TERRAFORM / "variables.tf")["variable"] for k, v in block.items()}
    created = set(variables["secret_ids"]["default"])
    listed = {s for fn in tf.manifest().values() for s in fn.get("secrets", [])}
    assert listed <= created


def test_service_account_ids_fit_google_limits() -> None:
    for name in tf.manifest():
        for prefix in ("aksio", "abcdefghij"):
            account = tf.account_id(prefix, name)
            assert 6 <= len(account) <= 30, account
            assert account[-1] != "-", account
    assert tf.account_id("abcdefghij", "create-checkout-session") != tf.account_id(
        "abcdefghij", "create-checkout-sessionx"
    )


def test_the_readme_table_is_the_generated_one() -> None:
    current = tf.readme_table(tf.README.read_text())
    assert current is not None, "terraform/README.md lost its roles table markers"
    assert current == tf.render(tf.table()), "run: .venv/bin/python local/terraform_iam.py --write"


def test_the_readme_explains_every_grant_with_its_roles() -> None:
    rows = {
        line.split("|")[1].strip(" `"): line
        for line in tf.README.read_text().splitlines()
        if line.startswith("| `") and line.count("|") == 4
    }
    for grant, bindings in tf.vocabulary().items():
        assert grant in rows, f"terraform/README.md: no row for the grant {grant}"
        for b in bindings:
            role = "UploadDeleter" if b["role"] == UPLOAD_DELETER else b["role"]
            assert role in rows[grant], (grant, role)
