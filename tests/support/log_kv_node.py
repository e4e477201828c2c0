#!/usr/bin/env python3
"""A foreign single-node HTTP-KV store that keeps its data in an append-only log.

Usage: log_kv_node.py --id ID --client-addr HOST:PORT --data-dir DIR [--fsync]

Speaks faultline's HTTP-KV protocol (GET/PUT /kv/KEY, POST /kv/KEY/cas, GET /health,
GET /status). Every change is appended to DIR/log as one JSON line and acknowledged once the
write() returned; with --fsync it is fsynced first. On start the log is replayed (a torn last
line is ignored). Without --fsync a kill -9 loses nothing (the page cache survives the process),
but a power loss loses acknowledged writes: faultline's lose-unfsynced shows the difference.
"""
import argparse
import http.server
import json
import os
import socketserver
import threading


class Store:
    def __init__(self, data_dir, fsync):
        os.makedirs(data_dir, exist_ok=True)
        self.path = os.path.join(data_dir, "log")
        self.fsync = fsync
        self.lock = threading.Lock()
        self.data = {}
        self.applied = 0
        if os.path.exists(self.path):
            with open(self.path, "rb") as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        break  # a torn tail
                    self.data[rec["key"]] = rec["value"]
                    self.applied += 1
        self.log = open(self.path, "ab")

    def put(self, key, value):
        line = json.dumps({"key": key, "value": value}).encode() + b"\n"
        self.log.write(line)
        self.log.flush()  # reaches the OS (the page cache), not the disk
        if self.fsync:
            os.fsync(self.log.fileno())
        self.data[key] = value
        self.applied += 1


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, code, body=None):
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"null")

    def do_GET(self):
        st = self.server.store
        if self.path == "/health":
            return self.reply(200, {"ok": True})
        if self.path == "/status":
            me = self.server.node_id
            return self.reply(200, {"id": me, "role": "leader", "term": 1, "leader": me,
                                    "leader_addr": self.server.addr,
                                    "commit_index": st.applied, "applied_index": st.applied})
        if self.path.startswith("/kv/"):
            with st.lock:
                key = self.path[4:]
                if key in st.data:
                    return self.reply(200, {"value": st.data[key]})
                return self.reply(404, {"error": "not found"})
        self.reply(404, {"error": "no such path"})

    def do_PUT(self):
        st = self.server.store
        if not self.path.startswith("/kv/"):
            return self.reply(404, {"error": "no such path"})
        try:
            value = self.body()["value"]
        except (ValueError, KeyError, TypeError):
            return self.reply(400, {"error": "bad body"})
        with st.lock:
            st.put(self.path[4:], value)
        self.reply(200, {"value": value})

    def do_POST(self):
        st = self.server.store
        if not (self.path.startswith("/kv/") and self.path.endswith("/cas")):
            return self.reply(404, {"error": "no such path"})
        try:
            b = self.body()
            frm, to = b["from"], b["to"]
        except (ValueError, KeyError, TypeError):
            return self.reply(400, {"error": "bad body"})
        key = self.path[4:-4]
        with st.lock:
            if st.data.get(key) != frm:
                return self.reply(409, {"value": st.data.get(key)})
            st.put(key, to)
        self.reply(200, {"value": to})

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--id", required=True)
    p.add_argument("--client-addr", required=True)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--fsync", action="store_true")
    a = p.parse_args()
    host, port = a.client_addr.rsplit(":", 1)
    server = Server((host, int(port)), Handler)
    server.store = Store(a.data_dir, a.fsync)
    server.node_id = a.id
    server.addr = a.client_addr
    print(f"log-kv {a.id} on {a.client_addr}, {server.store.applied} records, fsync={a.fsync}",
          flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
