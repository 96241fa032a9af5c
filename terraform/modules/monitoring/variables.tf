variable "project_id" {
  description = "Project of the functions, their logs and the monitoring resources."
  type        = string
}

variable "prefix" {
  description = "Prefix of the names (log-based metrics, display names)."
  type        = string
}

variable "functions" {
  description = "The function manifest (functions/functions.json): trigger of each function and, optionally, its p95 latency target (latency_target_ms)."
  type = map(object({
    trigger           = string
    latency_target_ms = optional(number)
  }))
}

variable "latency_targets_ms" {
  description = "p95 latency target in milliseconds by HTTP function (overrides the manifest's latency_target_ms)."
  type        = map(number)
  default     = {}
}

variable "default_latency_target_ms" {
  description = "p95 latency target of an HTTP function with no target of its own."
  type        = number
  default     = 1000
}

variable "error_ratio_threshold" {
  description = "Share of a function's requests answered 5xx (over 5 minutes) that opens an incident."
  type        = number
  default     = 0.05
}

variable "tasks_queue" {
  description = "Short name of the Cloud Tasks queue of AI jobs."
  type        = string
}

variable "tasks_failed_attempts_threshold" {
  description = "Failed task attempts within 10 minutes that open an incident."
  type        = number
  default     = 5
}

variable "webhook_failures_threshold" {
  description = "Stripe webhook deliveries not answered 2xx within 10 minutes that open an incident (Stripe retries them, then disables the endpoint)."
  type        = number
  default     = 3
}

variable "upload_failures_threshold" {
  description = "Uploads ending failed (unreadable file, page quota...) within an hour that open an incident."
  type        = number
  default     = 10
}

variable "health_host" {
  description = "Host serving the health function (REGION-PROJECT.cloudfunctions.net)."
  type        = string
}

variable "health_path" {
  description = "Path of the health function on health_host."
  type        = string
  default     = "/health"
}

variable "notification_channels" {
  description = "Existing notification channels (projects/PROJECT/notificationChannels/ID) every alert notifies."
  type        = list(string)
  default     = []
}

variable "notification_email" {
  description = "An email address to notify (an email channel is created for it); empty for none."
  type        = string
  default     = ""
}

variable "labels" {
  description = "User labels of the resources that take them."
  type        = map(string)
  default     = {}
}
