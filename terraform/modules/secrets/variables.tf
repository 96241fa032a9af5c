variable "project_id" {
  description = "The Google Cloud project ID."
  type        = string
}

variable "location" {
  description = "The one region the secrets' payloads are stored in."
  type        = string
}

variable "secret_ids" {
  description = "IDs of the secrets to create; each is also the name of the environment variable it is mounted as."
  type        = list(string)

  validation {
    condition     = alltrue([for id in var.secret_ids : can(regex("^[A-Za-z_][A-Za-z0-9_]{0,254}$", id))])
    error_message = "Secret IDs must be valid environment variable names (letters, digits, underscores)."
  }
}

variable "accessors" {
  description = "Who may read which secret, keyed function/secret: {secret, member} (the function's service account)."
  type = map(object({
    secret = string
    member = string
  }))
  default = {}

  validation {
    condition     = alltrue([for a in values(var.accessors) : contains(var.secret_ids, a.secret)])
    error_message = "An accessor names a secret that is not in secret_ids."
  }
}

variable "labels" {
  description = "Labels of the secrets."
  type        = map(string)
  default     = {}
}
