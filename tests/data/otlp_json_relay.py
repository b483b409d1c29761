#!/usr/bin/env python3
"""An OTLP/HTTP JSON front for a store that takes binary protobuf only (Arize Phoenix).

`otlp_json_relay.py UPSTREAM` listens on a free loopback port (printed on stdout's first
line) and takes `POST /v1/traces` as OTLP/JSON (gzip or not). It reads each request
with protobuf's own JSON parser into `ExportTraceServiceRequest` — strictly: an unknown
field or a wrong type is a 400, as a conforming receiver answers — after turning the
OTLP/JSON hex ids into the bytes the protobuf mapping expects, and forwards the message
as binary protobuf to UPSTREAM, answering with the upstream's status. What the store then
shows is what the JSON said. Needs `opentelemetry-proto` (Phoenix's venv has it)."""
import base64
import gzip
import json
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

UPSTREAM = sys.argv[1].rstrip("/")
IDS = ("traceId", "spanId", "parentSpanId")


def ids_to_base64(value):
    """OTLP/JSON writes trace and span ids in hex; protobuf's JSON mapping of bytes is
    base64. A malformed hex id raises (a 400)."""
    if isinstance(value, dict):
        return {k: (base64.b64encode(bytes.fromhex(v)).decode() if k in IDS and isinstance(v, str)
                    else ids_to_base64(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [ids_to_base64(v) for v in value]
    return value


class Relay(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/v1/traces":
            return self.answer(404, b"{}")
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return self.answer(415, b'{"message":"OTLP/JSON only"}')
        try:
            if self.headers.get("Content-Encoding") == "gzip":
                raw = gzip.decompress(raw)
            message = json_format.Parse(json.dumps(ids_to_base64(json.loads(raw))), ExportTraceServiceRequest())
        except Exception as e:  # noqa: BLE001 — any parse failure is the sender's
            return self.answer(400, json.dumps({"message": str(e)}).encode())
        request = urllib.request.Request(UPSTREAM + "/v1/traces", data=message.SerializeToString(),
                                         headers={"Content-Type": "application/x-protobuf"})
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        self.answer(status, b"{}")


server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
print(server.server_address[1], flush=True)
server.serve_forever()
