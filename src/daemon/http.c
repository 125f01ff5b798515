/*
 * The daemon's HTTP endpoint on libmicrohttpd (the only file that includes
 * <microhttpd.h>): an internal polling thread pool on epoll answers GET and
 * HEAD on a fixed table of routes. Everything a stranger controls is
 * bounded before a handler runs: connections (in all and per address),
 * header memory, the request target (HTTP_TARGET_MAX, parsed by query.c
 * from the raw target MHD hands to its URI log callback, never by MHD's own
 * argument parser), request bodies (refused), and on api routes a bearer
 * token (compared in constant time) and one token bucket for all clients.
 * Every error body is JSON (http_error); every response says
 * "Cache-Control: no-store".
 */
#include "daemon/daemon_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#define MOD "http"

#define THREAD_POOL_SIZE     2
#define DEFAULT_CONNECTIONS  256
#define PER_IP_CONNECTIONS   64
#define CONNECTION_TIMEOUT_S 10
/* Per connection: bounds the request line and headers (MHD answers a
 * request whose headers do not fit with its own 431). */
#define CONNECTION_MEMORY (32 * 1024)
#define DEFAULT_API_RPS	  50.0
/* How long http_server_stop lets the requests in flight finish. */
#define STOP_GRACE_NS (5 * (int64_t)1000000000)

struct http_server {
	struct MHD_Daemon *mhd;
	int fd; /* the listen socket, ours until MHD_quiesce_daemon */
	int port;
	struct http_route *routes;
	size_t nroutes;
	void *ud;
	bool has_token;
	uint8_t token_hash[SHA256_LEN];
	struct metric *requests_total;
	/* Requests whose headers have arrived and that have not completed
	 * (from the access handler's first call to NOTIFY_COMPLETED). */
	atomic_long in_flight;
	/* The api token bucket. */
	pthread_mutex_t bucket_lock;
	double rate, burst, tokens;
	int64_t refilled_ns;
};

/* What MHD keeps for one request (its con_cls): the raw target. */
struct request_ctx {
	bool headers_seen; /* the access handler's first call is past: the
			    * request counts in in_flight */
	bool body;	   /* the request has a body (refused) */
	bool answered;
	bool too_long; /* the target was over HTTP_TARGET_MAX */
	char target[];
};

/* ----------------------------------------------------------- MHD glue */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn(MOD, "libmicrohttpd: %s", msg);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	size_t n = strnlen(uri, HTTP_TARGET_MAX + 1);
	struct request_ctx *rc;

	rc = xmalloc(st_add(sizeof(*rc), n + 1));
	rc->headers_seen = false;
	rc->body = false;
	rc->answered = false;
	rc->too_long = n > HTTP_TARGET_MAX;
	if (rc->too_long)
		n = 0;
	memcpy(rc->target, uri, n);
	rc->target[n] = '\0';
	return rc;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct request_ctx *rc = *con_cls;

	if (rc) {
		if (rc->headers_seen)
			atomic_fetch_sub(&s->in_flight, 1);
		xfree(rc);
		*con_cls = NULL;
	}
}

/* ------------------------------------------------------------- policy */

static const struct http_route *route_find(const struct http_server *s,
					   const char *path)
{
	for (size_t i = 0; i < s->nroutes; i++) {
		const struct http_route *r = &s->routes[i];
		size_t n = strlen(r->path);

		if (n > 0 && r->path[n - 1] == '/') {
			if (strncmp(path, r->path, n) == 0)
				return r;
		} else if (strcmp(path, r->path) == 0) {
			return r;
		}
	}
	return NULL;
}

/* "Bearer <token>" with the right token; the comparison is of SHA-256
 * digests, so its time says nothing of the token, not even its length. */
static bool token_ok(const struct http_server *s, const char *authorization)
{
	uint8_t got[SHA256_LEN];
	volatile uint8_t diff = 0;
	const char *p;

	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return false;
	p = authorization + 7;
	while (*p == ' ')
		p++;
	sha256(p, strlen(p), got);
	for (size_t i = 0; i < SHA256_LEN; i++)
		diff |= got[i] ^ s->token_hash[i];
	return diff == 0;
}

/* Take one token from the api bucket; 0, or the seconds to wait. */
static int bucket_take(struct http_server *s)
{
	int64_t now = time_mono_ns();
	int wait = 0;

	pthread_mutex_lock(&s->bucket_lock);
	s->tokens += (double)(now - s->refilled_ns) / 1e9 * s->rate;
	if (s->tokens > s->burst)
		s->tokens = s->burst;
	s->refilled_ns = now;
	if (s->tokens >= 1.0) {
		s->tokens -= 1.0;
	} else {
		double w = ceil((1.0 - s->tokens) / s->rate);

		wait = w < 1.0 ? 1 : w > 3600.0 ? 3600 : (int)w;
	}
	pthread_mutex_unlock(&s->bucket_lock);
	return wait;
}

static bool has_body(struct MHD_Connection *c)
{
	const char *cl =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     "Transfer-Encoding");

	if (te)
		return true;
	if (!cl)
		return false;
	while (*cl == '0')
		cl++;
	return *cl != '\0';
}

/* ----------------------------------------------------------- answering */

static void count(struct http_server *s, const struct http_route *r, int status)
{
	char code[16];
	const char *values[2];

	if (!s->requests_total)
		return;
	snprintf(code, sizeof(code), "%d", status);
	values[0] = r ? r->path : "other";
	values[1] = code;
	metric_add(s->requests_total, values, 1);
}

static enum MHD_Result respond(struct http_server *s, struct MHD_Connection *c,
			       const struct http_route *r,
			       struct http_response *resp, bool close)
{
	struct MHD_Response *mr;
	enum MHD_Result ok;
	size_t len;
	char *data;
	char retry[16];

	data = buf_detach(&resp->body, &len);
	mr = MHD_create_response_from_buffer_with_free_callback(len, data,
								xfree);
	if (!mr) {
		xfree(data);
		return MHD_NO;
	}
	ok = MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
				     resp->content_type ? resp->content_type
							: "application/json");
	if (ok)
		ok = MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL,
					     "no-store");
	if (ok && resp->retry_after_s > 0) {
		snprintf(retry, sizeof(retry), "%d", resp->retry_after_s);
		ok = MHD_add_response_header(mr, MHD_HTTP_HEADER_RETRY_AFTER,
					     retry);
	}
	if (ok && resp->status == MHD_HTTP_METHOD_NOT_ALLOWED)
		ok = MHD_add_response_header(mr, MHD_HTTP_HEADER_ALLOW,
					     "GET, HEAD");
	if (ok && resp->status == MHD_HTTP_UNAUTHORIZED)
		ok = MHD_add_response_header(mr,
					     MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					     "Bearer realm=\"elava\"");
	if (ok && close)
		ok = MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION,
					     "close");
	if (ok)
		ok = MHD_queue_response(c, (unsigned)resp->status, mr);
	MHD_destroy_response(mr);
	if (ok)
		count(s, r, resp->status);
	return ok;
}

/* Everything a request goes through before its handler, in order. */
static void dispatch(struct http_server *s, struct MHD_Connection *c,
		     struct request_ctx *rc, const char *method,
		     const struct http_route **route,
		     struct http_response *resp, bool *close)
{
	struct http_target t;
	struct elava_error err = {0};
	const struct http_route *r;
	struct http_request req;
	int wait;

	if (rc->too_long) {
		http_error(resp, MHD_HTTP_URI_TOO_LONG,
			   "request target is longer than %d bytes",
			   HTTP_TARGET_MAX);
		return;
	}
	if (http_target_parse(rc->target, &t, &err)) {
		http_error(resp, MHD_HTTP_BAD_REQUEST, "%s", err.msg);
		goto out;
	}
	if (!(r = route_find(s, t.path))) {
		http_error(resp, MHD_HTTP_NOT_FOUND, "no such endpoint");
		goto out;
	}
	*route = r;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		*close = rc->body;
		http_error(resp, MHD_HTTP_METHOD_NOT_ALLOWED,
			   "method not allowed (GET and HEAD are)");
		goto out;
	}
	if (rc->body) {
		*close = true;
		http_error(resp, MHD_HTTP_CONTENT_TOO_LARGE,
			   "request bodies are not accepted");
		goto out;
	}
	req.method = method;
	req.target = &t;
	req.authorization = MHD_lookup_connection_value(
	    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (r->api && s->has_token && !token_ok(s, req.authorization)) {
		http_error(resp, MHD_HTTP_UNAUTHORIZED,
			   req.authorization ? "wrong bearer token"
					     : "a bearer token is required");
		goto out;
	}
	if (r->api && (wait = bucket_take(s)) > 0) {
		http_error(resp, MHD_HTTP_TOO_MANY_REQUESTS,
			   "over the API rate of %g requests per second",
			   s->rate);
		resp->retry_after_s = wait;
		goto out;
	}
	r->fn(&req, resp, s->ud);
	if (resp->status < 100 || resp->status > 599) {
		log_error(MOD, "handler of '%s' set status %d", r->path,
			  resp->status);
		http_error(resp, MHD_HTTP_INTERNAL_SERVER_ERROR,
			   "internal error");
	}
out:
	http_target_release(&t);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct request_ctx *rc = *con_cls;
	const struct http_route *r = NULL;
	struct http_response resp;
	enum MHD_Result ok;
	bool close = false;

	if (!rc)
		return MHD_NO; /* not seen by on_uri: cannot happen */
	if (rc->answered) {
		/* Body bytes after the answer (413): MHD discards them. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		/* A body its headers did not announce: refused at its end. */
		rc->body = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!rc->headers_seen) {
		rc->headers_seen = true;
		atomic_fetch_add(&s->in_flight, 1);
		rc->body = has_body(c);
		/* MHD keeps a connection alive only for an answer queued
		 * once the request is fully received: wait for the next
		 * call, unless a body follows, which is refused at once (MHD
		 * then skips it and closes the connection). */
		if (!rc->body)
			return MHD_YES;
	}
	rc->answered = true;
	resp.status = MHD_HTTP_OK;
	resp.content_type = NULL;
	resp.retry_after_s = 0;
	buf_init(&resp.body, 0);
	dispatch(s, c, rc, method, &r, &resp, &close);
	ok = respond(s, c, r, &resp, close);
	buf_release(&resp.body);
	return ok;
}

/* ------------------------------------------------------------ lifecycle */

/* Bind and listen on our own socket, so a failed bind's errno is ours
 * (MHD's is lost in its cleanup): "in use" becomes ELAVA_E_BUSY. */
static int listen_on(const char *addr, int port, int *fd_out,
		     struct elava_error *err)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char shown[INET6_ADDRSTRLEN + 16];
	int one = 1;
	int fd = -1;
	int e;

	memset(&ss, 0, sizeof(ss));
	if (!addr)
		return elava_error_set(err, ELAVA_E_INVAL, "no listen address");
	if (port < 0 || port > 65535)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "port %d is not in 0-65535", port);
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) ==
	    1) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		sl = sizeof(*in);
		snprintf(shown, sizeof(shown), "%s:%d", addr, port);
	} else if (inet_pton(AF_INET6, addr,
			     &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*in6);
		snprintf(shown, sizeof(shown), "[%s]:%d", addr, port);
	} else {
		return elava_error_set(err, ELAVA_E_INVAL,
				       "listen address '%.64s' is not an IPv4 "
				       "or IPv6 address",
				       addr);
	}
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return elava_error_set(err, ELAVA_E_IO,
				       "cannot open a socket: %s",
				       strerror(errno));
	/* Restart while old connections sit in TIME_WAIT; on Linux this
	 * does not let two servers listen on one port. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		e = errno;
		close(fd);
		if (e == EADDRINUSE)
			return elava_error_set(err, ELAVA_E_BUSY,
					       "address %s is in use", shown);
		return elava_error_set(
		    err, e == EACCES ? ELAVA_E_PERM : ELAVA_E_IO,
		    "cannot listen on %s: %s", shown, strerror(e));
	}
	*fd_out = fd;
	return 0;
}

static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

static void server_free(struct http_server *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	for (size_t i = 0; i < s->nroutes; i++)
		xfree((char *)s->routes[i].path);
	xfree(s->routes);
	pthread_mutex_destroy(&s->bucket_lock);
	xfree(s);
}

int http_server_start(const struct http_server_options *o,
		      struct http_server **out, struct elava_error *err)
{
	struct http_server *s = NULL;
	unsigned conns;
	int rc;

	*out = NULL;
	if (o->nroutes > 0 && !o->routes)
		return elava_error_set(err, ELAVA_E_INVAL, "no routes");
	if (o->token && !o->token[0])
		return elava_error_set(err, ELAVA_E_INVAL, "empty API token");
	if (!(o->api_requests_per_second >= 0.0) ||
	    !isfinite(o->api_requests_per_second))
		return elava_error_set(
		    err, ELAVA_E_INVAL,
		    "API rate must be a finite number, 0 or more");
	for (size_t i = 0; i < o->nroutes; i++)
		if (!o->routes[i].path || o->routes[i].path[0] != '/' ||
		    !o->routes[i].fn)
			return elava_error_set(err, ELAVA_E_INVAL,
					       "route %zu has no path or no "
					       "handler",
					       i);

	s = xcalloc(1, sizeof(*s));
	s->fd = -1;
	pthread_mutex_init(&s->bucket_lock, NULL);
	atomic_init(&s->in_flight, 0);
	s->routes = xcalloc(o->nroutes ? o->nroutes : 1, sizeof(*s->routes));
	for (size_t i = 0; i < o->nroutes; i++) {
		s->routes[i] = o->routes[i];
		s->routes[i].path = xstrdup(o->routes[i].path);
	}
	s->nroutes = o->nroutes;
	s->ud = o->ud;
	if (o->token) {
		s->has_token = true;
		sha256(o->token, strlen(o->token), s->token_hash);
	}
	s->requests_total = o->requests_total;
	s->rate = o->api_requests_per_second > 0 ? o->api_requests_per_second
						 : DEFAULT_API_RPS;
	s->burst = 2.0 * s->rate < 1.0 ? 1.0 : 2.0 * s->rate;
	s->tokens = s->burst;
	s->refilled_ns = time_mono_ns();
	conns = o->max_connections ? o->max_connections : DEFAULT_CONNECTIONS;

	if ((rc = listen_on(o->listen, o->port, &s->fd, err)))
		goto out;
	s->port = bound_port(s->fd);
	s->mhd = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
		MHD_USE_ERROR_LOG,
	    0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
	    s, MHD_OPTION_LISTEN_SOCKET, s->fd, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)THREAD_POOL_SIZE, MHD_OPTION_CONNECTION_LIMIT, conns,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, s, MHD_OPTION_END);
	if (!s->mhd) {
		/* Whether MHD closed the socket it was given depends on how
		 * far it got: close it only if it is still open. */
		if (fcntl(s->fd, F_GETFD) < 0)
			s->fd = -1;
		rc = elava_error_set(err, ELAVA_E_IO,
				     "cannot start the HTTP server on port %d",
				     s->port);
		goto out;
	}
	log_debug(MOD, "listening on %s port %d", o->listen, s->port);
	*out = s;
	s = NULL;
	rc = 0;
out:
	server_free(s);
	return rc;
}

int http_server_port(const struct http_server *s)
{
	return s ? s->port : -1;
}

void http_server_stop(struct http_server **sp)
{
	struct http_server *s = sp ? *sp : NULL;
	int64_t deadline;
	int fd;

	if (!s)
		return;
	*sp = NULL;
	/* No new connections; the listen socket comes back to us. */
	fd = MHD_quiesce_daemon(s->mhd);
	if (fd < 0)
		s->fd = -1; /* not given back: MHD_stop_daemon closes it */
	else if (fd != s->fd)
		close(fd);
	/* Let the requests in flight finish, within reason (a handler that
	 * hangs, or a client that reads its answer slowly). Connections
	 * idle or still sending their headers are just closed. */
	deadline = time_mono_ns() + STOP_GRACE_NS;
	while (atomic_load(&s->in_flight) > 0 && time_mono_ns() < deadline) {
		struct timespec ts = {0, 5 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(s->mhd);
	server_free(s);
}
