# Observability of the Aksio backend: log-based metrics of the business events, alert policies,
# an uptime check on health and one dashboard. Every 2nd gen function is a Cloud Run service of
# the same name, so its requests are run.googleapis.com metrics of resource cloud_run_revision
# with service_name = the function, and its JSON log lines (aksio.log) are jsonPayload fields.

locals {
  # The events the code logs as jsonPayload.event (lib/aksio: extra={"event": NAME}); one
  # counter per event, labelled by function. tests/unit/test_monitoring_hcl.py checks that the
  # code emits each name.
  log_events = {
    card_reviewed      = "Cards reviewed (review-card; an idempotent replay is not counted)"
    cards_generated    = "Generation steps that committed cards (jsonPayload.cards says how many)"
    upload_ready       = "Uploaded documents processed and ready"
    upload_failed      = "Uploaded documents that ended failed (unreadable, too large, page quota)"
    tutor_message      = "Tutor questions answered (chat-reply)"
    checkout_started   = "Stripe Checkout sessions created"
    checkout_completed = "Checkouts completed (the webhook applied checkout.session.completed)"
    generation_failed  = "Generation jobs that failed for good"
    # Logged each time an AI route is refused because AI is off (no key in production; the
    # operator's AI switch logs the same event when it is off).
    ai_disabled = "AI requests refused because AI is off"
  }

  http_functions = { for name, fn in var.functions : name => fn if fn.trigger == "http" }

  # p95 target by HTTP function: the variable's map, else the manifest's, else the default.
  latency_targets_ms = {
    for name, fn in local.http_functions : name => coalesce(lookup(var.latency_targets_ms, name, null), fn.latency_target_ms, var.default_latency_target_ms)
  }

  channels = concat(var.notification_channels, google_monitoring_notification_channel.email[*].name)

  run_requests = "resource.type = \"cloud_run_revision\" AND metric.type = \"run.googleapis.com/request_count\""
  run_latency  = "resource.type = \"cloud_run_revision\" AND metric.type = \"run.googleapis.com/request_latencies\""
  user_metric  = "resource.type = \"cloud_run_revision\" AND metric.type = \"logging.googleapis.com/user"
  runbook      = "Logs: Logs Explorer, resource.type=\"cloud_run_revision\", resource.labels.service_name=FUNCTION; each line carries requestId. Runbook: terraform/README.md#monitoring."
}

# --- notification ----------------------------------------------------------------------------

resource "google_monitoring_notification_channel" "email" {
  count = var.notification_email == "" ? 0 : 1

  project      = var.project_id
  display_name = "${var.prefix} alerts (${var.notification_email})"
  type         = "email"
  labels = {
    email_address = var.notification_email
  }
  user_labels = var.labels
}

# --- log-based metrics -------------------------------------------------------------------------

resource "google_logging_metric" "events" {
  for_each = local.log_events

  project     = var.project_id
  name        = "${var.prefix}_${each.key}"
  description = each.value
  filter      = "resource.type=\"cloud_run_revision\" AND jsonPayload.event=\"${each.key}\""

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "${var.prefix} ${replace(each.key, "_", " ")}"

    labels {
      key         = "function"
      value_type  = "STRING"
      description = "The function that logged the event."
    }
  }

  label_extractors = {
    function = "EXTRACT(resource.labels.service_name)"
  }
}

# How many cards each committed generation step made (the counter above counts the steps).
resource "google_logging_metric" "cards_per_step" {
  project     = var.project_id
  name        = "${var.prefix}_cards_per_step"
  description = "Cards committed by one generation step (jsonPayload.cards of cards_generated)."
  filter      = "resource.type=\"cloud_run_revision\" AND jsonPayload.event=\"cards_generated\""

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "1"
    display_name = "${var.prefix} cards per generation step"
  }

  value_extractor = "EXTRACT(jsonPayload.cards)"

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 8
      growth_factor      = 2
      scale              = 1
    }
  }
}

# --- uptime -------------------------------------------------------------------------------------

resource "google_monitoring_uptime_check_config" "health" {
  project      = var.project_id
  display_name = "${var.prefix} health"
  timeout      = "10s"
  period       = "60s"
  checker_type = "STATIC_IP_CHECKERS"
  user_labels  = var.labels

  http_check {
    path           = var.health_path
    port           = 443
    use_ssl        = true
    validate_ssl   = true
    request_method = "GET"

    accepted_response_status_codes {
      status_class = "STATUS_CLASS_2XX"
    }
  }

  # health answers 200 {"status":"ok",...} only when its Firestore round trip worked.
  content_matchers {
    content = "\"status\":\"ok\""
    matcher = "CONTAINS_STRING"
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = var.health_host
    }
  }
}

resource "google_monitoring_alert_policy" "health_uptime" {
  project               = var.project_id
  display_name          = "${var.prefix} health: uptime check failing"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = local.channels
  user_labels           = var.labels

  conditions {
    display_name = "health failing from more than one checker region"
    condition_threshold {
      filter          = "resource.type = \"uptime_url\" AND metric.type = \"monitoring.googleapis.com/uptime_check/check_passed\" AND metric.labels.check_id = \"${google_monitoring_uptime_check_config.health.uptime_check_id}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 1
      duration        = "120s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_NEXT_OLDER"
        cross_series_reducer = "REDUCE_COUNT_FALSE"
        group_by_fields      = ["resource.label.host"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "`${var.health_path}` on ${var.health_host} does not answer 200 `\"status\":\"ok\"`: the function is down or Firestore does not answer (health reads one document). ${local.runbook}"
  }
}

# --- requests: errors and latency per function -----------------------------------------------

resource "google_monitoring_alert_policy" "error_ratio" {
  for_each = var.functions

  project               = var.project_id
  display_name          = "${var.prefix} ${each.key}: 5xx above ${var.error_ratio_threshold * 100}% of requests"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.channels
  user_labels           = var.labels

  conditions {
    display_name = "${each.key} 5xx / requests over 5 min"
    condition_threshold {
      filter             = "${local.run_requests} AND resource.labels.service_name = \"${each.key}\" AND metric.labels.response_code_class = \"5xx\""
      denominator_filter = "${local.run_requests} AND resource.labels.service_name = \"${each.key}\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.error_ratio_threshold
      duration           = "300s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "${each.key} answers 5xx to more than ${var.error_ratio_threshold * 100}% of its requests (a 503 is a dependency unavailable or contention; a 500 is a bug: the log line `unhandled error` has the stack trace). ${local.runbook}"
  }
}

resource "google_monitoring_alert_policy" "latency_p95" {
  for_each = local.latency_targets_ms

  project               = var.project_id
  display_name          = "${var.prefix} ${each.key}: p95 latency above ${each.value} ms"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = local.channels
  user_labels           = var.labels

  conditions {
    display_name = "${each.key} p95 over 5 min > ${each.value} ms for 15 min"
    condition_threshold {
      filter          = "${local.run_latency} AND resource.labels.service_name = \"${each.key}\""
      comparison      = "COMPARISON_GT"
      threshold_value = each.value
      duration        = "900s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_95"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The 95th percentile of ${each.key}'s request latency stayed above its target of ${each.value} ms for 15 minutes. Look at instance counts (max instances reached?), cold starts and Firestore latency on the dashboard. ${local.runbook}"
  }
}

# --- asynchronous work -------------------------------------------------------------------------

resource "google_monitoring_alert_policy" "tasks_attempts_failing" {
  project               = var.project_id
  display_name          = "${var.prefix} Cloud Tasks: AI job attempts failing"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.channels
  user_labels           = var.labels

  conditions {
    display_name = "task attempts not answered OK, over 10 min"
    condition_threshold {
      filter          = "resource.type = \"cloud_tasks_queue\" AND resource.labels.queue_id = \"${var.tasks_queue}\" AND metric.type = \"cloudtasks.googleapis.com/queue/task_attempt_count\" AND metric.labels.response_code != \"OK\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.tasks_failed_attempts_threshold
      duration        = "0s"

      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.queue_id"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "More than ${var.tasks_failed_attempts_threshold} attempts of queue ${var.tasks_queue} failed in 10 minutes: run-generation answers errors (a step retried: log `step will be retried`; a model down: `generation_failed` events follow). ${local.runbook}"
  }
}

resource "google_monitoring_alert_policy" "webhook_failing" {
  project               = var.project_id
  display_name          = "${var.prefix} stripe-webhook: deliveries failing"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = local.channels
  user_labels           = var.labels

  conditions {
    display_name = "stripe-webhook answers other than 2xx, over 10 min"
    condition_threshold {
      filter          = "${local.run_requests} AND resource.labels.service_name = \"stripe-webhook\" AND metric.labels.response_code_class != \"2xx\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.webhook_failures_threshold
      duration        = "0s"

      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Stripe webhook deliveries are refused: 400 invalid_signature means STRIPE_WEBHOOK_SECRET does not match the endpoint's signing secret (rotate it, both secrets are accepted during a rotation); 5xx is our failure and Stripe retries. Subscriptions are not updated until it is fixed. ${local.runbook}"
  }
}

resource "google_monitoring_alert_policy" "process_upload_failing" {
  project               = var.project_id
  display_name          = "${var.prefix} process-upload: failures"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.channels
  user_labels           = var.labels

  conditions {
    display_name = "process-upload answers 5xx (the event is retried)"
    condition_threshold {
      filter          = "${local.run_requests} AND resource.labels.service_name = \"process-upload\" AND metric.labels.response_code_class = \"5xx\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "600s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  conditions {
    display_name = "uploads ending failed, over 1 h"
    condition_threshold {
      filter          = "${local.user_metric}/${google_logging_metric.events["upload_failed"].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.upload_failures_threshold
      duration        = "0s"

      aggregations {
        alignment_period     = "3600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "process-upload keeps failing (log `event failed, it will be retried`, with the exception type) or many uploads end failed (`upload_failed` events carry the reason code). ${local.runbook}"
  }
}

resource "google_monitoring_alert_policy" "ai_disabled" {
  project               = var.project_id
  display_name          = "${var.prefix} AI is off"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = local.channels
  user_labels           = var.labels

  conditions {
    display_name = "ai_disabled events logged"
    condition_threshold {
      filter          = "${local.user_metric}/${google_logging_metric.events["ai_disabled"].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "AI routes answer 503 ai_unavailable: OPENAI_API_KEY has no version (or is unreadable), or the operator's AI switch is off. Flashcard generation, the tutor and embeddings stop; studying continues. ${local.runbook}"
  }
}

# --- dashboard ----------------------------------------------------------------------------------

resource "google_monitoring_dashboard" "aksio" {
  project = var.project_id
  dashboard_json = templatefile("${path.module}/dashboard.json.tftpl", {
    prefix          = var.prefix
    queue           = var.tasks_queue
    uptime_check_id = google_monitoring_uptime_check_config.health.uptime_check_id
  })

  depends_on = [google_logging_metric.events, google_logging_metric.cards_per_step]
}
