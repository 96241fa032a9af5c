output "bucket_name" {
  description = "Name of the web app's bucket (Cloud Build's web step uploads web/dist to it)."
  value       = google_storage_bucket.web.name
}

output "origin" {
  description = "The web app's origin, https://WEB_DOMAIN (allowed by the API and the upload bucket)."
  value       = local.web_origin
}

output "url" {
  description = "The web app's address: its own domain, served by the load balancer."
  value       = "${local.web_origin}/"
}

output "ip_address" {
  description = "The load balancer's IPv4 address: the DNS A record of WEB_DOMAIN must point at it."
  value       = google_compute_global_address.web.address
}

output "certificate" {
  description = "Name of the managed certificate (ACTIVE once the A record resolves to ip_address)."
  value       = google_compute_managed_ssl_certificate.web.name
}

output "content_security_policy" {
  description = "The Content-Security-Policy the load balancer sends with every file of the app."
  value       = local.content_security_policy
}
