# Secret Manager secrets, without their values: a value never passes through Terraform (it would
# sit in the state in clear). Add each value once with
#   printf %s "$VALUE" | gcloud secrets versions add SECRET_ID --data-file=-
# The functions mount the latest version as an environment variable of the same name.
resource "google_secret_manager_secret" "this" {
  for_each = toset(var.secret_ids)

  project   = var.project_id
  secret_id = each.value
  labels    = var.labels

  # Stored in the deployment's region only (automatic replication may place copies anywhere).
  replication {
    user_managed {
      replicas {
        location = var.location
      }
    }
  }
}

# Each secret is readable by the functions whose manifest entry lists it, and by no others.
resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = var.accessors

  project   = google_secret_manager_secret.this[each.value.secret].project
  secret_id = google_secret_manager_secret.this[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = each.value.member
}
