output "bucket_name" {
  description = "Name of the upload bucket, available once the functions' grants on it exist."
  value       = google_storage_bucket.uploads.name
  depends_on  = [google_storage_bucket_iam_member.this]
}

output "bucket_url" {
  description = "gs:// URL of the upload bucket."
  value       = google_storage_bucket.uploads.url
}
