variable "project_id" {
  description = "The Google Cloud (and Firebase) project ID to deploy into."
  type        = string
}

variable "region" {
  description = "Region of the functions, the upload bucket, the Cloud Tasks queue and the Scheduler jobs."
  type        = string
  default     = "us-central1"
}

variable "prefix" {
  description = "Short prefix of resource names (service accounts, buckets, queue, jobs). Lowercase letters and hyphens; keep it short: service account IDs are limited to 30 characters."
  type        = string
  default     = "aksio"

  validation {
    condition     = can(regex("^[a-z][a-z-]{0,9}$", var.prefix))
    error_message = "prefix must be 1-10 lowercase letters or hyphens, starting with a letter."
  }
}

variable "firestore_location" {
  description = "Location of the Firestore database; fixed once created. \"nam5\" is the US multi-region that contains us-central1."
  type        = string
  default     = "nam5"
}

variable "create_firestore_database" {
  description = "Create the (default) Firestore database. Set to false if it already exists (for example created in the Firebase console), or import it: terraform import 'module.firestore.google_firestore_database.this[0]' 'projects/PROJECT/databases/(default)'."
  type        = bool
  default     = true
}

variable "firestore_delete_protection" {
  description = "Protect the Firestore database against deletion; terraform destroy then leaves it in place."
  type        = bool
  default     = true
}

variable "firestore_point_in_time_recovery" {
  description = "Enable Firestore point-in-time recovery (7 days of versions, billed)."
  type        = bool
  default     = false
}

variable "allowed_origins" {
  description = "Origins of the web app, e.g. [\"https://app.example.com\"]: CORS of the upload bucket (browser PUTs to signed URLs) and of the HTTP functions (CORS_ORIGINS)."
  type        = list(string)
  default     = []
}

variable "secret_ids" {
  description = "Secret Manager secrets to create (without values). Each is mounted, in the functions whose manifest entry lists it, as an environment variable of the same name."
  type        = list(string)
  default     = ["OPENAI_API_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]
}

variable "functions_manifest" {
  description = "Path of the function manifest, relative to this directory unless absolute."
  type        = string
  default     = "../functions/functions.json"
}

variable "build_dir" {
  description = "Directory of the packaged functions (build/<name>/ from `make package`), relative to this directory unless absolute."
  type        = string
  default     = "../build"
}

variable "runtime" {
  description = "Cloud Functions runtime of every function."
  type        = string
  default     = "python311"
}

variable "ai_provider" {
  description = "AI_PROVIDER of every function: openai (the AI routes answer 503 ai_unavailable without OPENAI_API_KEY) or offline (no model)."
  type        = string
  default     = "openai"
  validation {
    condition     = contains(["openai", "offline"], var.ai_provider)
    error_message = "ai_provider must be openai or offline."
  }
}

variable "environment_variables" {
  description = "Further non-secret environment variables of every function (model names, Stripe price IDs, checkout return URLs...). A manifest entry's env wins over these."
  type        = map(string)
  default     = {}
}

variable "tasks_max_dispatches_per_second" {
  description = "Highest rate at which the AI job queue dispatches tasks."
  type        = number
  default     = 5
}

variable "tasks_max_concurrent_dispatches" {
  description = "Most AI job steps running at once (bounds concurrent model calls)."
  type        = number
  default     = 10
}

variable "tasks_max_attempts" {
  description = "Attempts per AI job step, the first included, before Cloud Tasks gives up."
  type        = number
  default     = 10
}

variable "scheduler_time_zone" {
  description = "Time zone of the scheduler functions' cron schedules."
  type        = string
  default     = "Etc/UTC"
}

variable "labels" {
  description = "Labels of the resources that take them."
  type        = map(string)
  default = {
    app = "aksio"
  }
}
