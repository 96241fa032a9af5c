variable "project_id" {
  description = "The Google Cloud project ID."
  type        = string
}

variable "create_database" {
  description = "Create the (default) database. False when it already exists (e.g. made in the Firebase console): rules and indexes are then applied to it."
  type        = bool
  default     = true
}

variable "location_id" {
  description = "Location of the database (cannot change once created), e.g. \"eur3\" or \"europe-west1\"."
  type        = string
}

variable "delete_protection" {
  description = "Protect the database against deletion (also by terraform destroy, which then only forgets it)."
  type        = bool
  default     = true
}

variable "point_in_time_recovery" {
  description = "Keep 7 days of versions for point-in-time recovery (billed)."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days each daily backup is kept (at most 14 weeks)."
  type        = number
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 98
    error_message = "backup_retention_days must be from 1 to 98."
  }
}

variable "rules" {
  description = "Content of the Firestore security rules."
  type        = string
}

variable "indexes" {
  description = "The \"indexes\" array of a firestore.indexes.json file: composite and vector indexes."
  type        = any
  default     = []
}

variable "field_overrides" {
  description = "The \"fieldOverrides\" array of a firestore.indexes.json file: single-field index exemptions and TTL policies."
  type        = any
  default     = []
}
