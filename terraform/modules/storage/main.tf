locals {
  # The CORS rule of the bucket (methods, headers, max age); the origins are var.cors_origins.
  cors = jsondecode(file("${path.module}/cors.json"))
}

# The private bucket that receives the users' course material. Browsers PUT straight into it
# through V4 signed URLs made by create-upload; nothing is ever public (IAM only, no ACLs).
resource "google_storage_bucket" "uploads" {
  #checkov:skip=CKV_GCP_62:Access is logged by Cloud Audit Logs (DATA_READ/DATA_WRITE for storage.googleapis.com, below), not by legacy usage logs into another bucket.
  #checkov:skip=CKV_GCP_78:No versioning on purpose: deleting a document or an account must erase the file (no noncurrent copy left behind), and objects are never overwritten (signed PUTs carry x-goog-if-generation-match: 0; uploaders hold objectCreator, which cannot replace an object). The extracted text lives in Firestore, which has point-in-time recovery and daily backups.
  project  = var.project_id
  name     = var.bucket_name
  location = var.location
  labels   = var.labels

  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  # Browser PUTs through signed URLs come from the web app's origins. Every header the signed
  # PUT makes the browser send (Content-Type, x-goog-content-length-range,
  # x-goog-if-generation-match) must be listed: GCS refuses a preflight asking for another.
  # The rule is cors.json, which the local storage (local/storage_cors.py) applies too.
  dynamic "cors" {
    for_each = length(var.cors_origins) > 0 ? [local.cors] : []
    content {
      origin          = var.cors_origins
      method          = cors.value.method
      response_header = cors.value.responseHeader
      max_age_seconds = cors.value.maxAgeSeconds
    }
  }

  # Parts of multipart uploads that were never completed cost storage and serve no one.
  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  # Account exports (exports/{uid}/{id}.zip, made by account-jobs) are deleted 7 days after
  # they were written; the export's record says "expired" from then on.
  lifecycle_rule {
    condition {
      age            = 7
      matches_prefix = ["exports/"]
    }
    action {
      type = "Delete"
    }
  }
}

# Each function that creates, reads or deletes uploads gets exactly that on this bucket (the
# grants uploads_create, uploads_read and uploads_delete of functions/functions.json).
resource "google_storage_bucket_iam_member" "this" {
  for_each = var.iam_members

  bucket = google_storage_bucket.uploads.name
  role   = each.value.role
  member = each.value.member
}

# Who read, wrote or deleted which object, in Cloud Logging (the buckets' access log).
resource "google_project_iam_audit_config" "storage" {
  count = var.audit_logs ? 1 : 0

  project = var.project_id
  service = "storage.googleapis.com"

  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}
