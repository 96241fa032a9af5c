# Every production setting of an Aksio deployment. Copy it (e.g. to production.tfvars, which
# git ignores), fill in your values and apply with -var-file. project_id, web_domain,
# allowed_origins, billing_return_origins and stripe_prices are required: a missing or
# malformed one stops `terraform plan` with a message.

project_id = "aksio-prod"

# The operator's hostname of the web app (no scheme): served by an HTTPS load balancer; point
# its DNS A record at the output web.ip_address. Its origin (https://app.example.com) is added
# to allowed_origins and billing_return_origins by main.tf.
web_domain = "app.example.com"

# Further origins of web clients: CORS of the HTTP functions and of the upload bucket (https, no
# path). Never https://storage.googleapis.com (shared by every public bucket: refused).
allowed_origins = ["https://app.example.com"]

# The Firebase web API key of the web app's config.json: a public identifier, not a secret.
firebase_web_api_key = "AIzaSyExample-public-web-api-key"

# Where Stripe Checkout and the Billing Portal may send the browser back to; the first is the default.
billing_return_origins = ["https://app.example.com"]

# The Stripe price of each paid plan, by the variable naming it (lib/aksio/plans.py).
stripe_prices = {
  STRIPE_PRICE_PRO = "price_1ExampleExampleExample"
}

# Defaults, shown for reference: European region and Firestore location (fixed once created).
region                           = "europe-west1"
firestore_location               = "eur3"
firestore_point_in_time_recovery = true
firestore_backup_retention_days  = 14
