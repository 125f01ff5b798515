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

Listings through the provider (point AWS_ENDPOINT_URL at
http://127.0.0.1:PORT/list/MODE): STS GetCallerIdentity answers account
123456789012, DescribeRegions two regions, DescribeInstances serves a
listing of LIST_PAGES pages of LIST_PER_PAGE instances (ids unique per
region and page; page k asks NextToken "page-k"), and every other call an
empty page of its protocol (XML <OpResponse/>, JSON {}), so any type lists
complete with nothing. The mode decides the faults, on DescribeInstances:

  ok          none
  flaky       every 2nd request throttled (RequestLimitExceeded 400,
              ThrottlingException 400, SlowDown 503 in turn), every 5th
              other one a 500: never more than 3 failures in a row
  hang2       page 2 hangs until the client gives up
  trunc2      page 2 cut inside its first record (Content-Length is right)
  badxml2     page 2 with badly nested elements in its first record
  loop        every page after the first returns the same nextToken
  denied      403 UnauthorizedOperation in us-west-2 (us-east-1 is fine)
  badjson     every JSON-protocol call answers 200 with broken JSON
  cancel      as hang2 (for the cancellation test)

GET /list-stats/MODE returns what was served in that mode as JSON:
{"requests": DescribeInstances requests, "pages": pages served,
 "throttles": ..., "errors500": ..., "denied": ..., "hangs": ...}.

Counters are per path and reset by GET /reset. Prints its port on stdout.
"""
import http.server
import json
import re
import select
import socketserver
import sys
import threading
import time
import urllib.parse

counts = {}

SECRET = "fault-secret-never-in-messages"
TOKEN = "fault-token-never-in-messages"
IMDS_TOKEN = "imds-session-token-never-in-messages"
CONTAINER_AUTH = "container-auth-token"
lock = threading.Lock()

EC2_ERR = ('<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
           '<Code>{code}</Code><Message>{msg}</Message></Error></Errors>'
           '<RequestID>req-{code}</RequestID></Response>')
QUERY_ERR = ('<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>'
             '<Message>{msg}</Message></Error><RequestId>req-{code}'
             '</RequestId></ErrorResponse>')

LIST_PAGES = 5
LIST_PER_PAGE = 3
ACCOUNT = "123456789012"
EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
list_stats = {}


def instance_xml(region, page, i):
    """One DescribeInstances record, as EC2 writes it (trimmed)."""
    rid = "%d%d" % (page, i)
    num = "%02d%d%d" % (["us-east-1", "us-west-2"].index(region)
                        if region in ("us-east-1", "us-west-2") else 9,
                        page, i)
    return ('<item><instanceId>i-0000000000000%s</instanceId>'
            '<imageId>ami-12c6146b</imageId><instanceState><code>16</code>'
            '<name>running</name></instanceState>'
            '<instanceType>t3.micro</instanceType>'
            '<launchTime>2026-01-0%dT10:00:00.000Z</launchTime>'
            '<placement><availabilityZone>%sa</availabilityZone></placement>'
            '<subnetId>subnet-0f%s</subnetId><vpcId>vpc-0f%s</vpcId>'
            '<groupSet><item><groupId>sg-0f%s</groupId></item></groupSet>'
            '<tagSet><item><key>Name</key><value>node-%s</value></item>'
            '</tagSet></item>' % (num, page, region, rid, rid, rid, rid))


def instances_page(region, page, token):
    items = "".join(instance_xml(region, page, i)
                    for i in range(1, LIST_PER_PAGE + 1))
    tok = "<nextToken>%s</nextToken>" % token if token else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<DescribeInstancesResponse xmlns="%s"><requestId>r-%d</requestId>'
            '<reservationSet><item><reservationId>r-0%d</reservationId>'
            '<ownerId>%s</ownerId><instancesSet>%s</instancesSet></item>'
            '</reservationSet>%s</DescribeInstancesResponse>'
            % (EC2_NS, page, page, ACCOUNT, items, tok))


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
            body = self.rfile.read(length)
        else:
            body = b""
        seg = self.path.strip("/").split("/")[0].split("?")[0]
        if seg == "reset":
            with lock:
                counts.clear()
                list_stats.clear()
            return self.reply(200, "<ok/>")
        if seg == "list":
            return self.listing(body)
        if seg == "list-stats":
            mode = (self.path.strip("/").split("/") + [""])[1]
            with lock:
                doc = json.dumps(list_stats.get(mode, {}))
            return self.reply(200, doc, "application/json")
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

    def hang_until_closed(self):
        """Never answer; return once the client has closed the
        connection (so no thread outlives its client for long)."""
        self.close_connection = True
        conn = self.connection
        while True:
            ready, _, _ = select.select([conn], [], [], 1.0)
            if not ready:
                continue
            try:
                if not conn.recv(4096):
                    return None
            except OSError:
                return None

    def signed_for(self):
        """(region, service) from the SigV4 Authorization header."""
        m = re.search(r"Credential=[^/]*/[^/]*/([^/]*)/([^/]*)/",
                      self.headers.get("Authorization") or "")
        return (m.group(1), m.group(2)) if m else ("us-east-1", "")

    def stat(self, mode, key, n=1):
        with lock:
            st = list_stats.setdefault(mode, {})
            st[key] = st.get(key, 0) + n
            return st[key]

    def listing(self, body):
        parts = self.path.split("?")[0].strip("/").split("/")
        mode = parts[1] if len(parts) > 1 else "ok"
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        action = (form.get("Action") or [""])[0]
        target = self.headers.get("X-Amz-Target")
        region, service = self.signed_for()
        if target:
            if mode == "badjson":
                self.stat(mode, "badjson")
                return self.reply(200, '{"Items": [{"Name": "a", "Tags": {',
                                  "application/x-amz-json-1.1")
            return self.reply(200, "{}", "application/x-amz-json-1.1")
        if action == "GetCallerIdentity":
            return self.reply(200, (
                '<GetCallerIdentityResponse><GetCallerIdentityResult>'
                '<Arn>arn:aws:iam::%s:user/fault</Arn><UserId>AIDAFAULT'
                '</UserId><Account>%s</Account></GetCallerIdentityResult>'
                '</GetCallerIdentityResponse>' % (ACCOUNT, ACCOUNT)))
        if action == "DescribeRegions":
            return self.reply(200, (
                '<DescribeRegionsResponse xmlns="%s"><regionInfo>'
                '<item><regionName>us-east-1</regionName></item>'
                '<item><regionName>us-west-2</regionName></item>'
                '</regionInfo></DescribeRegionsResponse>' % EC2_NS))
        if action == "DescribeInstances":
            return self.instances(mode, region, form)
        if action:
            return self.reply(200, '<%sResponse/>' % action)
        if self.command == "GET" and service in ("s3", "route53"):
            return self.reply(200, "<Empty/>", "application/xml")
        return self.reply(200, "{}", "application/json")

    def instances(self, mode, region, form):
        n = self.stat(mode, "requests")
        token = (form.get("NextToken") or [""])[0]
        page = int(token[len("page-"):]) if token.startswith("page-") else 1
        if token == "loop":
            page = 2
        if mode == "flaky" and n % 2 == 0:
            self.stat(mode, "throttles")
            kind = (n // 2) % 3
            if kind == 0:
                return self.reply(400, EC2_ERR.format(
                    code="RequestLimitExceeded",
                    msg="Request limit exceeded."))
            if kind == 1:
                return self.reply(400, QUERY_ERR.format(
                    code="ThrottlingException", msg="Rate exceeded"))
            return self.reply(503, QUERY_ERR.format(
                code="SlowDown", msg="Please reduce your request rate."))
        if mode == "flaky" and n % 5 == 0:
            self.stat(mode, "errors500")
            return self.reply(500, EC2_ERR.format(
                code="InternalError", msg="An internal error occurred."))
        if mode == "denied" and region == "us-west-2":
            self.stat(mode, "denied")
            return self.reply(403, EC2_ERR.format(
                code="UnauthorizedOperation",
                msg="You are not authorized to perform this operation."))
        if mode in ("hang2", "cancel") and page == 2:
            self.stat(mode, "hangs")
            return self.hang_until_closed()
        if mode == "loop":
            nxt = "loop"
        else:
            nxt = "page-%d" % (page + 1) if page < LIST_PAGES else ""
        doc = instances_page(region, page, nxt)
        if mode == "trunc2" and page == 2:
            # Cut inside the first record: after its id's opening tag.
            doc = doc[:doc.index("<instanceId>") + len("<instanceId>i-00")]
        if mode == "badxml2" and page == 2:
            doc = doc.replace("</instanceId><imageId>",
                              "<imageId></instanceId>", 1)
        self.stat(mode, "pages")
        return self.reply(200, doc)

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
