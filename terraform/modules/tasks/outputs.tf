output "name" {
  description = "Short name of the queue, available once the enqueuers may enqueue."
  value       = google_cloud_tasks_queue.ai_jobs.name
  depends_on  = [google_cloud_tasks_queue_iam_member.this]
}

output "location" {
  description = "Region of the queue."
  value       = google_cloud_tasks_queue.ai_jobs.location
}

output "id" {
  description = "Fully qualified queue ID (projects/.../locations/.../queues/...)."
  value       = google_cloud_tasks_queue.ai_jobs.id
}
