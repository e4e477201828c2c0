#!/usr/bin/env python3
"""A tiny stand-in node for faultline's cluster tests.

Usage: test_node.py --id ID --client-addr HOST:PORT --peer-addr HOST:PORT [--fail-start]

Serves GET /health (200 "ok") and GET /crash (exits with code 7) on the client address, and
echoes bytes on the peer address. --fail-start prints a few lines and exits with code 3, like a
node that cannot start.
"""
import argparse
import http.server
import os
import socketserver
import sys
import threading


def split(addr):
    host, port = addr.rsplit(":", 1)
    return host, int(port)


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            body = b"ok\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/crash":
            print("crash requested", flush=True)
            os._exit(7)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args):
        pass


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(4096)
            if not data:
                return
            self.request.sendall(data)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class EchoServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--id", required=True)
    p.add_argument("--client-addr", required=True)
    p.add_argument("--peer-addr", required=True)
    p.add_argument("--fail-start", action="store_true")
    a = p.parse_args()
    print(f"node {a.id} starting, client {a.client_addr}, peer {a.peer_addr}", flush=True)
    if a.fail_start:
        for i in range(25):
            print(f"{a.id}: start-up line {i}", flush=True)
        print(f"{a.id}: fatal: cannot open data directory", file=sys.stderr, flush=True)
        sys.exit(3)
    peer = EchoServer(split(a.peer_addr), Echo)
    threading.Thread(target=peer.serve_forever, daemon=True).start()
    Server(split(a.client_addr), Health).serve_forever()


if __name__ == "__main__":
    main()
