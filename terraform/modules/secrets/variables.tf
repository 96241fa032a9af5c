variable "project_id" {
  description = "The Google Cloud project ID."
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

variable "accessor_member" {
  description = "IAM member (the functions' runtime service account) granted access to every secret."
  type        = string
}

variable "labels" {
  description = "Labels of the secrets."
  type        = map(string)
  default     = {}
}
