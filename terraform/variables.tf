variable "project_id" {
  description = "The Google Cloud (and Firebase) project ID to deploy into. Required."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project ID: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
  validation {
    condition     = !startswith(var.project_id, "demo-")
    error_message = "project_id must not start with demo-: the code treats demo-* projects as the local emulators' (not production), see lib/aksio/config.py."
  }
}

variable "region" {
  description = "Region of every regional resource: the functions, their source bucket, the upload bucket, the Cloud Tasks queue, the Scheduler jobs, the Eventarc trigger. A European region: the users' data stays in the EU."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^europe-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a European Google Cloud region, e.g. europe-west1."
  }
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
  description = "Location of the Firestore database; fixed once created (it cannot be moved later). \"eur3\" is the European multi-region (europe-west1 and europe-west4); a single European region (e.g. europe-west1) is cheaper."
  type        = string
  default     = "eur3"

  validation {
    condition     = var.firestore_location == "eur3" || can(regex("^europe-[a-z]+[0-9]+$", var.firestore_location))
    error_message = "firestore_location must be eur3 or a European region (europe-...)."
  }
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
  description = "Firestore point-in-time recovery: any minute of the last 7 days can be read back or restored (billed as storage)."
  type        = bool
  default     = true
}

variable "firestore_backup_retention_days" {
  description = "Days each daily Firestore backup is kept (1-98; Firestore keeps backups at most 14 weeks)."
  type        = number
  default     = 14

  validation {
    condition     = var.firestore_backup_retention_days >= 1 && var.firestore_backup_retention_days <= 98 && floor(var.firestore_backup_retention_days) == var.firestore_backup_retention_days
    error_message = "firestore_backup_retention_days must be a whole number of days from 1 to 98."
  }
}

variable "allowed_origins" {
  description = "Further origins of web clients, e.g. [\"https://app.example.com\"]: CORS of the upload bucket (browser PUTs to signed URLs) and of the HTTP functions (CORS_ORIGINS). The web app's own origin, https://WEB_DOMAIN, is always added (main.tf). Never https://storage.googleapis.com: every public bucket in the world shares that origin. Required."
  type        = list(string)

  validation {
    condition     = length(var.allowed_origins) > 0
    error_message = "allowed_origins needs at least one origin: without it no browser can call the API or upload."
  }
  validation {
    condition     = alltrue([for o in var.allowed_origins : can(regex("^https://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$", o))])
    error_message = "Each of allowed_origins is an https origin without path or trailing slash, lowercase, e.g. https://app.example.com (no wildcard)."
  }
  validation {
    condition     = !anytrue([for o in var.allowed_origins : can(regex("^https://([a-z0-9.-]+\\.)?(storage\\.googleapis\\.com|storage\\.cloud\\.google\\.com)(:[0-9]{1,5})?$", o))])
    error_message = "allowed_origins must not contain Cloud Storage's origin (https://storage.googleapis.com and the like): every public bucket in the world shares it, so any stranger's page there could call the API and read a signed-in user's tokens. Serve the web app on web_domain."
  }
}

variable "web_domain" {
  description = "The operator's hostname the web app is served on, e.g. app.example.com (no scheme, no path): a load balancer with a Google-managed certificate serves https://WEB_DOMAIN (modules/web); point its DNS A record at the output web.ip_address. Its origin is added to allowed_origins and billing_return_origins. Required."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.web_domain)) && length(var.web_domain) <= 253
    error_message = "web_domain must be a lowercase hostname such as app.example.com: no scheme (https://), port, path or trailing dot."
  }
  validation {
    condition     = !can(regex("(^|\\.)(googleapis\\.com|cloudfunctions\\.net|run\\.app|appspot\\.com|firebaseapp\\.com|web\\.app)$", var.web_domain))
    error_message = "web_domain must be a domain of the operator's own, not a Google-shared one (googleapis.com, cloudfunctions.net, run.app, appspot.com, firebaseapp.com, web.app)."
  }
}

variable "firebase_web_api_key" {
  description = "The Firebase web API key (Firebase console, project settings, web app), written to the web app's config.json. Not a secret: a public identifier every browser receives; access is guarded by Firebase Auth and the API's checks. Empty: the web app cannot sign in."
  type        = string
  default     = ""
}

variable "billing_return_origins" {
  description = "Origins Stripe Checkout and the Billing Portal may send the browser back to (BILLING_RETURN_ORIGINS of create-checkout-session and create-portal-session); the first is the default. The web app's origin, https://WEB_DOMAIN, is always added after them (main.tf). Required."
  type        = list(string)

  validation {
    condition     = length(var.billing_return_origins) > 0
    error_message = "billing_return_origins needs at least one origin: checkout and portal answer 500 without it."
  }
  validation {
    condition     = alltrue([for o in var.billing_return_origins : can(regex("^https://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$", o))])
    error_message = "Each of billing_return_origins is an https origin without path or trailing slash, lowercase, e.g. https://app.example.com."
  }
  validation {
    condition     = !anytrue([for o in var.billing_return_origins : can(regex("^https://([a-z0-9.-]+\\.)?(storage\\.googleapis\\.com|storage\\.cloud\\.google\\.com)(:[0-9]{1,5})?$", o))])
    error_message = "billing_return_origins must not contain Cloud Storage's origin (https://storage.googleapis.com and the like): every public bucket in the world shares it, so any stranger's page there could call the API and read a signed-in user's tokens. Serve the web app on web_domain."
  }
}

variable "stripe_prices" {
  description = "Stripe price id of each paid plan, by the environment variable naming it (lib/aksio/plans.py): {STRIPE_PRICE_PRO = \"price_...\"}. Passed to create-checkout-session and stripe-webhook. Required."
  type        = map(string)

  validation {
    condition     = contains(keys(var.stripe_prices), "STRIPE_PRICE_PRO")
    error_message = "stripe_prices must name STRIPE_PRICE_PRO (the Pro plan's price)."
  }
  validation {
    condition     = alltrue([for k, v in var.stripe_prices : can(regex("^STRIPE_PRICE_[A-Z0-9_]+$", k)) && can(regex("^price_[A-Za-z0-9]+$", v))])
    error_message = "stripe_prices maps STRIPE_PRICE_<PLAN> to a Stripe price id (price_...)."
  }
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
  description = "Further non-secret environment variables of every function (model names, timeouts...). A manifest entry's env wins over these. Stripe prices and return origins have their own variables."
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

# --- monitoring (modules/monitoring) ----------------------------------------------------------

variable "alert_notification_channels" {
  description = "Existing Cloud Monitoring notification channels every alert notifies (projects/PROJECT/notificationChannels/ID: email, Slack, PagerDuty...)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.alert_notification_channels : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", c))])
    error_message = "alert_notification_channels entries are projects/PROJECT/notificationChannels/ID."
  }
}

variable "alert_email" {
  description = "An email address alerts go to (an email channel is created for it); empty for none."
  type        = string
  default     = ""

  validation {
    condition     = var.alert_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be an email address, or empty."
  }
}

variable "alert_error_ratio" {
  description = "Share of a function's requests answered 5xx over 5 minutes that opens an incident."
  type        = number
  default     = 0.05

  validation {
    condition     = var.alert_error_ratio > 0 && var.alert_error_ratio < 1
    error_message = "alert_error_ratio is a share between 0 and 1."
  }
}

variable "latency_targets_ms" {
  description = "p95 latency target (ms) by HTTP function, for its latency alert; a function not listed takes the manifest's latency_target_ms, else default_latency_target_ms. review-card's is the product's p95 < 200 ms; chat-reply streams a model's answer."
  type        = map(number)
  default = {
    "health"                  = 500
    "review-card"             = 200
    "study-queue"             = 300
    "cards"                   = 300
    "decks"                   = 500
    "stats"                   = 500
    "notifications"           = 500
    "account"                 = 1000
    "create-upload"           = 1000
    "documents"               = 1000
    "generate-flashcards"     = 1000
    "create-checkout-session" = 3000
    "create-portal-session"   = 3000
    "stripe-webhook"          = 3000
    "chat-reply"              = 30000
  }
}

variable "default_latency_target_ms" {
  description = "p95 latency target (ms) of an HTTP function with none in latency_targets_ms or the manifest."
  type        = number
  default     = 1000
}
