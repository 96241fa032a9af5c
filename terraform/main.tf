# Aksio backend: everything deployed, one module per concern.
#
#   project_services  the Google APIs
#   iam               a service account per function (its manifest grants) and the other identities
#   firestore         database, security rules (deny all), indexes
#   storage           the upload bucket (private, CORS for signed-URL PUTs)
#   secrets           Secret Manager secrets (no values) readable by the functions
#   tasks             the Cloud Tasks queue of AI jobs
#   functions         every function of functions/functions.json
#   scheduler         a Cloud Scheduler job per scheduler function
#   monitoring        log-based metrics, alert policies, the health uptime check, a dashboard
#   web               the web app: its bucket (static files of web/dist, config.json) behind an
#                     HTTPS load balancer on var.web_domain (Cloud CDN, managed certificate)

provider "google" {
  project = var.project_id
  region  = var.region

  # Bill API calls (Firebase Rules, Identity Toolkit) to this project even with user credentials.
  user_project_override = true
  billing_project       = var.project_id
}

locals {
  manifest_path = startswith(var.functions_manifest, "/") ? var.functions_manifest : "${path.module}/${var.functions_manifest}"
  build_dir     = startswith(var.build_dir, "/") ? var.build_dir : "${path.module}/${var.build_dir}"

  functions = jsondecode(file(local.manifest_path))

  # The web app's own origin is always allowed (CORS of the API and of the upload bucket,
  # Stripe's return), whatever the operator lists: it cannot be forgotten.
  web_origin             = "https://${var.web_domain}"
  cors_origins           = distinct(concat([local.web_origin], var.allowed_origins))
  billing_return_origins = distinct(concat(var.billing_return_origins, [local.web_origin]))
  firestore_indexes      = jsondecode(file("${path.module}/firestore.indexes.json"))

  services = [
    "cloudresourcemanager.googleapis.com",
    "serviceusage.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com", # signBlob for V4 signed URLs
    "cloudfunctions.googleapis.com",
    "run.googleapis.com",
    "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com",
    "eventarc.googleapis.com",
    "pubsub.googleapis.com",
    "storage.googleapis.com",
    "firestore.googleapis.com",
    "firebaserules.googleapis.com",
    "identitytoolkit.googleapis.com", # Firebase Auth: token revocation checks, custom claims
    "fcm.googleapis.com",             # reminders pushed through Firebase Cloud Messaging
    "cloudtasks.googleapis.com",
    "cloudscheduler.googleapis.com",
    "secretmanager.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com", # alert policies, uptime check, dashboard (modules/monitoring)
    "compute.googleapis.com",    # the web app's load balancer, certificate and Cloud CDN (modules/web)
  ]
}

module "project_services" {
  source = "./modules/project_services"

  project_id = var.project_id
  services   = local.services
}

module "iam" {
  source = "./modules/iam"

  project_id = module.project_services.project_id
  prefix     = var.prefix
  functions  = local.functions
}

module "firestore" {
  source = "./modules/firestore"

  project_id             = module.project_services.project_id
  create_database        = var.create_firestore_database
  location_id            = var.firestore_location
  delete_protection      = var.firestore_delete_protection
  point_in_time_recovery = var.firestore_point_in_time_recovery
  backup_retention_days  = var.firestore_backup_retention_days
  rules                  = file("${path.module}/firestore.rules")
  indexes                = try(local.firestore_indexes.indexes, [])
  field_overrides        = try(local.firestore_indexes.fieldOverrides, [])
}

module "storage" {
  source = "./modules/storage"

  project_id   = module.project_services.project_id
  bucket_name  = "${var.project_id}-${var.prefix}-uploads"
  location     = var.region
  cors_origins = local.cors_origins
  iam_members  = module.iam.upload_bucket_members
  labels       = var.labels
}

module "secrets" {
  source = "./modules/secrets"

  project_id = module.project_services.project_id
  secret_ids = var.secret_ids
  location   = var.region
  accessors  = module.iam.secret_accessors
  labels     = var.labels
}

module "tasks" {
  source = "./modules/tasks"

  project_id                = module.project_services.project_id
  name                      = "${var.prefix}-ai-jobs"
  location                  = var.region
  iam_members               = module.iam.tasks_queue_members
  max_dispatches_per_second = var.tasks_max_dispatches_per_second
  max_concurrent_dispatches = var.tasks_max_concurrent_dispatches
  max_attempts              = var.tasks_max_attempts
}

module "functions" {
  source = "./modules/functions"

  project_id         = module.project_services.project_id
  region             = var.region
  functions          = local.functions
  build_dir          = local.build_dir
  runtime            = var.runtime
  source_bucket_name = "${var.project_id}-${var.prefix}-functions-source"

  service_account_emails         = module.iam.function_emails
  build_service_account_id       = module.iam.build_service_account_id
  build_service_account_email    = module.iam.build_email
  tasks_invoker_email            = module.iam.tasks_invoker_email
  scheduler_invoker_email        = module.iam.scheduler_invoker_email
  eventarc_service_account_email = module.iam.eventarc_email

  firestore_database     = module.firestore.database
  upload_bucket          = module.storage.bucket_name
  tasks_queue            = module.tasks.name
  tasks_location         = module.tasks.location
  secret_ids             = module.secrets.secret_ids
  cors_origins           = local.cors_origins
  stripe_prices          = var.stripe_prices
  billing_return_origins = local.billing_return_origins
  ai_provider            = var.ai_provider
  environment_variables  = var.environment_variables
  labels                 = var.labels
}

module "scheduler" {
  source = "./modules/scheduler"

  project_id            = module.project_services.project_id
  region                = var.region
  prefix                = var.prefix
  targets               = module.functions.scheduler_targets
  service_account_email = module.iam.scheduler_invoker_email
  time_zone             = var.scheduler_time_zone
}

module "monitoring" {
  source = "./modules/monitoring"

  project_id                = module.project_services.project_id
  prefix                    = var.prefix
  functions                 = local.functions
  latency_targets_ms        = var.latency_targets_ms
  default_latency_target_ms = var.default_latency_target_ms
  error_ratio_threshold     = var.alert_error_ratio
  tasks_queue               = module.tasks.name
  health_host               = "${var.region}-${var.project_id}.cloudfunctions.net"
  notification_channels     = var.alert_notification_channels
  notification_email        = var.alert_email
  labels                    = var.labels

  depends_on = [module.functions]
}

module "web" {
  source = "./modules/web"

  project_id       = module.project_services.project_id
  name             = "${var.prefix}-web"
  web_domain       = var.web_domain
  bucket_name      = "${var.project_id}-${var.prefix}-web"
  location         = var.region
  functions_region = var.region
  firebase_api_key = var.firebase_web_api_key
  labels           = var.labels
}
