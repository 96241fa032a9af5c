variable "project_id" {
  description = "The Google Cloud project ID."
  type        = string
}

variable "name" {
  description = "Name of the queue. A deleted queue's name cannot be reused for about a week."
  type        = string
}

variable "location" {
  description = "Region of the queue."
  type        = string
}

variable "iam_members" {
  description = "Bindings on the queue (the enqueuers), keyed function/grant/scope: {role, member}."
  type = map(object({
    role   = string
    member = string
  }))
  default = {}
}

variable "max_dispatches_per_second" {
  description = "Highest rate at which tasks are dispatched."
  type        = number
  default     = 5
}

variable "max_concurrent_dispatches" {
  description = "Most tasks running at once (bounds concurrent model calls)."
  type        = number
  default     = 10
}

variable "max_attempts" {
  description = "Attempts per task, the first included (-1: unlimited)."
  type        = number
  default     = 10
}

variable "max_retry_duration" {
  description = "Time limit for retrying a task, e.g. \"3600s\" (\"0s\": unlimited)."
  type        = string
  default     = "3600s"
}

variable "min_backoff" {
  description = "Shortest wait before a retry."
  type        = string
  default     = "5s"
}

variable "max_backoff" {
  description = "Longest wait before a retry."
  type        = string
  default     = "300s"
}

variable "log_sampling_ratio" {
  description = "Fraction of task operations logged to Cloud Logging (0.0-1.0)."
  type        = number
  default     = 1.0
}
