"""A stand-in for Grafana's HTTP API: the few endpoints `toir dashboards publish` calls.

A real Grafana cannot be installed on this machine (no package, no Docker), so the publish
path is tested against this server. It answers as Grafana 11 does for these endpoints:
bearer-token auth on every call (401 otherwise; 403 on saves for a viewer),
GET /api/folders/{uid} (404 if missing), POST /api/folders, GET /api/dashboards/uid/{uid}
(the dashboard with id and version, meta with folderUid), POST /api/dashboards/db (version
+ 1 on every save, 400 for a folder that does not exist).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "good-token"
# A viewer may read but not save, as a Viewer-role service account.
VIEWER_TOKEN = "viewer-token"


@dataclass
class GrafanaState:
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: list[tuple[str, str]] = field(default_factory=list)  # (uid, version message)
    calls: list[str] = field(default_factory=list)  # "METHOD /path"


class Handler(BaseHTTPRequestHandler):
    state: GrafanaState

    def do_GET(self) -> None:
        if not self._authorised():
            return
        path = self.path.split("?")[0]
        if path.startswith("/api/folders/"):
            folder = self.state.folders.get(path.removeprefix("/api/folders/"))
            self._send(200, folder) if folder else self._send(404, {"message": "folder not found"})
        elif path.startswith("/api/dashboards/uid/"):
            stored = self.state.dashboards.get(path.removeprefix("/api/dashboards/uid/"))
            if stored:
                self._send(200, stored)
            else:
                self._send(404, {"message": "Dashboard not found"})
        else:
            self._send(404, {"message": "Not found"})

    def do_POST(self) -> None:
        if not self._authorised():
            return
        if self.headers.get("Authorization") == f"Bearer {VIEWER_TOKEN}":
            self._send(403, {"message": "Access denied"})
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/api/folders":
            self._create_folder(body)
        elif self.path == "/api/dashboards/db":
            self._save_dashboard(body)
        else:
            self._send(404, {"message": "Not found"})

    def _create_folder(self, body: dict[str, Any]) -> None:
        if body["uid"] in self.state.folders:
            self._send(409, {"message": "a folder with the same uid already exists"})
            return
        folder = {"id": len(self.state.folders) + 1, "uid": body["uid"], "title": body["title"]}
        self.state.folders[body["uid"]] = folder
        self._send(200, folder)

    def _save_dashboard(self, body: dict[str, Any]) -> None:
        folder_uid = body.get("folderUid")
        if folder_uid not in self.state.folders:
            self._send(400, {"message": "folder not found"})
            return
        board = body["dashboard"]
        previous = self.state.dashboards.get(board["uid"])
        version = previous["dashboard"]["version"] + 1 if previous else 1
        stored = {**board, "id": len(self.state.dashboards) + 1, "version": version}
        self.state.dashboards[board["uid"]] = {
            "dashboard": stored,
            "meta": {"folderUid": folder_uid, "version": version},
        }
        self.state.messages.append((board["uid"], body.get("message", "")))
        self._send(200, {"status": "success", "uid": board["uid"], "version": version})

    def _authorised(self) -> bool:
        self.state.calls.append(f"{self.command} {self.path.split('?')[0]}")
        if self.headers.get("Authorization") in (f"Bearer {TOKEN}", f"Bearer {VIEWER_TOKEN}"):
            return True
        self._send(401, {"message": "Unauthorized"})
        return False

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read the state instead."""


@contextmanager
def fake_grafana() -> Iterator[tuple[str, GrafanaState]]:
    """A running fake Grafana: its URL and its state."""
    state = GrafanaState()
    handler = type("BoundHandler", (Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
