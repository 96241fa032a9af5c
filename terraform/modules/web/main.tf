# The web app (web/: `npm run build` writes web/dist) as static files in a bucket, served on the
# operator's domain by the load balancer of lb.tf. Cloud Build's `web` step uploads web/dist
# after apply; terraform owns the bucket, its public read and config.json (where the app finds
# the API and Firebase).
resource "google_storage_bucket" "web" {
  #checkov:skip=CKV_GCP_62:The bucket holds only the public static web app (no user data); writes are by the deploy, recorded by Cloud Audit Logs.
  #checkov:skip=CKV_GCP_78:No versioning: every deploy uploads the whole app from git, which is its history.
  #checkov:skip=CKV_GCP_114:Public access prevention is off on purpose: this bucket serves only the public static web app (allUsers objectViewer below).
  project  = var.project_id
  name     = var.bucket_name
  location = var.location
  labels   = var.labels

  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "inherited"
  force_destroy               = true # build output only: the deploy uploads it again

  # A single-page app: the index for the root and for every path it routes itself.
  website {
    main_page_suffix = "index.html"
    not_found_page   = "index.html"
  }
}

# Anyone may read the app's files (and only this bucket's: the upload bucket stays private).
# The load balancer's backend bucket reads them as allUsers. The same files are also reachable
# at https://storage.googleapis.com/BUCKET/..., which is harmless: that origin is not allowed
# by the API or the upload bucket (the root's validations refuse it), and no user signs in
# there, so no token of ours lives in its storage.
resource "google_storage_bucket_iam_member" "public_read" {
  #checkov:skip=CKV_GCP_28:The bucket holds only the public static web app (HTML, JS, CSS and config.json of public identifiers), meant to be read by anyone.
  bucket = google_storage_bucket.web.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

# Where the app finds the API and Firebase Auth; read at start, never cached (a new API or key
# reaches browsers at once). The Firebase web API key is a public identifier, not a secret.
resource "google_storage_bucket_object" "config" {
  bucket        = google_storage_bucket.web.name
  name          = "config.json"
  content_type  = "application/json"
  cache_control = "no-cache"
  content = jsonencode({
    apiBase = "https://${var.functions_region}-${var.project_id}.cloudfunctions.net"
    firebase = {
      apiKey     = var.firebase_api_key
      authDomain = var.firebase_auth_domain != "" ? var.firebase_auth_domain : "${var.project_id}.firebaseapp.com"
      projectId  = var.project_id
    }
  })
}
