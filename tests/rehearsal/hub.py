"""A local model and dataset hub: the part of the Hugging Face Hub's HTTP API that huggingface_hub and datasets
use to download a repository (repository info, file listing, file metadata and content), served from a folder
on loopback. Point HF_ENDPOINT at it and the project's hub code paths (model download, hub corpora, lm-eval's
builtin tasks) run for real, as against a mirror of the hub.

    python tests/rehearsal/hub.py ROOT [PORT]      # ROOT/models/<owner>/<name>/..., ROOT/datasets/<owner>/<name>/...

Every repository has one revision (`main`), whose commit hash is derived from its files; another revision answers
404 RevisionNotFound, as the hub does. The repositories listed in ROOT/gated.txt (`models/<owner>/<name>`) are
gated: their files are refused without a token (401) or with another token than the hub's (403), with the hub's
X-Error-Code GatedRepo, which huggingface_hub turns into GatedRepoError; the hub's token is `TOKEN` (set HF_TOKEN
to it). Requests it does not serve answer 404 and are logged, so a missing endpoint shows at once.
"""
from __future__ import annotations

import hashlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

KINDS = {"models": "models", "datasets": "datasets"}
TOKEN = "hf_rehearsal_token"  # the one token the local hub accepts for its gated repositories


class Repo:
    def __init__(self, root: Path, kind: str, repo_id: str, gated: bool = False):
        self.kind, self.repo_id, self.gated = kind, repo_id, gated
        self.path = root / kind / repo_id
        files = sorted(p for p in self.path.rglob("*") if p.is_file())
        self.files = {p.relative_to(self.path).as_posix(): p for p in files}
        digest = hashlib.sha1(repo_id.encode())
        for name, p in self.files.items():
            digest.update(name.encode())
            digest.update(str(p.stat().st_size).encode())
        self.sha = digest.hexdigest()

    def entry(self, name: str) -> dict:
        if name in self.files:
            data = self.files[name].read_bytes()
            return {"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
        return {"type": "directory", "path": name, "size": 0, "oid": hashlib.sha1(name.encode()).hexdigest()}

    def tree(self, folder: str, recursive: bool) -> list[dict]:
        folder = folder.strip("/")
        prefix = f"{folder}/" if folder else ""
        names: set[str] = set()
        for name in self.files:
            if not name.startswith(prefix):
                continue
            rest = name[len(prefix):].split("/")
            if recursive:
                names.update(prefix + "/".join(rest[:i]) for i in range(1, len(rest) + 1))
            else:
                names.add(prefix + rest[0])
        return [self.entry(n) for n in sorted(names)]

    def info(self) -> dict:
        card = self.files.get("README.md")
        return {"id": self.repo_id, "_id": self.sha, "sha": self.sha, "private": False, "disabled": False,
                "gated": "manual" if self.gated else False, "downloads": 0, "likes": 0, "tags": [], "author": self.repo_id.split("/")[0],
                "lastModified": "2026-01-01T00:00:00.000Z", "createdAt": "2026-01-01T00:00:00.000Z",
                "cardData": _card_data(card) if card else {},
                "siblings": [{"rfilename": n} for n in self.files]}


def _card_data(card: Path) -> dict:
    import yaml

    text = card.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    return yaml.safe_load(text.split("---", 2)[1]) or {}


class Hub:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.unknown: list[str] = []
        self.served: list[str] = []
        self.refused: list[str] = []  # gated files asked for without the hub's token
        listed = self.root / "gated.txt"
        self.gated = set(listed.read_text().split()) if listed.is_file() else set()

    def repo(self, kind: str, repo_id: str) -> Repo | None:
        if not (self.root / kind / repo_id).is_dir():
            return None
        return Repo(self.root, kind, repo_id, gated=f"{kind}/{repo_id}" in self.gated)


def make_handler(hub: Hub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet; requests are recorded on the hub instead
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict | None = None, head: bool = False) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if "Content-Length" not in (headers or {}):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head and body:
                self.wfile.write(body)

        def _json(self, obj, status: int = 200, head: bool = False) -> None:
            self._send(status, json.dumps(obj).encode(), {"Content-Type": "application/json"}, head)

        def _refuse_gated(self, repo: Repo, head: bool) -> bool:
            """The hub's answer to a gated file without access: 401 without a token, 403 with another one."""
            if not repo.gated or self.headers.get("Authorization") == f"Bearer {TOKEN}":
                return False
            hub.refused.append(f"{self.command} {self.path}")
            sent = self.headers.get("Authorization")
            what = "model" if repo.kind == "models" else "dataset"
            message = (f"Access to {what} {repo.repo_id} is restricted. You must have access to it and be "
                       "authenticated to access it. Please log in." if not sent else
                       f"Access to {what} {repo.repo_id} is restricted and you are not in the authorized list. "
                       f"Visit https://huggingface.co/{repo.repo_id} to ask for access.")
            self._send(403 if sent else 401, json.dumps({"error": message}).encode(),
                       {"Content-Type": "application/json", "X-Error-Code": "GatedRepo", "X-Error-Message": message},
                       head)
            return True

        def _unknown_revision(self, repo: Repo, revision: str, head: bool) -> bool:
            if revision in ("main", repo.sha):
                return False
            self._missing(f"Invalid rev id: {revision}", "RevisionNotFound", head)
            return True

        def _missing(self, what: str, code: str = "RepoNotFound", head: bool = False) -> None:
            hub.unknown.append(f"{self.command} {self.path}")
            self._send(404, json.dumps({"error": what}).encode(),
                       {"Content-Type": "application/json", "X-Error-Code": code, "X-Error-Message": what}, head)

        def do_HEAD(self):
            self._route(head=True)

        def do_GET(self):
            self._route(head=False)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            url = urlparse(self.path)
            parts = [unquote(p) for p in url.path.split("/") if p]
            # /api/{kind}/{owner}/{name}/paths-info/{rev}
            if len(parts) >= 6 and parts[0] == "api" and parts[4] == "paths-info":
                repo = hub.repo(parts[1], f"{parts[2]}/{parts[3]}")
                if repo is None:
                    return self._missing(f"{parts[2]}/{parts[3]}")
                form = parse_qs(body) if "=" in body and not body.startswith("{") else {}
                paths = form.get("paths") or (json.loads(body).get("paths", []) if body.startswith("{") else [])
                known = [p for p in paths if p in repo.files or any(f.startswith(p.rstrip("/") + "/") for f in repo.files)]
                hub.served.append(f"POST {url.path}")
                return self._json([repo.entry(p) for p in known])
            self._missing(url.path)

        def _route(self, head: bool) -> None:
            url = urlparse(self.path)
            parts = [unquote(p) for p in url.path.split("/") if p]
            query = parse_qs(url.query)
            if parts[:1] == ["api"] and len(parts) >= 4 and parts[1] in KINDS:
                repo = hub.repo(parts[1], f"{parts[2]}/{parts[3]}")
                if repo is None:
                    return self._missing(f"{parts[2]}/{parts[3]}", head=head)
                rest = parts[4:]
                if len(rest) >= 2 and rest[0] in ("revision", "tree") and self._unknown_revision(repo, rest[1], head):
                    return None
                if not rest or rest[0] == "revision":
                    hub.served.append(f"GET {url.path}")
                    return self._json(repo.info(), head=head)
                if rest[0] == "tree":
                    folder = "/".join(rest[2:])
                    recursive = query.get("recursive", ["false"])[0].lower() == "true"
                    hub.served.append(f"GET {url.path}")
                    return self._json(repo.tree(folder, recursive), head=head)
                return self._missing(url.path, "EntryNotFound", head)
            kind = "datasets" if parts[:1] == ["datasets"] else "models"
            if kind == "datasets":
                parts = parts[1:]
            if len(parts) >= 5 and parts[2] == "resolve":
                repo = hub.repo(kind, f"{parts[0]}/{parts[1]}")
                if repo is None:
                    return self._missing(f"{parts[0]}/{parts[1]}", head=head)
                name = "/".join(parts[4:])
                if self._unknown_revision(repo, parts[3], head) or self._refuse_gated(repo, head):
                    return None
                if name not in repo.files:
                    return self._missing(f"{name} in {repo.repo_id}", "EntryNotFound", head)
                data = repo.files[name].read_bytes()
                headers = {"X-Repo-Commit": repo.sha, "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
                           "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
                status = 200
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes=") and not head:
                    start, _, end = rng[6:].partition("-")
                    lo, hi = int(start or 0), int(end) if end else len(data) - 1
                    data = data[lo:hi + 1]
                    headers["Content-Range"] = f"bytes {lo}-{lo + len(data) - 1}/{len(repo.files[name].read_bytes())}"
                    status = 206
                headers["Content-Length"] = str(len(data))
                hub.served.append(f"{self.command} {url.path}")
                return self._send(status, data, headers, head)
            self._missing(url.path, head=head)

    return Handler


def serve(root: str | Path, port: int = 0) -> tuple[ThreadingHTTPServer, Hub, str]:
    """Start the hub on loopback in a background thread; returns (server, hub, endpoint URL)."""
    hub = Hub(root)
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(hub))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, hub, f"http://127.0.0.1:{server.server_address[1]}"


if __name__ == "__main__":
    srv, _, endpoint = serve(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    print(endpoint, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        srv.shutdown()
