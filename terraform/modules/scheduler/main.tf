# One Cloud Scheduler job per scheduler function, calling it with an OIDC token of the
# scheduler's service account (the only identity the function accepts besides its owners).
resource "google_cloud_scheduler_job" "this" {
  for_each = var.targets

  project     = var.project_id
  region      = var.region
  name        = "${var.prefix}-${each.key}"
  description = "Invokes the ${each.key} function."
  schedule    = each.value.schedule
  time_zone   = var.time_zone

  # Scheduler waits between 15 s and 30 min for an answer.
  attempt_deadline = "${min(max(each.value.timeout_seconds, 15), 1800)}s"

  retry_config {
    retry_count          = var.retry_count
    min_backoff_duration = "30s"
    max_backoff_duration = "300s"
  }

  http_target {
    http_method = "POST"
    uri         = each.value.url
    body        = base64encode("{}")
    headers = {
      "Content-Type" = "application/json"
    }

    oidc_token {
      service_account_email = var.service_account_email
      audience              = each.value.url
    }
  }
}
