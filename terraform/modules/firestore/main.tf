# The Firestore database (native mode), its security rules (deny all: clients never touch
# Firestore, the functions use the Admin SDK) and the indexes the functions' queries need.
resource "google_firestore_database" "this" {
  count = var.create_database ? 1 : 0

  project                           = var.project_id
  name                              = "(default)"
  location_id                       = var.location_id
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = var.point_in_time_recovery ? "POINT_IN_TIME_RECOVERY_ENABLED" : "POINT_IN_TIME_RECOVERY_DISABLED"
  delete_protection_state           = var.delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy                   = var.delete_protection ? "ABANDON" : "DELETE"
}

# A backup of the whole database every day, each kept backup_retention_days (restore: README.md).
resource "google_firestore_backup_schedule" "daily" {
  project   = var.project_id
  database  = local.database
  retention = "${var.backup_retention_days * 86400}s"

  daily_recurrence {}
}

locals {
  database = var.create_database ? google_firestore_database.this[0].name : "(default)"

  # Entries of a firestore.indexes.json file (the Firebase CLI's format), keyed by what they index.
  indexes = {
    for index in var.indexes :
    "${index.collectionGroup}:${try(index.queryScope, "COLLECTION")}:${join(",", [for field in index.fields : field.fieldPath])}" => index
  }
  field_overrides = {
    for override in var.field_overrides : "${override.collectionGroup}:${override.fieldPath}" => override
  }
}

resource "google_firebaserules_ruleset" "firestore" {
  project = var.project_id

  source {
    files {
      name    = "firestore.rules"
      content = var.rules
    }
  }

  depends_on = [google_firestore_database.this]
}

# A new ruleset (changed rules) replaces the release, which can only point at an existing ruleset.
resource "google_firebaserules_release" "firestore" {
  project      = var.project_id
  name         = "cloud.firestore"
  ruleset_name = "projects/${var.project_id}/rulesets/${google_firebaserules_ruleset.firestore.name}"

  lifecycle {
    replace_triggered_by = [google_firebaserules_ruleset.firestore]
  }
}

resource "google_firestore_index" "this" {
  for_each = local.indexes

  project     = var.project_id
  database    = local.database
  collection  = each.value.collectionGroup
  query_scope = try(each.value.queryScope, "COLLECTION")

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path   = fields.value.fieldPath
      order        = try(fields.value.order, null)
      array_config = try(fields.value.arrayConfig, null)

      dynamic "vector_config" {
        for_each = can(fields.value.vectorConfig) ? [fields.value.vectorConfig] : []
        content {
          dimension = vector_config.value.dimension
          flat {}
        }
      }
    }
  }
}

# Single-field overrides: "indexes": [] exempts a large field (chunk text, embeddings) from
# automatic indexing; "ttl": true lets Firestore delete documents once that timestamp has passed.
resource "google_firestore_field" "this" {
  for_each = local.field_overrides

  project    = var.project_id
  database   = local.database
  collection = each.value.collectionGroup
  field      = each.value.fieldPath

  dynamic "index_config" {
    for_each = can(each.value.indexes) ? [each.value.indexes] : []
    content {
      dynamic "indexes" {
        for_each = index_config.value
        content {
          query_scope  = try(indexes.value.queryScope, null)
          order        = try(indexes.value.order, null)
          array_config = try(indexes.value.arrayConfig, null)
        }
      }
    }
  }

  dynamic "ttl_config" {
    for_each = try(each.value.ttl, false) ? [1] : []
    content {}
  }
}
