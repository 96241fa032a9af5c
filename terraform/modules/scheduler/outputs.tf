output "job_ids" {
  description = "ID of each job by function name."
  value       = { for name, job in google_cloud_scheduler_job.this : name => job.id }
}
