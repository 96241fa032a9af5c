variable "project_id" {
  description = "The Google Cloud project ID."
  type        = string
}

variable "region" {
  description = "Region of the jobs."
  type        = string
}

variable "prefix" {
  description = "Prefix of the job names."
  type        = string
}

variable "targets" {
  description = "The scheduler functions by name: URL, cron schedule and timeout."
  type = map(object({
    url             = string
    schedule        = string
    timeout_seconds = number
  }))
}

variable "service_account_email" {
  description = "Service account whose OIDC token the jobs send."
  type        = string
}

variable "time_zone" {
  description = "Time zone of the schedules (tz database name)."
  type        = string
  default     = "Etc/UTC"
}

variable "retry_count" {
  description = "Retries of a failed run (the functions are idempotent)."
  type        = number
  default     = 3
}
