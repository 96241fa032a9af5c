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

variable "runtime_member" {
  description = "IAM member of the functions' runtime service account."
  type        = string
}

variable "labels" {
  description = "Labels of the bucket."
  type        = map(string)
  default     = {}
}
