variable "project_id" {
  description = "The Google Cloud project ID."
  type        = string
}

variable "prefix" {
  description = "Prefix of the service account IDs (each ID must stay within 30 characters)."
  type        = string
}

variable "functions" {
  description = "The function manifest (functions/functions.json): each function's grants and secrets."
  type = map(object({
    grants  = optional(list(string), [])
    secrets = optional(list(string), [])
  }))
}
