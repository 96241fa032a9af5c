variable "project_id" {
  description = "The Google Cloud project ID."
  type        = string
}

variable "bucket_name" {
  description = "Globally unique name of the upload bucket."
  type        = string
}

variable "location" {
  description = "Location of the upload bucket; a region, so that the Eventarc trigger can live in the same one."
  type        = string
}

variable "cors_origins" {
  description = "Origins allowed to PUT to the bucket through signed URLs (no CORS policy when empty)."
  type        = list(string)
  default     = []
}

variable "iam_members" {
  description = "Bindings on the bucket, keyed function/grant/scope: {role, member}."
  type = map(object({
    role   = string
    member = string
  }))
  default = {}
}

variable "audit_logs" {
  description = "Turn on Data Access audit logs (reads and writes of objects) for Cloud Storage in the project."
  type        = bool
  default     = true
}

variable "labels" {
  description = "Labels of the bucket."
  type        = map(string)
  default     = {}
}
