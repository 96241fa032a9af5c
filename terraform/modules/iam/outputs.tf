output "runtime_email" {
  description = "Email of the functions' runtime service account, available once its grants exist."
  value       = google_service_account.runtime.email
  depends_on = [
    google_project_iam_member.runtime,
    google_service_account_iam_member.runtime_signs_as_itself,
    google_service_account_iam_member.runtime_acts_as_tasks_invoker,
  ]
}

output "runtime_member" {
  description = "IAM member string of the runtime service account."
  value       = local.runtime_member
}

output "build_service_account_id" {
  description = "Fully qualified ID (projects/.../serviceAccounts/...) of the build service account, available once its grants exist."
  value       = google_service_account.build.id
  depends_on  = [google_project_iam_member.build, google_project_iam_member.build_gcf_buckets]
}

output "build_email" {
  description = "Email of the build service account."
  value       = google_service_account.build.email
}

output "tasks_invoker_email" {
  description = "Email of the service account whose OIDC tokens Cloud Tasks sends."
  value       = google_service_account.tasks_invoker.email
}

output "scheduler_invoker_email" {
  description = "Email of the service account whose OIDC tokens Cloud Scheduler sends."
  value       = google_service_account.scheduler_invoker.email
}

output "eventarc_email" {
  description = "Email of the Eventarc trigger's service account, available once its grants exist."
  value       = google_service_account.eventarc.email
  depends_on  = [google_project_iam_member.eventarc_receiver, google_project_iam_member.gcs_pubsub_publisher]
}
