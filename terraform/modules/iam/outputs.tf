output "function_emails" {
  description = "Email of each function's runtime service account, available once its project-level and account-level grants exist."
  value       = { for name, sa in google_service_account.function : name => sa.email }
  depends_on = [
    google_project_iam_member.function,
    google_service_account_iam_member.function_signs_as_itself,
    google_service_account_iam_member.function_acts_as_tasks_invoker,
  ]
}

output "upload_bucket_members" {
  description = "Bindings on the upload bucket, keyed function/grant/scope: {role, member}."
  value       = { for key, b in local.bindings : key => { role = b.role, member = b.member } if b.scope == "upload_bucket" }
}

output "tasks_queue_members" {
  description = "Bindings on the AI job queue, keyed function/grant/scope: {role, member}."
  value       = { for key, b in local.bindings : key => { role = b.role, member = b.member } if b.scope == "tasks_queue" }
}

output "secret_accessors" {
  description = "For each (function, secret) of the manifest, keyed function/secret: {secret, member}."
  value = merge([
    for name, fn in var.functions : {
      for secret in fn.secrets : "${name}/${secret}" => {
        secret = secret
        member = "serviceAccount:${google_service_account.function[name].email}"
      }
    }
  ]...)
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
