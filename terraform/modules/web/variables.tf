variable "project_id" {
  description = "The Google Cloud (and Firebase) project ID."
  type        = string
}

variable "name" {
  description = "Prefix of the load balancer's resource names (e.g. aksio-web)."
  type        = string
}

variable "web_domain" {
  description = "The operator's hostname the app is served on (https://WEB_DOMAIN), e.g. app.example.com."
  type        = string
}

variable "bucket_name" {
  description = "Globally unique name of the web app's bucket."
  type        = string
}

variable "location" {
  description = "Location of the web app's bucket (the root's region: European)."
  type        = string
}

variable "functions_region" {
  description = "Region of the functions: config.json's apiBase is https://REGION-PROJECT.cloudfunctions.net."
  type        = string
}

variable "firebase_api_key" {
  description = "The Firebase web API key, written to config.json. Not a secret: a public identifier of the project that every browser receives."
  type        = string
  default     = ""
}

variable "firebase_auth_domain" {
  description = "Firebase Auth's domain for the web SDK; empty for PROJECT.firebaseapp.com."
  type        = string
  default     = ""
}

variable "labels" {
  description = "Labels of the bucket."
  type        = map(string)
  default     = {}
}
