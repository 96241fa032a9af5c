variable "project_id" {
  description = "The Google Cloud project ID."
  type        = string
}

variable "services" {
  description = "The APIs to enable, e.g. \"run.googleapis.com\"."
  type        = list(string)
}
