# Every function of the manifest (functions/functions.json), deployed as a 2nd gen Cloud
# Function from its packaged source (build/<name>/, made by `make package`). Adding a function
# is a folder under functions/ plus a manifest entry; nothing here names a function.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  # Cloud Run's deterministic URL of each function, https://NAME-PROJECT_NUMBER.REGION.run.app.
  # It is known before the function exists, so environments can name any function's URL (even
  # their own) without a dependency cycle. Cloud Tasks and Cloud Scheduler call these URLs:
  # traffic from them to the run.app URL counts as internal for internal-only ingress.
  run_urls = {
    for name, fn in var.functions : name => "https://${name}-${data.google_project.this.number}.${var.region}.run.app"
  }

  # e.g. RUN_GENERATION_URL: where to send a task, and the OIDC audience the target checks.
  # A function gets the URL of each tasks function when it enqueues AI jobs, and its own.
  url_env = {
    for name, fn in var.functions : name => "${upper(replace(name, "-", "_"))}_URL"
    if contains(["tasks", "scheduler"], fn.trigger)
  }
  enqueues = { for name, fn in var.functions : name => contains(fn.grants, "enqueue_ai_jobs") }

  # Each function's environment holds the settings its code reads and no others: what every
  # function needs, then what follows from its trigger, its grants and its manifest "config".
  function_env = {
    for name, fn in var.functions : name => merge(
      {
        GOOGLE_CLOUD_PROJECT = var.project_id
        REGION               = var.region
        FIRESTORE_DATABASE   = var.firestore_database
      },
      fn.trigger == "http" ? { CORS_ORIGINS = join(",", var.cors_origins) } : {},
      contains(fn.secrets, "OPENAI_API_KEY") ? { AI_PROVIDER = var.ai_provider } : {},
      length(setintersection(fn.grants, ["sign_urls", "uploads_create", "uploads_read", "uploads_delete"])) > 0 ? { UPLOAD_BUCKET = var.upload_bucket } : {},
      local.enqueues[name] ? {
        TASKS_QUEUE    = var.tasks_queue
        TASKS_LOCATION = var.tasks_location
      } : {},
      local.enqueues[name] || fn.trigger == "tasks" ? { TASKS_SERVICE_ACCOUNT = var.tasks_invoker_email } : {},
      fn.trigger == "scheduler" ? { SCHEDULER_SERVICE_ACCOUNT = var.scheduler_invoker_email } : {},
      {
        for target, variable in local.url_env : variable => local.run_urls[target]
        if target == name || (local.enqueues[name] && var.functions[target].trigger == "tasks")
      },
      contains(fn.config, "stripe_prices") ? var.stripe_prices : {},
      contains(fn.config, "billing_return_origins") ? { BILLING_RETURN_ORIGINS = join(",", var.billing_return_origins) } : {},
      var.environment_variables,
    )
  }

  # functions-framework serves with gunicorn: WORKERS processes of THREADS threads each.
  # One worker per whole vCPU (fractional CPUs get one), threads to cover the concurrency.
  workers = {
    for name, fn in var.functions : name => coalesce(fn.workers, try(max(1, floor(tonumber(fn.cpu))), 1))
  }
  threads = {
    for name, fn in var.functions : name => max(1, ceil(fn.concurrency / local.workers[name]))
  }

  # Who may invoke what: anyone (public functions check Firebase ID tokens or Stripe signatures
  # themselves), else only the identity of the function's trigger.
  invoker_members = {
    tasks             = "serviceAccount:${var.tasks_invoker_email}"
    scheduler         = "serviceAccount:${var.scheduler_invoker_email}"
    storage_finalized = "serviceAccount:${var.eventarc_service_account_email}"
  }
  invokers = {
    for name, fn in var.functions : name => fn.public ? "allUsers" : local.invoker_members[fn.trigger]
    if fn.public || contains(keys(local.invoker_members), fn.trigger)
  }
}

# --- source --------------------------------------------------------------------------------

resource "google_storage_bucket" "source" {
  #checkov:skip=CKV_GCP_62:Access is logged by Cloud Audit Logs for storage.googleapis.com (modules/storage), not by legacy usage logs.
  #checkov:skip=CKV_GCP_78:Holds only zips named by their content hash, rebuilt from git by `make package`: a version history would keep nothing that cannot be remade.
  project  = var.project_id
  name     = var.source_bucket_name
  location = var.region
  labels   = var.labels

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true # holds nothing but zips Terraform re-uploads
}

resource "google_storage_bucket_iam_member" "build_reads_source" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${var.build_service_account_email}"
}

data "archive_file" "source" {
  for_each = var.functions

  type             = "zip"
  source_dir       = "${var.build_dir}/${each.key}"
  output_path      = "${var.build_dir}/${each.key}.zip"
  output_file_mode = "0644"
  excludes         = ["**/__pycache__/**", "**/*.pyc"]

  lifecycle {
    precondition {
      condition     = fileexists("${var.build_dir}/${each.key}/main.py") && fileexists("${var.build_dir}/${each.key}/requirements.txt")
      error_message = "${var.build_dir}/${each.key}/ lacks main.py or requirements.txt: run `make package` before terraform."
    }
  }
}

# Named by content hash: a changed bundle is a new object, which redeploys its function.
resource "google_storage_bucket_object" "source" {
  for_each = var.functions

  bucket       = google_storage_bucket.source.name
  name         = "${each.key}/${data.archive_file.source[each.key].output_md5}.zip"
  source       = data.archive_file.source[each.key].output_path
  content_type = "application/zip"
}

# --- functions -----------------------------------------------------------------------------

resource "google_cloudfunctions2_function" "this" {
  for_each = var.functions

  project     = var.project_id
  location    = var.region
  name        = each.key
  description = each.value.description
  labels      = var.labels

  build_config {
    runtime         = var.runtime
    entry_point     = replace(each.key, "-", "_")
    service_account = var.build_service_account_id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source[each.key].name
      }
    }
  }

  service_config {
    available_memory                 = each.value.memory
    available_cpu                    = each.value.cpu
    timeout_seconds                  = each.value.timeout_seconds
    min_instance_count               = each.value.min_instances
    max_instance_count               = each.value.max_instances
    max_instance_request_concurrency = each.value.concurrency
    ingress_settings                 = each.value.trigger == "http" ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    service_account_email            = var.service_account_emails[each.key]

    environment_variables = merge(
      local.function_env[each.key],
      {
        WORKERS = tostring(local.workers[each.key])
        THREADS = tostring(local.threads[each.key])
      },
      each.value.env,
    )

    # Each secret's latest version, as an environment variable named like the secret.
    dynamic "secret_environment_variables" {
      for_each = toset(each.value.secrets)
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = lookup(var.secret_ids, secret_environment_variables.value, secret_environment_variables.value)
        version    = "latest"
      }
    }
  }

  # Eventarc: every new object (or new generation) in the upload bucket. Delivery is
  # at-least-once and retried while the function fails; the function drops events that are too old.
  dynamic "event_trigger" {
    for_each = each.value.trigger == "storage_finalized" ? [1] : []
    content {
      trigger_region        = var.region
      event_type            = "google.cloud.storage.object.v1.finalized"
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = var.eventarc_service_account_email

      event_filters {
        attribute = "bucket"
        value     = var.upload_bucket
      }
    }
  }

  lifecycle {
    precondition {
      condition     = alltrue([for secret in each.value.secrets : contains(keys(var.secret_ids), secret)])
      error_message = "Function ${each.key} mounts a secret that is not in var.secret_ids: add it there (the secrets module creates it)."
    }
    precondition {
      condition     = alltrue([for setting in each.value.config : contains(["stripe_prices", "billing_return_origins"], setting)])
      error_message = "Function ${each.key} lists a config setting other than stripe_prices and billing_return_origins."
    }
  }
}

# Invoking a 2nd gen function is invoking its Cloud Run service (same name).
resource "google_cloud_run_service_iam_member" "invoker" {
  for_each = local.invokers

  project  = var.project_id
  location = google_cloudfunctions2_function.this[each.key].location
  service  = google_cloudfunctions2_function.this[each.key].name
  role     = "roles/run.invoker"
  member   = each.value
}
