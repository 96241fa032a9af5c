output "project_id" {
  description = "The project ID, available only once every API is enabled: modules that take it from here wait for the APIs."
  value       = var.project_id
  depends_on  = [google_project_service.this]
}

output "services" {
  description = "The enabled APIs."
  value       = sort(keys(google_project_service.this))
}
