"""The run manifests as one chain: each names the hash of the one before, the newest is the head.

A manifest lists its files with their sha256, so changing any published byte means changing a
manifest. Chaining makes that visible too: each manifest records ``previous`` (the
:func:`manifest_sha256` of the run published before it) and ``files_sha256`` (one hash over
its files' hashes), and ``runs/HEAD`` names the newest manifest. Editing a manifest breaks
the link from the next run (or the head); removing the newest run leaves the head pointing at
nothing; removing one in the middle leaves a link pointing at nothing.

What the archive's writers could still do is rewrite the whole chain and the head. Two things
outside their reach catch that: the head hash an auditor kept (``verify`` prints it;
``verify --expect-head``), and manifests signed with the operator's ed25519 key
(``verify --key``), which a writer without the key cannot produce. docs/verify.md says what
each proves.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

from thresher.storage import Store

HEAD = "runs/HEAD"  # not *.json: it is not a manifest
SIGNING_KEY_ENV = "THRESHER_SIGNING_KEY"  # path of the operator's ed25519 private key (PEM)


def canonical_json(data: object) -> bytes:
    """The one byte form of plain data that is hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def manifest_sha256(manifest: dict) -> str:
    """A manifest's identity in the chain: sha256 of its canonical JSON without its signature
    (the signature is over this hash, so it cannot be part of it). Independent of how the file
    is indented, so only a change of content changes it."""
    return hashlib.sha256(canonical_json({k: v for k, v in manifest.items() if k != "signature"})).hexdigest()


def files_sha256(files: list[dict]) -> str:
    """One hash over a run's files (path, rows, sha256), in path order."""
    lines = "".join(f"{f['path']}\t{f['rows']}\t{f['sha256']}\n" for f in sorted(files, key=lambda f: f["path"]))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def link(manifest: dict, previous: dict | None, signing_key: object | None = None) -> dict:
    """``manifest`` with its place in the chain (after ``previous``, the newest published
    manifest, or first) and, given the operator's key, its signature."""
    sealed = {**manifest, "chain": {
        "previous": manifest_sha256(previous) if previous else None,
        "previous_run": previous["run_id"] if previous else None,
        "files_sha256": files_sha256(manifest["files"]),
    }}
    if signing_key is not None:
        sealed["signature"] = sign(manifest_sha256(sealed), signing_key)
    return sealed


def write_head(out_dir: str | os.PathLike, manifest: dict, runs: int) -> dict:
    """Point ``runs/HEAD`` at ``manifest``, the newest of ``runs`` published runs. Written after
    the manifest: a publish killed in between leaves the head one run behind, which ``verify``
    reports as a warning and the next run's recovery moves forward."""
    head = {"run_id": manifest["run_id"], "manifest_sha256": manifest_sha256(manifest), "runs": runs}
    Store(out_dir).write_atomic(HEAD, canonical_json(head) + b"\n")
    return head


def read_head(out_dir: str | os.PathLike) -> dict | None:
    """The head as written, or None when there is none (an archive from before the chain)."""
    store = Store(out_dir)
    if not store.isfile(HEAD):
        return None
    try:
        head = json.loads(store.read_bytes(HEAD).decode("utf-8"))
    except ValueError:
        return {"unreadable": True}
    return head if isinstance(head, dict) else {"unreadable": True}


def catch_up_head(out_dir: str | os.PathLike, manifests: list[dict]) -> bool:
    """After a publish killed between manifest and head: move the head to the newest chained
    manifest when that one extends the chain from the current head. True if it moved."""
    if not manifests or "chain" not in manifests[-1]:
        return False
    head = read_head(out_dir)
    newest = manifests[-1]
    if head is not None and head.get("manifest_sha256") == manifest_sha256(newest):
        return False
    by_hash = {manifest_sha256(m): m for m in manifests}
    walk, seen = newest, 0
    while walk is not None and seen <= len(manifests):  # does the newest descend from the head?
        previous = walk.get("chain", {}).get("previous")
        if head is None or previous == head.get("manifest_sha256"):
            write_head(out_dir, newest, len(manifests))
            return True
        walk, seen = by_hash.get(previous), seen + 1
    return False


# --- signatures ------------------------------------------------------------------------------


def load_signing_key(path: str | os.PathLike):
    """The operator's ed25519 private key from a PEM file (``thresher keygen`` or
    ``openssl genpkey -algorithm ed25519``). Raises ValueError if it is not one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    with open(path, "rb") as fh:
        key = serialization.load_pem_private_key(fh.read(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an ed25519 private key")
    return key


def write_key_pair(path: str | os.PathLike) -> str:
    """A new ed25519 key pair: the private key to ``path`` (PEM, readable by its owner only,
    never overwritten), the public key to ``path.pub``; returns the public key (hex)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # FileExistsError: keep the old key
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    with open(f"{os.fspath(path)}.pub", "w", encoding="ascii") as fh:
        fh.write(public_key_hex(key) + "\n")
    return public_key_hex(key)


def signing_key_from_env():
    """The key named by ``THRESHER_SIGNING_KEY``, or None: how a deployment's workers get it
    without it passing through Prefect's parameters (which are stored in its database)."""
    path = os.environ.get(SIGNING_KEY_ENV)
    return load_signing_key(path) if path else None


def public_key_hex(private_key) -> str:
    """The 32-byte public key of a private key, in hex: what ``verify --key`` is given."""
    from cryptography.hazmat.primitives import serialization

    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def read_public_key(value: str) -> str:
    """A public key given as 64 hex characters, or as a file holding them or a PEM public key;
    returned as hex. Raises ValueError otherwise."""
    text = value.strip()
    if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text):
        return text.lower()
    try:
        with open(value, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ValueError(f"{value!r}: neither a 64-hex-character public key nor a readable file ({exc})") from exc
    if data.strip().startswith(b"-----BEGIN"):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        key = serialization.load_pem_public_key(data)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"{value}: not an ed25519 public key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    return read_public_key(data.decode("ascii", "replace").strip()) if len(data.strip()) == 64 else _bad_key(value)


def _bad_key(value: str) -> str:
    raise ValueError(f"{value}: not an ed25519 public key (64 hex characters or PEM)")


def sign(digest: str, private_key) -> dict:
    """An ed25519 signature of a manifest's hash (its hex digest, as ASCII bytes)."""
    return {"algorithm": "ed25519", "public_key": public_key_hex(private_key),
            "value": private_key.sign(digest.encode("ascii")).hex()}


def signature_valid(manifest: dict, public_key: str | None = None) -> bool:
    """True when ``manifest`` carries a valid ed25519 signature of its hash, by ``public_key``
    (hex) when given, else by the key it names (which proves only that it was not edited
    after signing, not who signed it)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    sig = manifest.get("signature")
    if not isinstance(sig, dict) or sig.get("algorithm") != "ed25519":
        return False
    key = public_key or sig.get("public_key")
    if public_key and sig.get("public_key") != public_key:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(key)).verify(bytes.fromhex(sig["value"]),
                                                                      manifest_sha256(manifest).encode("ascii"))
    except (InvalidSignature, ValueError, TypeError, KeyError):
        return False
    return True


# --- checking the chain ----------------------------------------------------------------------


@dataclass
class ChainCheck:
    """What the chain says: problems (errors), notes (warnings), and its head for the auditor."""

    errors: list[str]
    warnings: list[str]
    head: dict | None
    order: list[dict]  # the manifests in chain order, oldest first (legacy ones before)


def check_chain(out_dir: str | os.PathLike, manifests: list[dict], public_key: str | None = None,
                expect_head: str | None = None) -> ChainCheck:
    """Check that the manifests form one unbroken chain ending at ``runs/HEAD``; each problem
    names the run. ``public_key``: every chained manifest must be signed with it.
    ``expect_head``: a head hash kept earlier, which must still be on the chain."""
    errors: list[str] = []
    warnings: list[str] = []
    hashes = {id(m): manifest_sha256(m) for m in manifests}
    by_hash = {hashes[id(m)]: m for m in manifests}
    chained = [m for m in manifests if "chain" in m]
    legacy = [m for m in manifests if "chain" not in m]
    if legacy:
        warnings.append(f"{len(legacy)} run(s) published before manifests were chained "
                        f"({legacy[0]['run_id']} … {legacy[-1]['run_id']}): an edit of those is not detectable")
    followers: dict[str | None, list[dict]] = {}
    for m in chained:
        chain = m["chain"]
        if chain.get("files_sha256") != files_sha256(m.get("files", [])):
            errors.append(f"run {m['run_id']}: its files list does not hash to the chain's files_sha256 (manifest edited)")
        previous = chain.get("previous")
        followers.setdefault(previous, []).append(m)
        if previous is not None and previous not in by_hash:
            errors.append(f"run {m['run_id']}: the run before it ({chain.get('previous_run')}, manifest {previous[:16]}…) "
                          "is not in the archive: a run was removed, or its manifest changed")
        if "signature" in m and not signature_valid(m):
            errors.append(f"run {m['run_id']}: its signature does not match its manifest (manifest edited after signing)")
        if public_key and not signature_valid(m, public_key):
            errors.append(f"run {m['run_id']}: not signed with the operator's key {public_key[:16]}…"
                          + ("" if "signature" in m else " (unsigned)"))
    for previous, after in followers.items():
        if len(after) > 1:
            errors.append(f"runs {', '.join(m['run_id'] for m in after)} all follow "
                          f"{'no run' if previous is None else by_hash.get(previous, {}).get('run_id', previous[:16])}: the chain forks")
    head = read_head(out_dir)
    order: list[dict] = list(legacy)
    if chained:
        first_only = len(chained) == 1 and chained[0]["chain"].get("previous") is None
        if head is None and first_only:
            # the archive's first publish killed between its manifest and its head: nothing can
            # have been removed after a run that has no successor; the next run writes the head
            warnings.append(f"{HEAD} is missing: the first run's publish was interrupted before it wrote the head "
                            "(the next run writes it)")
            head = {"run_id": chained[0]["run_id"], "manifest_sha256": hashes[id(chained[0])]}
        elif head is None:
            errors.append(f"{HEAD} is missing: nothing shows which run is the newest (runs after it may be removed)")
        elif head.get("unreadable"):
            errors.append(f"{HEAD} is not readable JSON")
            head = None
        if head is not None and head.get("manifest_sha256") not in by_hash:
            errors.append(f"the chain's head names run {head.get('run_id')} (manifest {str(head.get('manifest_sha256'))[:16]}…), "
                          "which is not in the archive: the newest run was removed, or its manifest changed")
        tip = head["manifest_sha256"] if head is not None and head.get("manifest_sha256") in by_hash else None
        # runs published after the head was written: a publish killed before it moved the head
        while tip is not None and len(followers.get(tip, [])) == 1:
            late = followers[tip][0]
            warnings.append(f"run {late['run_id']} follows the head {HEAD} names (a publish interrupted before the head "
                            "moved; the next run moves it)")
            tip = hashes[id(late)]
        walk, on_chain = tip, []
        while walk is not None and walk in by_hash and len(on_chain) <= len(chained):
            on_chain.append(by_hash[walk])
            walk = by_hash[walk].get("chain", {}).get("previous")
        on_chain.reverse()
        order += [m for m in on_chain if "chain" in m]
        seen = {id(m) for m in order}
        for m in chained:
            if id(m) not in seen and tip is not None:
                errors.append(f"run {m['run_id']}: not on the chain that ends at the head (a manifest added or changed)")
        order += [m for m in chained if id(m) not in seen]
    if expect_head:
        kept = expect_head.strip().lower()
        reached = {hashes[id(m)] for m in order}
        if kept not in by_hash:
            errors.append(f"the head you kept ({kept[:16]}…) is no manifest of this archive: "
                          "runs were removed or manifests rewritten since")
        elif kept not in reached:
            errors.append(f"the head you kept ({kept[:16]}…, run {by_hash[kept]['run_id']}) is not on this archive's chain")
    newest = order[-1] if order else None
    summary = None if newest is None else {"run_id": newest["run_id"], "manifest_sha256": hashes[id(newest)],
                                           "runs": len(manifests)}
    return ChainCheck(errors, warnings, summary, order)
