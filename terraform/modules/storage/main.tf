# The private bucket that receives the users' course material. Browsers PUT straight into it
# through V4 signed URLs made by create-upload; nothing is ever public (IAM only, no ACLs).
resource "google_storage_bucket" "uploads" {
  project  = var.project_id
  name     = var.bucket_name
  location = var.location
  labels   = var.labels

  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  # Browser PUTs through signed URLs come from the web app's origins. The signed headers the
  # browser sends (Content-Type, x-goog-content-length-range) must be allowed here too.
  dynamic "cors" {
    for_each = length(var.cors_origins) > 0 ? [1] : []
    content {
      origin          = var.cors_origins
      method          = ["PUT", "GET", "HEAD"]
      response_header = ["Content-Type", "x-goog-content-length-range", "ETag"]
      max_age_seconds = 3600
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

# The functions write document objects (and delete them with the document or the account).
resource "google_storage_bucket_iam_member" "runtime_object_admin" {
  bucket = google_storage_bucket.uploads.name
  role   = "roles/storage.objectAdmin"
  member = var.runtime_member
}
