output "database" {
  description = "Name of the Firestore database."
  value       = local.database
}

output "index_ids" {
  description = "IDs of the composite and vector indexes."
  value       = [for index in google_firestore_index.this : index.id]
}
