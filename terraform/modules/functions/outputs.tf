output "urls" {
  description = "URL of each function (https://REGION-PROJECT.cloudfunctions.net/NAME)."
  value       = { for name, fn in google_cloudfunctions2_function.this : name => fn.url }
}

output "run_urls" {
  description = "Cloud Run URL of each function (https://NAME-PROJECT_NUMBER.REGION.run.app)."
  value       = { for name, fn in google_cloudfunctions2_function.this : name => local.run_urls[name] }
}

output "scheduler_targets" {
  description = "The scheduler functions: URL, schedule and timeout, available once the scheduler's identity may invoke them."
  value = {
    for name, fn in google_cloudfunctions2_function.this : name => {
      url             = local.run_urls[name]
      schedule        = var.functions[name].schedule
      timeout_seconds = var.functions[name].timeout_seconds
    }
    if var.functions[name].trigger == "scheduler"
  }
  depends_on = [google_cloud_run_service_iam_member.invoker]
}

output "source_bucket" {
  description = "Name of the bucket holding the source zips."
  value       = google_storage_bucket.source.name
}
