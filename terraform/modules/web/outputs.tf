output "bucket_name" {
  description = "Name of the web app's bucket (Cloud Build's web step uploads web/dist to it)."
  value       = google_storage_bucket.web.name
}

output "url" {
  description = "The web app's address: its index in the public bucket."
  value       = "https://storage.googleapis.com/${google_storage_bucket.web.name}/index.html"
}
