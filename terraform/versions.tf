terraform {
  required_version = ">= 1.6"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.7"
    }
  }

  # State lives in a GCS bucket created once by hand (see README.md). The bucket and prefix
  # are given at init time: terraform init -backend-config=bucket=... -backend-config=prefix=...
  backend "gcs" {}
}
