# Service accounts, one per identity, each with only what it needs:
#
#   functions          the runtime identity of every function (Firestore, the upload bucket,
#                      the AI queue, its secrets, Firebase Auth, FCM, signing its own blobs)
#   functions-build    the identity Cloud Build uses to build the functions' images
#   tasks-invoker      the OIDC identity on Cloud Tasks tasks: may invoke the tasks functions only
#   scheduler-invoker  the OIDC identity of Cloud Scheduler jobs: may invoke the scheduler functions only
#   eventarc           the identity of the Eventarc trigger: may invoke the storage functions only
#
# Grants on a single resource (the bucket, the queue, a secret, a function) are made where that
# resource is created; this module holds the project-level ones and the grants between accounts.

locals {
  runtime_member = "serviceAccount:${google_service_account.runtime.email}"
  build_member   = "serviceAccount:${google_service_account.build.email}"
}

resource "google_service_account" "runtime" {
  project      = var.project_id
  account_id   = "${var.prefix}-functions"
  display_name = "Aksio functions runtime"
  description  = "Runtime identity of every Aksio Cloud Function."
}

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

# --- runtime -------------------------------------------------------------------------------

resource "google_project_iam_member" "runtime" {
  for_each = toset(var.runtime_project_roles)

  project = var.project_id
  role    = each.value
  member  = local.runtime_member
}

# signBlob on itself: V4 signed upload URLs without a key file (IAM Credentials API).
resource "google_service_account_iam_member" "runtime_signs_as_itself" {
  service_account_id = google_service_account.runtime.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.runtime_member
}

# actAs on the tasks invoker: creating a task whose OIDC token is minted for that account.
resource "google_service_account_iam_member" "runtime_acts_as_tasks_invoker" {
  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = local.runtime_member
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
