#!/usr/bin/env python3
"""A SigV4-checking proxy in front of the AWS emulator.

moto does not verify signatures; real AWS does. This proxy recomputes the
signature of every request with botocore's own signer (the reference the
SDKs share), from the headers the request says it signed, and answers
403 SignatureDoesNotMatch (as AWS would) when it differs or when a signed
header was not sent; otherwise it forwards the request to the emulator and
returns its answer. Prints its port on the first line, then one line per
refused request. The secret key is the tests' fixed "test"."""
import http.server
import re
import socketserver
import sys
import urllib.request

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

UPSTREAM = sys.argv[1]
SECRET = sys.argv[2] if len(sys.argv) > 2 else "test"
AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                  r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$")


def expected_signature(method, path, headers, body):
    m = AUTH.match(headers.get("Authorization", ""))
    if not m:
        return None, "no SigV4 Authorization header"
    key, _, region, service, signed, got = m.groups()
    names = signed.split(";")
    lower = {k.lower(): v for k, v in headers.items()}
    missing = [n for n in names if n not in lower]
    if missing:
        return None, f"signed headers not sent: {missing}"
    req = AWSRequest(method=method, url="http://" + lower["host"] + path, data=body,
                     headers={n: lower[n] for n in names if n != "host"})
    req.context["timestamp"] = lower.get("x-amz-date", "")
    cls = S3SigV4Auth if service == "s3" else SigV4Auth
    signer = cls(Credentials(key, SECRET, lower.get("x-amz-security-token")), service, region)
    if {k.lower() for k in signer.headers_to_sign(req).keys()} != set(names):
        return None, (f"signed headers {names} differ from what AWS signs: "
                      f"{sorted(signer.headers_to_sign(req).keys())}")
    canonical = signer.canonical_request(req)
    want = signer.signature(signer.string_to_sign(req, canonical), req)
    return (want == got), f"signature mismatch; canonical request:\n{canonical}"


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        ok, why = expected_signature(self.command, self.path, dict(self.headers), body)
        if not ok:
            print(f"REFUSED {self.command} {self.path}: {why}", flush=True)
            msg = (b"<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>"
                   b"The request signature we calculated does not match</Message>"
                   b"</Error></ErrorResponse>")
            self.send_response(403)
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        fwd = urllib.request.Request(UPSTREAM + self.path, data=body if body or self.command in
                                     ("POST", "PUT") else None, method=self.command)
        for k, v in self.headers.items():
            if k.lower() not in ("host", "content-length", "connection"):
                fwd.add_header(k, v)
        try:
            with urllib.request.urlopen(fwd) as r:
                status, hdrs, data = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, data = e.code, e.headers, e.read()
        self.send_response(status)
        for k, v in hdrs.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any

    def log_message(self, *a):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Proxy)
print(srv.server_address[1], flush=True)
srv.serve_forever()
