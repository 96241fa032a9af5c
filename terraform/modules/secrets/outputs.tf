output "secret_ids" {
  description = "Secret ID by secret ID, available once the functions listing them may read them (a function mounting a secret it cannot read fails to deploy)."
  value       = { for id, secret in google_secret_manager_secret.this : id => secret.secret_id }
  depends_on  = [google_secret_manager_secret_iam_member.accessor]
}

output "secret_names" {
  description = "Fully qualified resource name (projects/.../secrets/...) by secret ID."
  value       = { for id, secret in google_secret_manager_secret.this : id => secret.name }
}
