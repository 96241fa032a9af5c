# The queue that sequences AI jobs: generate-flashcards enqueues the first step, each
# run-generation step enqueues the next. Rate limits bound the load on the model provider;
# retries with exponential backoff absorb its transient errors (the handler answers non-2xx
# for those, 2xx once a job has failed for good).
resource "google_cloud_tasks_queue" "ai_jobs" {
  project  = var.project_id
  name     = var.name
  location = var.location

  rate_limits {
    max_dispatches_per_second = var.max_dispatches_per_second
    max_concurrent_dispatches = var.max_concurrent_dispatches
  }

  retry_config {
    max_attempts       = var.max_attempts
    max_retry_duration = var.max_retry_duration
    min_backoff        = var.min_backoff
    max_backoff        = var.max_backoff
    max_doublings      = 4
  }

  stackdriver_logging_config {
    sampling_ratio = var.log_sampling_ratio
  }
}

# Only the functions that start or continue AI jobs may add tasks, and only to this queue.
resource "google_cloud_tasks_queue_iam_member" "this" {
  for_each = var.iam_members

  project  = google_cloud_tasks_queue.ai_jobs.project
  location = google_cloud_tasks_queue.ai_jobs.location
  name     = google_cloud_tasks_queue.ai_jobs.name
  role     = each.value.role
  member   = each.value.member
}
