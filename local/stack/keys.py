"""Local signing keys the stack makes once per local directory (``<local dir>/keys``, mode 600).

- ``upload-signer.json``: a service-account key file (the shape Google's are) of
  :data:`UPLOAD_SIGNER`; create-upload signs V4 URLs with it locally
  (``STORAGE_SIGNER_KEY_FILE``), and the storage front checks them with
  ``upload-signer.pem``, its public key, as GCS checks a URL with the account's public keys.

The key stays across restarts (URLs signed before a restart still verify); delete the folder
for a new one. ``cryptography`` is imported here only, when a key is made.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .settings import PROJECT

UPLOAD_SIGNER = f"local-upload-signer@{PROJECT}.iam.gserviceaccount.com"


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    tmp.replace(path)


def upload_signer(directory: Path) -> tuple[Path, Path]:
    """The upload signer's key file and public key PEM under ``directory``, made if missing."""
    key_file, public = directory / "upload-signer.json", directory / "upload-signer.pem"
    if key_file.exists() and public.exists():
        return key_file, public
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    info = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "local-upload-signer",
        "private_key": pem.decode(),
        "client_email": UPLOAD_SIGNER,
        "client_id": "0",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    _write(key_file, json.dumps(info, indent=2).encode())
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    _write(public, pub)
    return key_file, public


def upload_signer_paths(directory: Path) -> tuple[Path, Path]:
    """Where :func:`upload_signer` keeps the key file and the public key (nothing is made)."""
    return directory / "upload-signer.json", directory / "upload-signer.pem"
