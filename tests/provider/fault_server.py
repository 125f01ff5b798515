#!/usr/bin/env python3
"""A small fault-injecting HTTP server for Elava's AWS transport tests.

It answers on 127.0.0.1 with faults a real AWS endpoint (or the emulator)
cannot be asked to produce on demand. The fault is chosen by the first path
segment of each request, e.g. POST /throttle2/ :

  /ok/            200 with a small XML body
  /throttleN/     the first N requests of this path: 400 Throttling, then 200
  /err503N/       the first N requests: 503, then 200
  /always500/     500 every time
  /denied/        403 AccessDenied (EC2-style XML)
  /json-throttle/ 400 {"__type": "...#ThrottlingException"} every time
  /hang/          accept, then never answer (the client must time out)
  /big/           a 2 MiB body

Credential endpoints (GET unless said; secrets are fixed test strings):

  PUT /latest/api/token       IMDSv2 session token (needs the TTL header)
  /latest/meta-data/iam/security-credentials/[ROLE]
                              IMDS role list / role credentials; 401
                              without the X-aws-ec2-metadata-token header
  /imds-norole/latest/...     IMDS on an instance without a role (404)
  /creds/container            container credentials; 401 unless
                              "Authorization: container-auth-token"
  /creds/container-bad        container endpoint answering non-JSON

Counters are per path and reset by GET /reset. Prints its port on stdout.
"""
import http.server
import json
import socketserver
import sys
import threading
import time

counts = {}

SECRET = "fault-secret-never-in-messages"
TOKEN = "fault-token-never-in-messages"
IMDS_TOKEN = "imds-session-token-never-in-messages"
CONTAINER_AUTH = "container-auth-token"
lock = threading.Lock()

EC2_ERR = ('<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
           '<Code>{code}</Code><Message>{msg}</Message></Error></Errors>'
           '<RequestID>req-{code}</RequestID></Response>')


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="text/xml"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "fault-req-1")
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        seg = self.path.strip("/").split("/")[0].split("?")[0]
        if seg == "reset":
            with lock:
                counts.clear()
            return self.reply(200, "<ok/>")
        with lock:
            n = counts.get(seg, 0) + 1
            counts[seg] = n
        if seg == "ok":
            return self.reply(200, "<Ok><Count>%d</Count></Ok>" % n)
        if seg.startswith("throttle"):
            if n <= int(seg[len("throttle"):] or 1):
                return self.reply(400, EC2_ERR.format(
                    code="RequestLimitExceeded", msg="Request limit exceeded."))
            return self.reply(200, "<Ok><Count>%d</Count></Ok>" % n)
        if seg.startswith("err503"):
            if n <= int(seg[len("err503"):] or 1):
                return self.reply(503, "<Error><Code>ServiceUnavailable"
                                  "</Code><Message>try later</Message></Error>")
            return self.reply(200, "<Ok><Count>%d</Count></Ok>" % n)
        if seg == "always500":
            return self.reply(500, "<Error><Code>InternalError</Code>"
                              "<Message>boom</Message></Error>")
        if seg == "denied":
            return self.reply(403, EC2_ERR.format(
                code="UnauthorizedOperation",
                msg="You are not authorized to perform this operation."))
        if seg == "json-throttle":
            return self.reply(400, '{"__type":"com.amazon#ThrottlingException",'
                              '"message":"Rate exceeded"}',
                              "application/x-amz-json-1.1")
        if seg in ("latest", "imds-norole"):
            return self.imds(seg)
        if seg == "creds":
            return self.container()
        if seg == "hang":
            time.sleep(60)
            return None
        if seg == "big":
            return self.reply(200, b"<a>" + b"x" * (2 << 20) + b"</a>")
        return self.reply(404, "<Error><Code>NoSuchPath</Code></Error>")

    def creds_json(self, token_key, extra=None):
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                            time.gmtime(time.time() + 3600))
        doc = {"AccessKeyId": "ASIAFAULTSERVER", token_key: TOKEN,
               "SecretAccessKey": SECRET, "Expiration": exp}
        doc.update(extra or {})
        return json.dumps(doc)

    def imds(self, seg):
        path = self.path.split("?")[0]
        if seg == "imds-norole":
            path = path[len("/imds-norole"):]
        if path == "/latest/api/token":
            if (self.command != "PUT" or not self.headers.get(
                    "X-aws-ec2-metadata-token-ttl-seconds")):
                return self.reply(400, "bad token request", "text/plain")
            return self.reply(200, IMDS_TOKEN, "text/plain")
        if self.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
            return self.reply(401, "", "text/plain")
        base = "/latest/meta-data/iam/security-credentials/"
        if seg == "imds-norole" and path.startswith(base):
            return self.reply(404, "", "text/plain")
        if path == base:
            return self.reply(200, "elava-role", "text/plain")
        if path == base + "elava-role":
            return self.reply(200, self.creds_json("Token", {
                "Code": "Success", "Type": "AWS-HMAC"}), "text/plain")
        return self.reply(404, "", "text/plain")

    def container(self):
        path = self.path.split("?")[0].rstrip("/")
        if self.headers.get("Authorization") != CONTAINER_AUTH:
            return self.reply(401, "", "text/plain")
        if path == "/creds/container":
            return self.reply(200, self.creds_json("Token"),
                              "application/json")
        if path == "/creds/container-bad":
            return self.reply(200, "<html>" + SECRET, "text/html")
        return self.reply(404, "", "text/plain")

    do_GET = handle_any
    do_POST = handle_any
    do_PUT = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
