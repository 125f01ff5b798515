/*
 * awsfake's HTTP side: a loopback HTTP/1.1 server with keep-alive,
 * Content-Length bodies (no chunked uploads) and a capped request reader,
 * one detached thread a connection, and the replies every AWS benchmark
 * needs. Its answers are what the AWS provider expects to read: a request
 * id header, text/xml bodies, EC2's error document.
 */
#include "awsfake.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQ_MAX ((size_t)64 << 10) /* one request, headers + body */
#define STS_NS	"https://sts.amazonaws.com/doc/2011-06-15/"

void awsfake_env(unsigned short port)
{
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
	setenv("AWS_ENDPOINT_URL", url, 1);
	setenv("AWS_ACCESS_KEY_ID", "bench", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "bench", 1);
	setenv("AWS_REGION", AWSFAKE_REGION, 1);
	setenv("AWS_DEFAULT_REGION", AWSFAKE_REGION, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_ENDPOINT_URL_EC2");
	unsetenv("AWS_ENDPOINT_URL_STS");
}

/* ---------------------------------------------------------------- replies */

static atomic_uint request_seq;

/* Send the iovecs in order, whatever the socket takes at a time. */
static bool send_iov(int fd, struct iovec *iov, int n)
{
	struct msghdr m;
	int i = 0;

	while (i < n) {
		memset(&m, 0, sizeof(m));
		m.msg_iov = iov + i;
		m.msg_iovlen = (size_t)(n - i);
		ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return false;
		size_t left = (size_t)w;
		while (i < n && left >= iov[i].iov_len) {
			left -= iov[i].iov_len;
			i++;
		}
		if (i < n) {
			iov[i].iov_base = (char *)iov[i].iov_base + left;
			iov[i].iov_len -= left;
		}
	}
	return true;
}

#define BODY_IOV_MAX 8

static bool reply_fd(int fd, int status, const char *server,
		     const struct iovec *body, int nbody, bool close_after)
{
	struct iovec iov[BODY_IOV_MAX + 1];
	char hdr[512], rid[64];
	unsigned seq = atomic_fetch_add(&request_seq, 1);
	const char *reason = status == 200   ? "OK"
			     : status == 400 ? "Bad Request"
			     : status == 413 ? "Payload Too Large"
					     : "Not Implemented";
	size_t blen = 0;

	if (nbody < 0 || nbody > BODY_IOV_MAX)
		return false;
	for (int i = 0; i < nbody; i++) {
		iov[i + 1] = body[i];
		blen += body[i].iov_len;
	}
	snprintf(rid, sizeof(rid), "%08x-be9c-4c1e-9d5a-%012x", seq,
		 seq * 2654435761u);
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 %d %s\r\n"
			 "x-amzn-RequestId: %s\r\n"
			 "Cache-Control: no-cache, no-store\r\n"
			 "Content-Type: text/xml;charset=UTF-8\r\n"
			 "Content-Length: %zu\r\n"
			 "Server: %s\r\n"
			 "%s\r\n",
			 status, reason, rid, blen, server,
			 close_after ? "Connection: close\r\n" : "");
	iov[0].iov_base = hdr;
	iov[0].iov_len = (size_t)n;
	return send_iov(fd, iov, nbody + 1);
}

bool awsfake_reply_iov(const struct awsfake_request *rq, int status,
		       const char *server, const struct iovec *body, int nbody)
{
	return reply_fd(rq->fd, status, server, body, nbody, rq->closing);
}

bool awsfake_reply(const struct awsfake_request *rq, int status,
		   const char *server, const char *body, size_t len)
{
	struct iovec iov = {(void *)body, len};

	return reply_fd(rq->fd, status, server, &iov, 1, rq->closing);
}

bool awsfake_reply_ec2_error(const struct awsfake_request *rq, const char *code,
			     const char *msg)
{
	struct buf b = BUF_INIT;
	bool ok;

	buf_init(&b, 0);
	buf_printf(&b,
		   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<Response><Errors><Error><Code>%s</Code><Message>%s"
		   "</Message></Error></Errors><RequestID>bench</RequestID>"
		   "</Response>",
		   code, msg);
	ok = awsfake_reply(rq, 400, "AmazonEC2", b.data, b.len);
	buf_release(&b);
	return ok;
}

bool awsfake_reply_caller_identity(const struct awsfake_request *rq)
{
	static const char sts[] =
	    "<GetCallerIdentityResponse xmlns=\"" STS_NS "\">\n"
	    "  <GetCallerIdentityResult>\n"
	    "    <Arn>arn:aws:iam::" AWSFAKE_ACCOUNT ":user/bench</Arn>\n"
	    "    <UserId>AIDAQBENCHBENCHBENCH1</UserId>\n"
	    "    <Account>" AWSFAKE_ACCOUNT "</Account>\n"
	    "  </GetCallerIdentityResult>\n"
	    "  <ResponseMetadata>\n"
	    "    <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>\n"
	    "  </ResponseMetadata>\n"
	    "</GetCallerIdentityResponse>\n";

	return awsfake_reply(rq, 200, "AmazonSTS", sts, sizeof(sts) - 1);
}

/* The value of key in an x-www-form-urlencoded string, decoded. */
static bool form_get(const char *s, size_t n, const char *key, struct buf *out)
{
	size_t klen = strlen(key);
	const char *p = s, *end = s + n;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *e = amp ? amp : end;
		if ((size_t)(e - p) > klen && !memcmp(p, key, klen) &&
		    p[klen] == '=') {
			buf_reset(out);
			buf_append(out, "", 0); /* "" for an empty value */
			for (const char *v = p + klen + 1; v < e; v++) {
				if (*v == '%' && e - v >= 3 &&
				    hex_digit(v[1]) >= 0 &&
				    hex_digit(v[2]) >= 0) {
					buf_putc(out,
						 (char)(hex_digit(v[1]) * 16 +
							hex_digit(v[2])));
					v += 2;
				} else {
					buf_putc(out, *v == '+' ? ' ' : *v);
				}
			}
			return true;
		}
		if (!amp)
			break;
		p = amp + 1;
	}
	return false;
}

bool awsfake_param(const struct awsfake_request *rq, const char *key,
		   struct buf *out)
{
	const char *q = strchr(rq->target, '?');

	return form_get(rq->body, rq->body_len, key, out) ||
	       (q && form_get(q + 1, strlen(q + 1), key, out));
}

/* ---------------------------------------------------------- connections */

struct conn {
	int fd;
	const struct awsfake_listener *l;
};

/* Header value of name (case-insensitive) in the header block, or NULL. */
static const char *header(const char *hdrs, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);

	for (const char *l = strstr(hdrs, "\r\n"); l; l = strstr(l, "\r\n")) {
		l += 2;
		if (!strncasecmp(l, name, nl) && l[nl] == ':') {
			const char *v = l + nl + 1, *e;
			while (*v == ' ' || *v == '\t')
				v++;
			e = strstr(v, "\r\n");
			*vlen = e ? (size_t)(e - v) : strlen(v);
			return v;
		}
	}
	return NULL;
}

/* Read more of a request into in[*have..REQ_MAX); false at EOF, on an
 * error, or when the request would pass REQ_MAX. */
static bool recv_more(int fd, char *in, size_t *have)
{
	for (;;) {
		if (*have == REQ_MAX)
			return false;
		ssize_t r = recv(fd, in + *have, REQ_MAX - *have, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		*have += (size_t)r;
		return true;
	}
}

/* One connection: keep-alive, Content-Length bodies, no chunked uploads. */
static void *conn_main(void *arg)
{
	struct conn *c = arg;
	char *in = xmalloc(REQ_MAX + 1);
	size_t have = 0;

	for (;;) {
		char *end, target[2048];
		const char *v;
		size_t hlen, clen = 0, vlen;
		struct awsfake_request rq;

		while (!(end = memmem(in, have, "\r\n\r\n", 4)))
			if (!recv_more(c->fd, in, &have))
				goto out;
		hlen = (size_t)(end - in) + 4;
		*end = '\0';
		if (sscanf(in, "%*s %2047s HTTP/1.%*c", target) != 1)
			goto out;
		if ((v = header(in, "Transfer-Encoding", &vlen))) {
			reply_fd(c->fd, 501, "AmazonEC2", NULL, 0, true);
			goto out;
		}
		if ((v = header(in, "Content-Length", &vlen)))
			clen = (size_t)strtoull(v, NULL, 10);
		memset(&rq, 0, sizeof(rq));
		v = header(in, "Connection", &vlen);
		rq.closing = v && !strncasecmp(v, "close", 5);
		if (clen > REQ_MAX - hlen) {
			reply_fd(c->fd, 413, "AmazonEC2", NULL, 0, true);
			goto out;
		}
		v = header(in, "Expect", &vlen);
		if (v && !strncasecmp(v, "100-continue", 12) &&
		    have < hlen + clen) {
			static const char cont[] =
			    "HTTP/1.1 100 Continue\r\n\r\n";
			struct iovec iov = {(void *)cont, sizeof(cont) - 1};
			if (!send_iov(c->fd, &iov, 1))
				goto out;
		}
		while (have < hlen + clen)
			if (!recv_more(c->fd, in, &have))
				goto out;
		rq.fd = c->fd;
		rq.target = target;
		rq.body = in + hlen;
		rq.body_len = clen;
		if (!c->l->handle(&rq, c->l->ud) || rq.closing)
			goto out;
		memmove(in, in + hlen + clen, have - hlen - clen);
		have -= hlen + clen;
	}
out:
	close(c->fd);
	xfree(in);
	xfree(c);
	return NULL;
}

int awsfake_listen(unsigned short *port)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen)) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static void spawn_conn(int fd, const struct awsfake_listener *l)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	pthread_attr_t at;
	pthread_t th;
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->l = l;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &at, conn_main, c)) {
		close(fd);
		xfree(c);
	}
	pthread_attr_destroy(&at);
}

#define LISTENERS_MAX 8

void awsfake_serve(const struct awsfake_listener *l, size_t n, int ctl,
		   bool (*on_ctl)(int ctl, void *ud), void *ud)
{
	struct pollfd pf[LISTENERS_MAX + 1];

	if (n > LISTENERS_MAX)
		_exit(1);
	signal(SIGPIPE, SIG_IGN);
	for (size_t s = 0; s < n; s++) {
		pf[s].fd = l[s].fd;
		pf[s].events = POLLIN;
	}
	pf[n].fd = ctl;
	pf[n].events = POLLIN;
	for (;;) {
		if (poll(pf, n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (pf[n].revents && (!on_ctl || !on_ctl(ctl, ud)))
			_exit(0); /* EOF: the bench is done (or gone) */
		for (size_t s = 0; s < n; s++) {
			if (!(pf[s].revents & POLLIN))
				continue;
			int fd = accept4(pf[s].fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				spawn_conn(fd, &l[s]);
		}
	}
}

/* Three regions enabled; with AllRegions=true, two more not opted in. */
bool awsfake_reply_describe_regions(const struct awsfake_request *rq)
{
	static const char *const regions[][2] = {
	    {"us-east-1", "opt-in-not-required"},
	    {"us-west-2", "opt-in-not-required"},
	    {"eu-west-1", "opt-in-not-required"},
	    {"af-south-1", "not-opted-in"},
	    {"ap-east-1", "not-opted-in"},
	};
	struct buf b = BUF_INIT, v = BUF_INIT;
	bool all, ok;

	buf_init(&b, 0);
	buf_init(&v, 0);
	all = awsfake_param(rq, "AllRegions", &v) && !strcmp(v.data, "true");
	buf_release(&v);
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<DescribeRegionsResponse xmlns=\"" AWSFAKE_EC2_NS "\">\n"
		     " <requestId>0badc0de-5ca1-4e1d-b3c4-000000000001"
		     "</requestId>\n");
	buf_puts(&b, " <regionInfo>\n");
	for (size_t i = 0; i < ARRAY_SIZE(regions); i++)
		if (all || strcmp(regions[i][1], "not-opted-in"))
			buf_printf(&b,
				   "  <item>\n"
				   "   <regionName>%s</regionName>\n"
				   "   <regionEndpoint>ec2.%s.amazonaws.com"
				   "</regionEndpoint>\n"
				   "   <optInStatus>%s</optInStatus>\n"
				   "  </item>\n",
				   regions[i][0], regions[i][0], regions[i][1]);
	buf_puts(&b, " </regionInfo>\n</DescribeRegionsResponse>\n");
	ok = awsfake_reply(rq, 200, "AmazonEC2", b.data, b.len);
	buf_release(&b);
	return ok;
}
