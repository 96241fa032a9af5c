"""terraform/modules/web, parsed with python-hcl2: the web app's bucket is in the European
region, it is the only public bucket (the upload bucket stays private), and its config.json
points the app at the functions' region with Firebase's public identifiers, never cached.

The app is served on the operator's own domain (var.web_domain) by an HTTPS load balancer
(lb.tf), never from https://storage.googleapis.com, the origin every public bucket shares: HTTPS
only (HTTP only redirects), TLS 1.2+, security headers with a CSP whose connect-src is exactly
what the app calls, and the web origin always allowed by the API and the upload bucket while
Cloud Storage's origin is refused by the variables' validations (their regexes run here)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "local"))

import terraform_iam as tf  # noqa: E402

PUBLIC = {"allUsers", "allAuthenticatedUsers"}


def modules() -> dict[str, Any]:
    return {k: v for block in tf.load(tf.TERRAFORM / "main.tf")["module"] for k, v in block.items()}


def variables(path: Path = tf.TERRAFORM / "variables.tf") -> dict[str, Any]:
    return {k: v for block in tf.load(path)["variable"] for k, v in block.items()}


def test_the_web_bucket_is_in_the_european_region() -> None:
    web = modules()["web"]
    assert web["source"] == "./modules/web"
    assert web["location"] == "${var.region}"
    region = variables()["region"]
    assert region["default"].startswith("europe-")
    assert '"^europe-' in region["validation"][0]["condition"]  # a European region, or plan fails
    bucket = tf.resources()["modules/web:google_storage_bucket.web"]
    assert bucket["location"] == "${var.location}"
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["website"] == [{"main_page_suffix": "index.html", "not_found_page": "index.html"}]


def test_only_the_web_bucket_is_public() -> None:
    resources = tf.resources()
    public_members = {
        address: body
        for address, body in resources.items()
        if "_iam_" in address and any(who in repr(body.get("member")) for who in PUBLIC)
    }
    assert set(public_members) == {"modules/web:google_storage_bucket_iam_member.public_read"}
    grant = public_members["modules/web:google_storage_bucket_iam_member.public_read"]
    assert (grant["bucket"], grant["role"]) == ("${google_storage_bucket.web.name}", "roles/storage.objectViewer")
    buckets = {a: b for a, b in resources.items() if a.split(":")[1].startswith("google_storage_bucket.")}
    assert "modules/storage:google_storage_bucket.uploads" in buckets
    open_to_public = {a for a, b in buckets.items() if b.get("public_access_prevention") != "enforced"}
    # the functions' source bucket is private by IAM (no public member above); the upload
    # bucket enforces it; only the web bucket lets allUsers read
    assert "modules/storage:google_storage_bucket.uploads" not in open_to_public
    assert resources["modules/web:google_storage_bucket.web"]["public_access_prevention"] == "inherited"


def test_config_json_points_at_the_functions_region_and_is_never_cached() -> None:
    config = tf.resources()["modules/web:google_storage_bucket_object.config"]
    assert config["name"] == "config.json"
    assert config["cache_control"] == "no-cache"
    assert config["content_type"] == "application/json"
    content = config["content"]
    api_base = r'apiBase = "https://\$\{var\.functions_region\}-\$\{var\.project_id\}\.cloudfunctions\.net"'
    assert re.search(api_base, content)
    for key in ("apiKey = var.firebase_api_key", "projectId = var.project_id", "authDomain ="):
        assert key in content, key
    # the functions' region is the one the functions are deployed in
    root = modules()
    assert root["web"]["functions_region"] == root["functions"]["region"] == "${var.region}"
    assert root["web"]["firebase_api_key"] == "${var.firebase_web_api_key}"


def test_the_firebase_web_api_key_is_declared_public_not_secret() -> None:
    key = variables()["firebase_web_api_key"]
    assert "not a secret" in key["description"].lower()
    assert key.get("sensitive") is not True
    assert not any("FIREBASE" in s for s in variables()["secret_ids"]["default"])


# --- the load balancer (lb.tf) ------------------------------------------------------------------

WEB = "modules/web"
PROJECT, REGION = "aksio-prod", "europe-west1"
API_ORIGIN = f"https://{REGION}-{PROJECT}.cloudfunctions.net"
FIREBASE_AUTH_HOSTS = {"https://identitytoolkit.googleapis.com", "https://securetoken.googleapis.com"}
STORAGE_ORIGIN = "https://storage.googleapis.com"


def web_locals() -> dict[str, Any]:
    return tf.locals_of(tf.TERRAFORM / "modules" / "web" / "lb.tf")


def render(text: str, values: dict[str, Any]) -> str:
    """Terraform's ${...} interpolations of ``text`` from ``values`` (a reference or a join)."""

    def one(match: re.Match[str]) -> str:
        expr = match.group(1)
        joined = re.fullmatch(r'join\("(.*?)", (local\.\w+)\)', expr)
        if joined:
            return joined.group(1).join(render(str(v), values) for v in values[joined.group(2)])
        return render(str(values[expr]), values)

    return re.sub(r"\$\{((?:[^{}]|\{[^{}]*\})*)\}", one, text)


def csp() -> dict[str, list[str]]:
    """The Content-Security-Policy the load balancer sends, for project aksio-prod in europe-west1."""
    loc = web_locals()
    values: dict[str, Any] = {
        "var.project_id": PROJECT,
        "var.functions_region": REGION,
        "local.api_origin": loc["api_origin"],
        "local.connect_src": loc["connect_src"],
    }
    assert loc["content_security_policy"] == '${join("; ", local.csp_directives)}'
    policy = "; ".join(render(d, values) for d in loc["csp_directives"])
    directives: dict[str, list[str]] = {}
    for directive in policy.split("; "):
        name, *sources = directive.split(" ")
        assert name not in directives, name
        directives[name] = sources
    return directives


def validation_regexes(variable: str) -> list[str]:
    """The regexes of a root variable's validations, as terraform's regex() receives them."""
    found = []
    for rule in variables()[variable]["validation"]:
        for literal in re.findall(r'regex\("((?:[^"\\]|\\.)*)"', rule["condition"]):
            found.append(literal.replace("\\\\", "\\"))
    return found


def test_https_only_with_a_managed_certificate_and_http_redirecting() -> None:
    r = tf.resources()
    https = r[f"{WEB}:google_compute_global_forwarding_rule.https"]
    http = r[f"{WEB}:google_compute_global_forwarding_rule.http_redirect"]
    assert (https["port_range"], http["port_range"]) == ("443", "80")
    assert https["ip_address"] == http["ip_address"] == "${google_compute_global_address.web.id}"
    assert https["load_balancing_scheme"] == http["load_balancing_scheme"] == "EXTERNAL_MANAGED"
    assert https["target"] == "${google_compute_target_https_proxy.web.id}"
    assert http["target"] == "${google_compute_target_http_proxy.redirect.id}"
    proxy = r[f"{WEB}:google_compute_target_https_proxy.web"]
    assert proxy["ssl_certificates"] == ["${google_compute_managed_ssl_certificate.web.id}"]
    assert proxy["url_map"] == "${google_compute_url_map.https.id}"
    cert = r[f"{WEB}:google_compute_managed_ssl_certificate.web"]
    assert cert["managed"] == [{"domains": ["${var.web_domain}"]}]
    # the HTTP side's URL map serves nothing: a default redirect to https, and no backend
    redirect_map = r[f"{WEB}:google_compute_url_map.http_redirect"]
    assert (
        r[f"{WEB}:google_compute_target_http_proxy.redirect"]["url_map"] == "${google_compute_url_map.http_redirect.id}"
    )
    assert redirect_map["default_url_redirect"][0]["https_redirect"] is True
    assert not {"default_service", "host_rule", "path_matcher"} & set(redirect_map)
    # every forwarding rule of the configuration is one of these two
    rules = {a for a in r if ":google_compute_global_forwarding_rule." in a or ":google_compute_forwarding_rule." in a}
    assert rules == {
        f"{WEB}:google_compute_global_forwarding_rule.https",
        f"{WEB}:google_compute_global_forwarding_rule.http_redirect",
    }
    https_map = r[f"{WEB}:google_compute_url_map.https"]
    assert https_map["default_service"] == "${google_compute_backend_bucket.web.id}"


def test_tls_is_1_2_or_later_with_a_restricted_profile() -> None:
    r = tf.resources()
    policy = r[f"{WEB}:google_compute_ssl_policy.web"]
    assert policy["min_tls_version"] == "TLS_1_2"
    assert policy["profile"] in {"MODERN", "RESTRICTED"}
    assert r[f"{WEB}:google_compute_target_https_proxy.web"]["ssl_policy"] == "${google_compute_ssl_policy.web.id}"


def test_the_backend_bucket_caches_by_the_objects_headers_and_sends_security_headers() -> None:
    backend = tf.resources()[f"{WEB}:google_compute_backend_bucket.web"]
    assert backend["bucket_name"] == "${google_storage_bucket.web.name}"
    assert backend["enable_cdn"] is True
    # config.json (terraform) and the app's files (publish_web.py) say no-cache: revalidated
    assert backend["cdn_policy"][0]["cache_mode"] == "USE_ORIGIN_HEADERS"
    assert not {"default_ttl", "max_ttl", "client_ttl"} & set(backend["cdn_policy"][0])
    assert backend["custom_response_headers"] == "${local.security_headers}"
    headers = dict(h.split(": ", 1) for h in web_locals()["security_headers"])
    assert re.fullmatch(r"max-age=(\d+); includeSubDomains", headers["Strict-Transport-Security"])
    assert int(headers["Strict-Transport-Security"].split("=")[1].split(";")[0]) >= 31536000
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] in {"no-referrer", "strict-origin-when-cross-origin", "same-origin"}
    assert headers["Content-Security-Policy"] == "${local.content_security_policy}"


def test_the_csp_allows_only_the_apps_own_scripts_and_exactly_the_hosts_it_calls() -> None:
    policy = csp()
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]  # index.html: <script type="module" src="app.js">
    assert policy["style-src"] == ["'self'"]  # <link rel="stylesheet" href="style.css">
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    connect = set(policy["connect-src"])
    # config.json ('self'), the API, the signed PUT, Firebase Auth's sign-in and token refresh
    assert connect == {"'self'", API_ORIGIN, STORAGE_ORIGIN} | FIREBASE_AUTH_HOSTS
    for sources in policy.values():
        for source in sources:
            assert "*" not in source, source
            assert source not in {"https:", "http:", "data:", "blob:"}, source
            assert "unsafe" not in source, source
    # the API origin is the one config.json gives the app
    config = tf.resources()[f"{WEB}:google_storage_bucket_object.config"]["content"]
    assert 'apiBase = "https://${var.functions_region}-${var.project_id}.cloudfunctions.net"' in config
    assert web_locals()["api_origin"] == "https://${var.functions_region}-${var.project_id}.cloudfunctions.net"


def test_the_web_origin_is_always_allowed_by_the_api_and_the_upload_bucket() -> None:
    root = modules()
    assert root["web"]["web_domain"] == "${var.web_domain}"
    loc = tf.locals_of(tf.TERRAFORM / "main.tf")
    assert loc["web_origin"] == "https://${var.web_domain}"
    assert loc["cors_origins"] == "${distinct(concat([local.web_origin], var.allowed_origins))}"
    assert loc["billing_return_origins"] == "${distinct(concat(var.billing_return_origins, [local.web_origin]))}"
    # CORS_ORIGINS of the HTTP functions, the upload bucket's CORS, Stripe's return origins
    assert root["functions"]["cors_origins"] == "${local.cors_origins}"
    assert root["storage"]["cors_origins"] == "${local.cors_origins}"
    assert root["functions"]["billing_return_origins"] == "${local.billing_return_origins}"
    functions_env = tf.locals_of(tf.TERRAFORM / "modules" / "functions" / "main.tf")["function_env"]
    assert 'CORS_ORIGINS = join(",", var.cors_origins)' in functions_env
    assert 'BILLING_RETURN_ORIGINS = join(",", var.billing_return_origins)' in functions_env
    # the module's origin is the same one
    assert web_locals()["web_origin"] == "https://${var.web_domain}"
    assert "compute.googleapis.com" in loc["services"]  # the load balancer's API


def test_web_domain_is_a_required_hostname_without_scheme() -> None:
    v = variables()["web_domain"]
    assert "default" not in v
    hostname, not_shared = validation_regexes("web_domain")
    good = ["app.example.com", "study.aksio.eu", "a-b.c.example.co.uk"]
    bad = [
        "https://app.example.com",
        "app.example.com/",
        "App.example.com",
        "app.example.com.",
        "localhost:443",
        "app",
        "",
    ]
    assert all(re.search(hostname, d) for d in good)
    assert not any(re.search(hostname, d) for d in bad), [d for d in bad if re.search(hostname, d)]
    for shared in ("storage.googleapis.com", "x.storage.googleapis.com", "p.cloudfunctions.net", "p.web.app"):
        assert re.search(not_shared, shared), shared  # the condition is its negation: refused
    assert not re.search(not_shared, "app.example.com")


def test_cloud_storages_origin_is_refused_everywhere() -> None:
    shared = [STORAGE_ORIGIN, "https://my-bucket.storage.googleapis.com", "https://storage.cloud.google.com"]
    for variable in ("allowed_origins", "billing_return_origins"):
        rules = variables()[variable]["validation"]
        (refusal,) = [r for r in rules if r["condition"].startswith("${!anytrue(")]
        assert f"for o in var.{variable} :" in refusal["condition"]
        (pattern,) = validation_regexes(variable)[1:]
        assert all(re.search(pattern, o) for o in shared), variable
        assert not re.search(pattern, "https://app.example.com")
        assert not re.search(pattern, "https://storage.googleapis.com.example.com")
    # and allowed nowhere: neither the example settings nor any CORS list of the configuration
    example = tf.load(tf.TERRAFORM / "example.tfvars")
    assert STORAGE_ORIGIN not in example["allowed_origins"] + example["billing_return_origins"]
    assert example["web_domain"] == "app.example.com"
    # the one value of the whole configuration that is Cloud Storage's origin: the CSP's
    # connect-src (the browser PUTs uploads there); no origin list, CORS or output has it
    found = [
        (path.relative_to(tf.TERRAFORM).as_posix(), trail)
        for path in tf.tf_files()
        for trail in values_equal_to(tf.load(path), STORAGE_ORIGIN)
    ]
    assert found == [("modules/web/lb.tf", "locals[0].connect_src[2]")]


def values_equal_to(value: Any, wanted: str, trail: str = "") -> list[str]:
    """Where ``wanted`` is a whole string value (or list item) of a parsed file."""
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in values_equal_to(v, wanted, f"{trail}.{k}" if trail else k)]
    if isinstance(value, list):
        return [t for i, v in enumerate(value) for t in values_equal_to(v, wanted, f"{trail}[{i}]")]
    return [trail] if value == wanted else []


def test_outputs_give_the_site_url_and_the_ip_the_dns_record_points_at() -> None:
    outputs = {k: v for block in tf.load(tf.TERRAFORM / "outputs.tf")["output"] for k, v in block.items()}
    web = outputs["web"]["value"]
    assert web["bucket"] == "${module.web.bucket_name}"  # what local/publish_web.py reads
    assert web["url"] == "${module.web.url}"
    assert web["ip_address"] == "${module.web.ip_address}"
    module_outputs = {
        k: v for block in tf.load(tf.TERRAFORM / "modules" / "web" / "outputs.tf")["output"] for k, v in block.items()
    }
    assert module_outputs["url"]["value"] == "${local.web_origin}/"
    assert module_outputs["ip_address"]["value"] == "${google_compute_global_address.web.address}"
    assert "storage.googleapis.com" not in repr(module_outputs) + repr(outputs)


def test_the_local_gateway_sends_the_same_policy_but_for_the_hosts_it_connects_to() -> None:
    """The browser tests run under the gateway's CSP: it must be production's, so a CSP
    violation the deployed app would hit shows up (and fails) in `make test`."""
    import gateway

    settings = {"apiBase": "http://127.0.0.1:8000", "authEmulator": "http://127.0.0.1:9099"}
    local = {
        name: values for name, *values in (d.split() for d in gateway.content_security_policy(settings).split("; "))
    }
    production = csp()
    assert set(local) == set(production)
    assert {k: v for k, v in local.items() if k != "connect-src"} == {
        k: v for k, v in production.items() if k != "connect-src"
    }
    assert local["connect-src"][:2] == ["'self'", "http://127.0.0.1:8000"]
