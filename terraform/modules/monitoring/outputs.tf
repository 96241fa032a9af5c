output "notification_channels" {
  description = "The channels every alert policy notifies."
  value       = local.channels
}

output "log_metrics" {
  description = "Metric type of each log-based metric, by event name."
  value       = { for event, metric in google_logging_metric.events : event => "logging.googleapis.com/user/${metric.name}" }
}

output "uptime_check_id" {
  description = "ID of the uptime check on health."
  value       = google_monitoring_uptime_check_config.health.uptime_check_id
}

output "dashboard_id" {
  description = "ID of the Aksio dashboard."
  value       = google_monitoring_dashboard.aksio.id
}
