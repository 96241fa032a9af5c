# The web app on the operator's own domain: a global external Application Load Balancer in
# front of the bucket. Never on https://storage.googleapis.com: that origin is shared by every
# public bucket in the world, so it must be neither an allowed CORS origin of the API nor the
# origin under which Firebase Auth keeps the user's tokens (IndexedDB is per origin).
#
#   https://WEB_DOMAIN  -> forwarding rule :443 -> HTTPS proxy (managed certificate, TLS 1.2+
#                          RESTRICTED policy) -> URL map -> backend bucket (Cloud CDN, security
#                          headers) -> the web bucket
#   http://WEB_DOMAIN   -> forwarding rule :80  -> HTTP proxy -> URL map that only redirects to https

locals {
  web_origin = "https://${var.web_domain}"
  api_origin = "https://${var.functions_region}-${var.project_id}.cloudfunctions.net"

  # Everything the app's own code connects to (web/src): config.json ('self'), the API (fetch,
  # streamed answers), the signed upload PUT (XMLHttpRequest to the path-style V4 URL on
  # storage.googleapis.com), and Firebase Auth's REST endpoints as the JS SDK calls them for
  # email/password (identitytoolkit: signUp, signInWithPassword, lookup, sendOobCode) and for
  # refreshing the ID token (securetoken: /v1/token). No wildcard.
  connect_src = [
    "'self'",
    local.api_origin,
    "https://storage.googleapis.com",
    "https://identitytoolkit.googleapis.com",
    "https://securetoken.googleapis.com",
  ]

  # The app is one module script (app.js) and one stylesheet (style.css) of its own origin: no
  # inline script or style, nothing from another host, never framed, no plugins.
  csp_directives = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "connect-src ${join(" ", local.connect_src)}",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    "frame-ancestors 'none'",
  ]
  content_security_policy = join("; ", local.csp_directives)

  security_headers = [
    "Strict-Transport-Security: max-age=31536000; includeSubDomains",
    "Content-Security-Policy: ${local.content_security_policy}",
    "X-Content-Type-Options: nosniff",
    "X-Frame-Options: DENY",
    "Referrer-Policy: strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy: same-origin",
    "Permissions-Policy: camera=(), microphone=(), geolocation=(), payment=()",
  ]
}

# The bucket behind the load balancer. Cloud CDN caches by the objects' own Cache-Control
# (USE_ORIGIN_HEADERS): index.html, app.js, style.css (local/publish_web.py) and config.json
# (main.tf) are uploaded with no-cache, so every load revalidates them and a deploy reaches
# browsers at once; a file uploaded with a long max-age (a hashed, immutable asset) is cached.
resource "google_compute_backend_bucket" "web" {
  project     = var.project_id
  name        = "${var.name}-bucket"
  description = "The web app's bucket (${google_storage_bucket.web.name}) behind ${var.web_domain}."
  bucket_name = google_storage_bucket.web.name

  enable_cdn       = true
  compression_mode = "AUTOMATIC"

  cdn_policy {
    cache_mode        = "USE_ORIGIN_HEADERS"
    negative_caching  = false # a 404 during a deploy must not stick
    serve_while_stale = 0
  }

  custom_response_headers = local.security_headers
}

resource "google_compute_url_map" "https" {
  project         = var.project_id
  name            = "${var.name}-https"
  description     = "Every path of ${var.web_domain} to the web app's bucket."
  default_service = google_compute_backend_bucket.web.id
}

# Google-managed certificate for the operator's domain; it becomes ACTIVE once the domain's A
# record points at the address below. A new domain makes a new certificate (the name carries a
# hash of it) before the old one is let go.
resource "google_compute_managed_ssl_certificate" "web" {
  project = var.project_id
  name    = "${var.name}-${substr(sha256(var.web_domain), 0, 8)}"

  managed {
    domains = [var.web_domain]
  }

  lifecycle {
    create_before_destroy = true
  }
}

# TLS 1.2 or later with the RESTRICTED profile's ciphers only (forward secrecy, AEAD).
resource "google_compute_ssl_policy" "web" {
  project         = var.project_id
  name            = "${var.name}-tls"
  description     = "TLS 1.2+ and the RESTRICTED profile's cipher suites for ${var.web_domain}."
  min_tls_version = "TLS_1_2"
  profile         = "RESTRICTED"
}

resource "google_compute_target_https_proxy" "web" {
  project          = var.project_id
  name             = "${var.name}-https"
  url_map          = google_compute_url_map.https.id
  ssl_certificates = [google_compute_managed_ssl_certificate.web.id]
  ssl_policy       = google_compute_ssl_policy.web.id
}

# The one public address of the site: the DNS A record of var.web_domain (output ip_address).
resource "google_compute_global_address" "web" {
  project      = var.project_id
  name         = "${var.name}-ip"
  description  = "Address of ${var.web_domain} (its DNS A record)."
  address_type = "EXTERNAL"
  ip_version   = "IPV4"
}

resource "google_compute_global_forwarding_rule" "https" {
  project               = var.project_id
  name                  = "${var.name}-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_protocol           = "TCP"
  ip_address            = google_compute_global_address.web.id
  port_range            = "443"
  target                = google_compute_target_https_proxy.web.id
  labels                = var.labels
}

# Plain HTTP serves nothing: every request is redirected to https (301), path and query kept.
resource "google_compute_url_map" "http_redirect" {
  project     = var.project_id
  name        = "${var.name}-http-redirect"
  description = "http://${var.web_domain} only redirects to https."

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "redirect" {
  project = var.project_id
  name    = "${var.name}-http-redirect"
  url_map = google_compute_url_map.http_redirect.id
}

resource "google_compute_global_forwarding_rule" "http_redirect" {
  project               = var.project_id
  name                  = "${var.name}-http-redirect"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_protocol           = "TCP"
  ip_address            = google_compute_global_address.web.id
  port_range            = "80"
  target                = google_compute_target_http_proxy.redirect.id
  labels                = var.labels
}
