output "function_urls" {
  description = "URL of each function, https://REGION-PROJECT.cloudfunctions.net/NAME (the API base of the web app is the common prefix)."
  value       = module.functions.urls
}

output "api_base_url" {
  description = "Base URL of the public functions."
  value       = "https://${var.region}-${var.project_id}.cloudfunctions.net"
}

output "upload_bucket" {
  description = "Name of the upload bucket."
  value       = module.storage.bucket_name
}

output "tasks_queue" {
  description = "Fully qualified ID of the AI job queue."
  value       = module.tasks.id
}

output "function_service_accounts" {
  description = "Email of each function's runtime service account."
  value       = module.iam.function_emails
}

output "secret_names" {
  description = "Secrets to fill with `gcloud secrets versions add`."
  value       = module.secrets.secret_names
}

output "firestore_database" {
  description = "Name of the Firestore database."
  value       = module.firestore.database
}

output "scheduler_jobs" {
  description = "Cloud Scheduler job ID by function name."
  value       = module.scheduler.job_ids
}

output "monitoring" {
  description = "Log-based metric types by event, the health uptime check ID, the dashboard ID and the alert channels."
  value = {
    log_metrics           = module.monitoring.log_metrics
    uptime_check_id       = module.monitoring.uptime_check_id
    dashboard_id          = module.monitoring.dashboard_id
    notification_channels = module.monitoring.notification_channels
  }
}

output "web" {
  description = "The web app: its bucket (Cloud Build's web step uploads web/dist there), its URL on web_domain, and the load balancer's IP address, which the domain's DNS A record must point at (the managed certificate becomes ACTIVE once it does)."
  value = {
    bucket      = module.web.bucket_name
    url         = module.web.url
    origin      = module.web.origin
    ip_address  = module.web.ip_address
    dns_record  = "${var.web_domain}. A ${module.web.ip_address}"
    certificate = module.web.certificate
  }
}

output "allowed_origins" {
  description = "The origins the API (CORS_ORIGINS) and the upload bucket's CORS allow: the web app's first, then allowed_origins."
  value       = local.cors_origins
}
