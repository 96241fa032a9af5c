variable "project_id" {
  description = "The Google Cloud project ID."
  type        = string
}

variable "prefix" {
  description = "Prefix of the service account IDs (each ID must stay within 30 characters)."
  type        = string
}

variable "runtime_project_roles" {
  description = "Project-level roles of the functions' runtime service account."
  type        = list(string)
}
