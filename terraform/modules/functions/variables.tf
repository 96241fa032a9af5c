variable "project_id" {
  description = "The Google Cloud project ID."
  type        = string
}

variable "region" {
  description = "Region of the functions, their source bucket and their Eventarc triggers."
  type        = string
}

variable "functions" {
  description = "The function manifest (functions/functions.json): settings by function name. See README.md for the fields."
  type = map(object({
    trigger         = string
    public          = optional(bool, false)
    description     = optional(string, "")
    memory          = optional(string, "256Mi")
    cpu             = optional(string)
    timeout_seconds = optional(number, 60)
    min_instances   = optional(number, 0)
    max_instances   = optional(number, 10)
    concurrency     = optional(number, 1)
    workers         = optional(number)
    secrets         = optional(list(string), [])
    env             = optional(map(string), {})
    schedule        = optional(string)
    grants          = optional(list(string), [])
    config          = optional(list(string), [])
  }))

  validation {
    condition     = alltrue([for name, fn in var.functions : can(regex("^[a-z][a-z0-9-]{0,47}[a-z0-9]$", name))])
    error_message = "Function names are 2-49 characters of lowercase letters, digits and hyphens, starting with a letter (they become Cloud Run service names and host names)."
  }
  validation {
    condition     = alltrue([for name, fn in var.functions : contains(["http", "storage_finalized", "tasks", "scheduler"], fn.trigger)])
    error_message = "trigger must be one of http, storage_finalized, tasks, scheduler."
  }
  validation {
    condition     = alltrue([for name, fn in var.functions : !fn.public || fn.trigger == "http"])
    error_message = "Only http functions may be public: tasks, scheduler and storage_finalized functions are invoked by their trigger's identity."
  }
  validation {
    condition     = alltrue([for name, fn in var.functions : (fn.trigger == "scheduler") == (fn.schedule != null)])
    error_message = "A scheduler function needs a schedule (cron syntax); other functions have none."
  }
  validation {
    condition     = alltrue([for name, fn in var.functions : fn.concurrency <= 1 || try(tonumber(fn.cpu) >= 1, false)])
    error_message = "concurrency above 1 needs cpu of at least \"1\"."
  }
  validation {
    condition     = alltrue([for name, fn in var.functions : fn.timeout_seconds >= 1 && fn.timeout_seconds <= (fn.trigger == "storage_finalized" ? 540 : 3600)])
    error_message = "timeout_seconds is at most 540 for storage_finalized functions and 3600 for HTTP ones."
  }
}

variable "build_dir" {
  description = "Directory holding one packaged source directory per function (build/<name>/)."
  type        = string
}

variable "runtime" {
  description = "Cloud Functions runtime."
  type        = string
}

variable "source_bucket_name" {
  description = "Globally unique name of the bucket holding the functions' source zips."
  type        = string
}

variable "service_account_emails" {
  description = "Runtime service account of each function (its own, holding its manifest grants)."
  type        = map(string)
}

variable "build_service_account_id" {
  description = "Fully qualified ID (projects/.../serviceAccounts/...) of the service account Cloud Build uses."
  type        = string
}

variable "build_service_account_email" {
  description = "Email of the service account Cloud Build uses."
  type        = string
}

variable "tasks_invoker_email" {
  description = "Service account whose OIDC tokens Cloud Tasks sends; may invoke the tasks functions."
  type        = string
}

variable "scheduler_invoker_email" {
  description = "Service account whose OIDC tokens Cloud Scheduler sends; may invoke the scheduler functions."
  type        = string
}

variable "eventarc_service_account_email" {
  description = "Service account of the Eventarc triggers; may invoke the storage_finalized functions."
  type        = string
}

variable "firestore_database" {
  description = "Name of the Firestore database (FIRESTORE_DATABASE)."
  type        = string
  default     = "(default)"
}

variable "upload_bucket" {
  description = "Name of the upload bucket (UPLOAD_BUCKET, and the storage_finalized triggers' bucket)."
  type        = string
}

variable "tasks_queue" {
  description = "Short name of the Cloud Tasks queue (TASKS_QUEUE)."
  type        = string
}

variable "tasks_location" {
  description = "Region of the Cloud Tasks queue (TASKS_LOCATION)."
  type        = string
}

variable "secret_ids" {
  description = "Secret Manager secret ID by name; functions may mount only these."
  type        = map(string)
  default     = {}
}

variable "cors_origins" {
  description = "Browser origins the HTTP functions answer with CORS headers (CORS_ORIGINS, comma-separated)."
  type        = list(string)
  default     = []
}

variable "ai_provider" {
  description = "Value of AI_PROVIDER (openai or offline)."
  type        = string
  default     = "openai"
  validation {
    condition     = contains(["openai", "offline"], var.ai_provider)
    error_message = "ai_provider must be openai or offline."
  }
}

variable "stripe_prices" {
  description = "Stripe price id by the variable naming it (STRIPE_PRICE_PRO...): the environment of the functions whose manifest config lists stripe_prices."
  type        = map(string)
  default     = {}
}

variable "billing_return_origins" {
  description = "Origins Stripe may send the browser back to (BILLING_RETURN_ORIGINS): the functions whose manifest config lists billing_return_origins."
  type        = list(string)
  default     = []
}

variable "environment_variables" {
  description = "Further environment variables of every function (a manifest entry's env wins over these)."
  type        = map(string)
  default     = {}
}

variable "labels" {
  description = "Labels of the functions and the source bucket."
  type        = map(string)
  default     = {}
}
