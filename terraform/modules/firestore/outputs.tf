output "database" {
  description = "Name of the Firestore database."
  value       = local.database
}

output "index_ids" {
  description = "IDs of the composite and vector indexes."
  value       = [for index in google_firestore_index.this : index.id]
}

output "backup_schedule" {
  description = "ID of the daily backup schedule."
  value       = google_firestore_backup_schedule.daily.id
}
