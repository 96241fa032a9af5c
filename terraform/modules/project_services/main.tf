# Enables every Google API the backend uses. APIs are left enabled on destroy: disabling an API
# can break resources that Terraform does not manage (and other projects' work in the same project).
resource "google_project_service" "this" {
  for_each = toset(var.services)

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
