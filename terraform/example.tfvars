# Every production setting of an Aksio deployment. Copy it (e.g. to production.tfvars, which
# git ignores), fill in your values and apply with -var-file. The first four are required: a
# missing or malformed one stops `terraform plan` with a message.

project_id = "aksio-prod"

# Origins of the web app: CORS of the HTTP functions and of the upload bucket (https, no path).
allowed_origins = ["https://app.example.com"]

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
