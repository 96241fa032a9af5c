# Secret Manager secrets, without their values: a value never passes through Terraform (it would
# sit in the state in clear). Add each value once with
#   printf %s "$VALUE" | gcloud secrets versions add SECRET_ID --data-file=-
# The functions mount the latest version as an environment variable of the same name.
resource "google_secret_manager_secret" "this" {
  for_each = toset(var.secret_ids)

  project   = var.project_id
  secret_id = each.value
  labels    = var.labels

  replication {
    auto {}
  }
}

# The runtime account reads these secrets and no others.
resource "google_secret_manager_secret_iam_member" "runtime_accessor" {
  for_each = google_secret_manager_secret.this

  project   = each.value.project
  secret_id = each.value.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = var.accessor_member
}
