# Service accounts, one per identity, each with only what it needs:
#
#   <prefix>-<function>  the runtime identity of one function, holding exactly the grants its
#                        manifest entry lists ("grants" in functions/functions.json, vocabulary below)
#   functions-build      the identity Cloud Build uses to build the functions' images
#   tasks-invoker        the OIDC identity on Cloud Tasks tasks: may invoke the tasks functions only
#   scheduler-invoker    the OIDC identity of Cloud Scheduler jobs: may invoke the scheduler functions only
#   eventarc             the identity of the Eventarc trigger: may invoke the storage functions only
#
# Grants on a single resource (the bucket, the queue, a secret, a function) are made where that
# resource is created, from the member lists this module outputs; this module holds the
# project-level ones and the grants between accounts.

locals {
  build_member = "serviceAccount:${google_service_account.build.email}"

  # The grant vocabulary of functions/functions.json: each grant is one or more bindings, each a
  # role on a scope. Scopes: "project" (roles that exist only project-wide: Firestore, Firebase
  # Auth, FCM), "self" (the function's own service account), "tasks_invoker" (that account),
  # "upload_bucket", "tasks_queue". terraform/README.md lists what each function ends up with;
  # tests/unit/test_terraform_iam.py keeps that table, this vocabulary and the manifest in step.
  grant_bindings = {
    firestore       = [{ scope = "project", role = "roles/datastore.user" }]
    firestore_read  = [{ scope = "project", role = "roles/datastore.viewer" }]
    auth_read       = [{ scope = "project", role = "roles/firebaseauth.viewer" }]
    auth_admin      = [{ scope = "project", role = "roles/firebaseauth.admin" }]
    fcm_send        = [{ scope = "project", role = "roles/firebasecloudmessaging.admin" }]
    sign_urls       = [{ scope = "self", role = "roles/iam.serviceAccountTokenCreator" }]
    uploads_create  = [{ scope = "upload_bucket", role = "roles/storage.objectCreator" }]
    uploads_read    = [{ scope = "upload_bucket", role = "roles/storage.objectViewer" }]
    uploads_delete  = [{ scope = "upload_bucket", role = google_project_iam_custom_role.upload_deleter.name }]
    enqueue_ai_jobs = [{ scope = "tasks_queue", role = "roles/cloudtasks.enqueuer" }, { scope = "tasks_invoker", role = "roles/iam.serviceAccountUser" }]
  }

  # A service account ID is 6-30 characters: "<prefix>-<function>", or, when that is too long,
  # its first 21 characters and 8 of a hash of the function name.
  account_ids = {
    for name, fn in var.functions : name => (
      length("${var.prefix}-${name}") <= 30 ? "${var.prefix}-${name}" : "${substr("${var.prefix}-${name}", 0, 21)}-${substr(sha1(name), 0, 8)}"
    )
  }

  # Every (function, grant, binding) of the manifest, keyed "function/grant/scope".
  bindings = merge([
    for name, fn in var.functions : merge([
      for grant in fn.grants : {
        for b in lookup(local.grant_bindings, grant, []) : "${name}/${grant}/${b.scope}" => {
          function = name
          scope    = b.scope
          role     = b.role
          member   = "serviceAccount:${google_service_account.function[name].email}"
        }
      }
    ]...)
  ]...)
  project_bindings = { for key, b in local.bindings : key => b if b.scope == "project" }
  self_bindings    = { for key, b in local.bindings : key => b if b.scope == "self" }
  invoker_bindings = { for key, b in local.bindings : key => b if b.scope == "tasks_invoker" }
}

# --- functions -----------------------------------------------------------------------------

resource "google_service_account" "function" {
  for_each = var.functions

  project      = var.project_id
  account_id   = local.account_ids[each.key]
  display_name = "Aksio ${each.key}"
  description  = "Runtime identity of the ${each.key} function; its roles are the grants of its functions.json entry."

  lifecycle {
    precondition {
      condition     = alltrue([for grant in each.value.grants : contains(keys(local.grant_bindings), grant)])
      error_message = "Function ${each.key} lists a grant that is not in the vocabulary of modules/iam (grant_bindings)."
    }
  }
}

resource "google_project_iam_member" "function" {
  for_each = local.project_bindings

  project = var.project_id
  role    = each.value.role
  member  = each.value.member
}

# signBlob on itself: V4 signed upload URLs without a key file (IAM Credentials API).
resource "google_service_account_iam_member" "function_signs_as_itself" {
  for_each = local.self_bindings

  service_account_id = google_service_account.function[each.value.function].name
  role               = each.value.role
  member             = each.value.member
}

# actAs on the tasks invoker: creating a task whose OIDC token is minted for that account.
resource "google_service_account_iam_member" "function_acts_as_tasks_invoker" {
  for_each = local.invoker_bindings

  service_account_id = google_service_account.tasks_invoker.name
  role               = each.value.role
  member             = each.value.member
}

# Deleting an upload's object, nothing else: no predefined role holds storage.objects.delete
# without also reading, listing or overwriting objects.
resource "google_project_iam_custom_role" "upload_deleter" {
  project     = var.project_id
  role_id     = "${replace(var.prefix, "-", "_")}UploadDeleter"
  title       = "Aksio upload deleter"
  description = "Delete objects (bound on the upload bucket only)."
  permissions = ["storage.objects.delete"]
}

# --- other identities ----------------------------------------------------------------------

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${var.prefix}-functions-build"
  display_name = "Aksio functions build"
  description  = "Identity Cloud Build uses to build the Aksio functions."
}

resource "google_service_account" "tasks_invoker" {
  project      = var.project_id
  account_id   = "${var.prefix}-tasks-invoker"
  display_name = "Aksio Cloud Tasks invoker"
  description  = "OIDC identity of Cloud Tasks tasks; may invoke the tasks-triggered functions."
}

resource "google_service_account" "scheduler_invoker" {
  project      = var.project_id
  account_id   = "${var.prefix}-scheduler-invoker"
  display_name = "Aksio Cloud Scheduler invoker"
  description  = "OIDC identity of Cloud Scheduler jobs; may invoke the scheduler-triggered functions."
}

resource "google_service_account" "eventarc" {
  project      = var.project_id
  account_id   = "${var.prefix}-eventarc"
  display_name = "Aksio Eventarc trigger"
  description  = "Identity of the Eventarc trigger on the upload bucket."
}

# --- build ---------------------------------------------------------------------------------

resource "google_project_iam_member" "build" {
  for_each = toset(["roles/logging.logWriter", "roles/artifactregistry.writer"])

  project = var.project_id
  role    = each.value
  member  = local.build_member
}

# The build reads the staged sources and writes its cache in the buckets Cloud Functions
# manages itself (gcf-v2-sources-*, gcf-v2-uploads-*), and nowhere else: user uploads stay out of reach.
resource "google_project_iam_member" "build_gcf_buckets" {
  project = var.project_id
  role    = "roles/storage.objectAdmin"
  member  = local.build_member

  condition {
    title       = "gcf-v2-buckets-only"
    description = "Only the buckets Cloud Functions manages for builds."
    expression  = "resource.name.startsWith(\"projects/_/buckets/gcf-v2-\")"
  }
}

# --- eventarc ------------------------------------------------------------------------------

resource "google_project_iam_member" "eventarc_receiver" {
  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = "serviceAccount:${google_service_account.eventarc.email}"
}

# Cloud Storage publishes its object events through Pub/Sub on the trigger's behalf.
data "google_storage_project_service_account" "gcs" {
  project = var.project_id
}

resource "google_project_iam_member" "gcs_pubsub_publisher" {
  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = data.google_storage_project_service_account.gcs.member
}
