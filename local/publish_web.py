"""Publish the built web app (web/dist) to its bucket: Cloud Build's ``web`` step.

Every file of ``--dist`` is uploaded (``Cache-Control: no-cache``: the names carry no hash, so
browsers revalidate each load and a deploy reaches them at once; ``Content-Type`` from the
extension), then the bucket's objects the build no longer has are deleted, after the upload
so a browser mid-deploy still finds the files its page names. ``config.json`` is terraform's
(``terraform/modules/web``: the API base and Firebase's public identifiers): never uploaded
over, never deleted. The bucket is ``--bucket`` or terraform's output ``web.bucket`` in
``--terraform-outputs`` (``terraform output -json``). Credentials: Application Default
Credentials (Cloud Build's service account); ``STORAGE_EMULATOR_HOST`` for a local emulator.

    .venv/bin/python local/publish_web.py --terraform-outputs build/terraform-outputs.json
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TERRAFORMS = frozenset({"config.json"})  # objects terraform owns in the web bucket
TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".map": "application/json",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
}


def content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def files_of(dist: Path) -> dict[str, Path]:
    """The build's files by object name (paths relative to ``dist``), terraform's left out."""
    found = {p.relative_to(dist).as_posix(): p for p in sorted(dist.rglob("*")) if p.is_file()}
    if "index.html" not in found:
        raise SystemExit(f"{dist}/index.html is missing: build the web app first (make install)")
    return {name: path for name, path in found.items() if name not in TERRAFORMS}


def publish(client: Any, bucket_name: str, dist: Path) -> dict[str, list[str]]:
    """Upload ``dist`` to ``bucket_name`` and delete what it no longer has; what was done."""
    bucket = client.bucket(bucket_name)
    files = files_of(dist)
    for name, path in files.items():
        blob = bucket.blob(name)
        blob.cache_control = "no-cache"
        blob.upload_from_filename(str(path), content_type=content_type(name))
    stale = [b.name for b in client.list_blobs(bucket_name) if b.name not in files and b.name not in TERRAFORMS]
    for name in stale:
        bucket.blob(name).delete()
    return {"uploaded": sorted(files), "deleted": sorted(stale)}


def bucket_from_outputs(path: Path) -> str:
    outputs = json.loads(path.read_text())
    try:
        return str(outputs["web"]["value"]["bucket"])
    except (KeyError, TypeError):
        raise SystemExit(f"{path} has no output web.bucket (terraform/outputs.tf)") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--bucket", help="the web app's bucket")
    where.add_argument("--terraform-outputs", type=Path, help="`terraform output -json` (its web.bucket)")
    parser.add_argument("--dist", type=Path, default=ROOT / "web" / "dist", help="the built app (default web/dist)")
    parser.add_argument("--project", help="the Google Cloud project (default: the credentials')")
    args = parser.parse_args(argv)
    files_of(args.dist)  # the build is there, before any credentials are looked for
    bucket = args.bucket or bucket_from_outputs(args.terraform_outputs)
    from google.cloud import storage

    done = publish(storage.Client(project=args.project), bucket, args.dist)
    print(f"web app: {len(done['uploaded'])} files uploaded, {len(done['deleted'])} stale deleted, gs://{bucket}")
    if args.terraform_outputs:  # where students open it: the load balancer on web_domain
        url = json.loads(args.terraform_outputs.read_text())["web"]["value"].get("url")
        if url:
            print(f"web app: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
