#!/usr/bin/env python3
"""webhook_receiver.py PORT LOG: a webhook receiver on 127.0.0.1:PORT for
tests/integration/hooks.sh. Every POST becomes one JSON line in LOG: path,
headers X-Muleteer-Event and X-Muleteer-Signature, the body and the status
answered. /flaky answers 500 to the first request of each event, /ok 200
always. Prints "listening" once it is."""
import http.server
import json
import sys

PORT, LOG = int(sys.argv[1]), sys.argv[2]
seen = set()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        event = self.headers.get("X-Muleteer-Event", "")
        status = 200
        if self.path == "/flaky" and event not in seen:
            seen.add(event)
            status = 500
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps({"path": self.path, "event": event,
                                "signature": self.headers.get("X-Muleteer-Signature", ""),
                                "content_type": self.headers.get("Content-Type", ""),
                                "status": status, "body": body}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", PORT), Handler)
print("listening", flush=True)
srv.serve_forever()
