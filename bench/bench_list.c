/*
 * elava-bench list: how fast Elava lists EC2 instances, next to the floors
 * of the same work on the same bytes. A server process generates realistic
 * DescribeInstances pages (about 5.6 KB an instance, 1000 a page, nextToken
 * on all but the last), keeps them in memory and serves them over HTTP/1.1
 * on loopback; it answers STS GetCallerIdentity too, since the provider
 * asks for the account first. Then, in this order:
 *
 *   list_s        Elava's listing through the public provider API, run in
 *                 a child forked while this process is still small, so its
 *                 peak RSS (wait4) is the listing's own;
 *   download_s    the same pages fetched with plain libcurl (one handle,
 *                 keep-alive, bytes discarded): the transport floor;
 *   null_parse_s  the same bytes, in memory, through libxml2's SAX2 push
 *                 parser with empty callbacks: the parsing floor;
 *   awscli_s      `aws ec2 describe-instances` over a second, smaller page
 *                 set on its own port (skipped when aws is not on PATH).
 *
 * Figures are printed, never judged. The server process ends when this
 * one closes its control pipe (or dies).
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "awsfake.h"
#include "provider/provider.h"

#define PAGE_MAX    ((size_t)1 << 30) /* one generated or fetched page */
#define PARSE_CHUNK ((size_t)64 << 10)

/* The two page sets the server holds: Elava's, and awscli's. */
enum { SET_LIST, SET_AWSCLI, NSETS };

/* ------------------------------------------------------------ the pages */

struct page_set {
	struct buf *pages;
	size_t npages, instances, bytes;
};

static void page_set_build(struct page_set *s, size_t n, size_t per_page)
{
	static const char head[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<DescribeInstancesResponse xmlns=\"" AWSFAKE_EC2_NS "\">\n";
	static const char tail[] = "</DescribeInstancesResponse>\n";

	memset(s, 0, sizeof(*s));
	s->instances = n;
	s->npages = (n + per_page - 1) / per_page;
	s->pages = xcalloc(s->npages, sizeof(*s->pages));
	for (size_t p = 0; p < s->npages; p++) {
		size_t first = p * per_page;
		size_t last = first + per_page < n ? first + per_page : n;
		uint64_t rq = awsfake_mix64(p ^ 0x4e0e57ULL);
		struct xw w = {&s->pages[p], 0, 0};

		buf_init(&s->pages[p], PAGE_MAX);
		xw_put(&w, head, sizeof(head) - 1);
		w.depth = 1;
		xw_leaff(&w, "requestId", "%08x-%04x-%04x-%04x-%012" PRIx64,
			 (unsigned)(rq >> 32), (unsigned)(rq >> 16) & 0xffff,
			 (unsigned)rq & 0xffff, (unsigned)(p & 0xffff),
			 awsfake_mix64(rq) >> 16);
		xw_open(&w, "reservationSet");
		/* Mostly one instance a reservation; now and then two. */
		for (size_t i = first; i < last;) {
			size_t k =
			    awsfake_mix64(i ^ 0x7e5ULL) % 5 == 0 && i + 1 < last
				? 2
				: 1;
			awsfake_ec2_reservation(&w, i, k, 0);
			i += k;
		}
		xw_close(&w, "reservationSet");
		if (p + 1 < s->npages) {
			char tok[AWSFAKE_TOKEN_LEN + 1];
			awsfake_token(p + 1, tok);
			xw_leaf(&w, "nextToken", tok);
		}
		xw_put(&w, tail, sizeof(tail) - 1);
		if (w.rc)
			bench_die("page %zu: %s", p, elava_strerror(w.rc));
		s->bytes += s->pages[p].len;
	}
}

/* ----------------------------------------------------------- the server */

/* What the server counts, in memory shared with this process. */
struct server_stats {
	atomic_size_t requests[NSETS];
	atomic_size_t last_page_served[NSETS]; /* times the last page went */
};

/* What the server tells this process once it listens. */
struct server_ready {
	int ok;
	unsigned short port[NSETS];
	size_t bytes[NSETS], npages[NSETS];
	double gen_s;
};

struct server {
	struct bench_proc proc;
	struct server_ready ready;
	struct server_stats *stats;
};

/* What the server process is to build. */
struct server_args {
	const size_t *counts; /* NSETS */
	size_t per_page;
	struct server_stats *stats;
};

/* What one listening port answers from. */
struct set_ctx {
	int set;
	const struct page_set *pages;
	struct server_stats *stats;
};

/* Answer one request; false when the connection should close. */
static bool handle(const struct awsfake_request *rq, void *ud)
{
	struct set_ctx *c = ud;
	struct buf action = BUF_INIT, tok = BUF_INIT;
	size_t page = 0;
	bool ok;

	buf_init(&action, 0);
	buf_init(&tok, 0);
	awsfake_param(rq, "Action", &action);
	awsfake_param(rq, "NextToken", &tok);
	if (action.len && !strcmp(action.data, "GetCallerIdentity")) {
		ok = awsfake_reply_caller_identity(rq);
	} else if (action.len && !strcmp(action.data, "DescribeRegions")) {
		ok = awsfake_reply_describe_regions(rq);
	} else if (action.len && !strcmp(action.data, "DescribeInstances")) {
		if ((tok.len &&
		     (!awsfake_token_parse(tok.data, &page) || page == 0)) ||
		    page >= c->pages->npages) {
			ok =
			    awsfake_reply_ec2_error(rq, "InvalidParameterValue",
						    "Invalid value for "
						    "nextToken");
		} else {
			const struct buf *pg = &c->pages->pages[page];
			atomic_fetch_add(&c->stats->requests[c->set], 1);
			if (page + 1 == c->pages->npages)
				atomic_fetch_add(
				    &c->stats->last_page_served[c->set], 1);
			ok = awsfake_reply(rq, 200, "AmazonEC2", pg->data,
					   pg->len);
		}
	} else {
		ok = awsfake_reply_ec2_error(
		    rq, "InvalidAction",
		    "The action is not valid for this web service");
	}
	buf_release(&action);
	buf_release(&tok);
	return ok;
}

/* The server process: build the pages, listen, report, serve until the
 * control pipe closes. Never returns. */
static void server_main(int ctl, int ready_fd, void *arg)
{
	const struct server_args *a = arg;
	const size_t *counts = a->counts;
	struct page_set sets[NSETS];
	struct set_ctx ctx[NSETS];
	struct awsfake_listener l[NSETS];
	struct server_ready rd;
	int64_t t0 = time_mono_ns();

	memset(&rd, 0, sizeof(rd));
	memset(sets, 0, sizeof(sets));
	for (int s = 0; s < NSETS; s++) {
		if (counts[s])
			page_set_build(&sets[s], counts[s], a->per_page);
		rd.bytes[s] = sets[s].bytes;
		rd.npages[s] = sets[s].npages;
	}
	rd.gen_s = bench_secs_since(t0);
	rd.ok = 1;
	for (int s = 0; s < NSETS; s++) {
		ctx[s].set = s;
		ctx[s].pages = &sets[s];
		ctx[s].stats = a->stats;
		l[s].fd = awsfake_listen(&rd.port[s]);
		l[s].handle = handle;
		l[s].ud = &ctx[s];
		if (l[s].fd < 0)
			rd.ok = 0;
	}
	if (!bench_write_all(ready_fd, &rd, sizeof(rd)) || !rd.ok)
		_exit(1);
	close(ready_fd);
	awsfake_serve(l, NSETS, ctl, NULL, NULL);
}

static void server_start(struct server *srv, const size_t counts[NSETS],
			 size_t per_page)
{
	struct server_args a = {counts, per_page, NULL};

	memset(srv, 0, sizeof(*srv));
	srv->stats = a.stats = bench_shared_new(sizeof(*srv->stats));
	bench_proc_start(&srv->proc, server_main, &a);
	if (!bench_read_all(srv->proc.reply, &srv->ready, sizeof(srv->ready)) ||
	    !srv->ready.ok)
		bench_die("the page server did not start");
}

static void server_stop(struct server *srv)
{
	bench_proc_stop(&srv->proc);
	bench_shared_free(srv->stats, sizeof(*srv->stats));
}

/* ---------------------------------------------------- Elava's listing */

/* What the listing child reports back through its pipe. */
struct list_result {
	int rc;		      /* 0, or what failed (msg says) */
	double new_s, list_s; /* provider_aws_new, provider_list */
	size_t seen;	      /* resources delivered to the callback */
	size_t bad;	      /* of which not ec2_instance/i-... */
	size_t listings;      /* listing_done calls */
	size_t resources;     /* as listing_done counted them */
	size_t pages;
	int status;
	long rss_before_kb; /* peak RSS before provider_list */
	char msg[1024];
};

static int on_resource(const struct resource *r, void *ud)
{
	struct list_result *lr = ud;

	lr->seen++;
	if (!r->id || strncmp(r->id, "i-", 2) || !r->type ||
	    strcmp(r->type, "ec2_instance"))
		lr->bad++;
	return 0;
}

static void on_listing(const struct provider_listing *l, void *ud)
{
	struct list_result *lr = ud;

	lr->listings++;
	lr->status = l->status;
	lr->resources = l->resources;
	lr->pages = l->pages;
	if (l->status)
		snprintf(lr->msg, sizeof(lr->msg), "listing '%s': %s", l->scope,
			 l->err ? l->err->msg : elava_strerror(l->status));
}

/* The child: a provider, one listing, the figures down the pipe. */
static void list_child(int out)
{
	static const char *const types[] = {"ec2_instance"};
	static const char *const regions[] = {AWSFAKE_REGION};
	struct provider_aws_options o = {0};
	struct provider_scope scope = {
	    .regions = regions, .nregions = 1, .types = types, .ntypes = 1};
	struct provider_callbacks cb = {.resource = on_resource,
					.listing_done = on_listing};
	struct elava_error err = {0};
	struct provider *p = NULL;
	struct list_result lr;
	struct rusage ru;
	int64_t t0;

	memset(&lr, 0, sizeof(lr));
	cb.ud = &lr;
	log_configure(LOG_WARN, LOG_FORMAT_TEXT);
	o.region = AWSFAKE_REGION;
	t0 = time_mono_ns();
	lr.rc = provider_aws_new(&o, &p, &err);
	lr.new_s = bench_secs_since(t0);
	if (lr.rc) {
		snprintf(lr.msg, sizeof(lr.msg), "provider_aws_new: %s",
			 err.msg);
		goto out;
	}
	getrusage(RUSAGE_SELF, &ru);
	lr.rss_before_kb = ru.ru_maxrss;
	t0 = time_mono_ns();
	lr.rc = provider_list(p, &scope, &cb, &err);
	lr.list_s = bench_secs_since(t0);
	if (lr.rc)
		snprintf(lr.msg, sizeof(lr.msg), "provider_list: %s", err.msg);
	provider_free(&p);
out:
	_exit(bench_write_all(out, &lr, sizeof(lr)) ? 0 : 1);
}

/* Run the listing in a fresh child; its peak RSS comes from wait4. */
static void run_listing(size_t n, size_t npages, struct list_result *lr,
			long *maxrss_kb)
{
	struct rusage ru;
	int fds[2], st;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		bench_die("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		list_child(fds[1]);
	}
	close(fds[1]);
	memset(lr, 0, sizeof(*lr));
	bool got = bench_read_all(fds[0], lr, sizeof(*lr));
	close(fds[0]);
	if (wait4(pid, &st, 0, &ru) != pid)
		bench_die("wait4: %s", strerror(errno));
	*maxrss_kb = ru.ru_maxrss;
	if (!got || !WIFEXITED(st) || WEXITSTATUS(st))
		bench_die("the listing process failed (%s %d)",
			  WIFSIGNALED(st) ? "signal" : "exit status",
			  WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	if (lr->rc)
		bench_die("%s", lr->msg);
	if (lr->listings != 1)
		bench_die("expected one listing, got %zu", lr->listings);
	if (lr->status)
		bench_die("%s", lr->msg);
	if (lr->resources != n || lr->seen != n)
		bench_die("listed %zu instances (%zu through the callback), "
			  "expected %zu",
			  lr->resources, lr->seen, n);
	if (lr->bad)
		bench_die("%zu resources are not ec2_instance i-...", lr->bad);
	if (lr->pages != npages)
		bench_die("the listing read %zu pages, expected %zu", lr->pages,
			  npages);
}

/* ------------------------------------------------------- the floors */

struct fetch {
	CURL *h;
	struct curl_slist *hdrs;
	struct buf req;
	struct buf *sink; /* NULL: discard */
	size_t bytes;
	bool too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct fetch *f = ud;
	size_t len = size * n;

	f->bytes += len;
	if (f->sink && buf_append(f->sink, p, len)) {
		f->too_big = true;
		return 0;
	}
	return len;
}

static void fetch_init(struct fetch *f, unsigned short port)
{
	char url[64];

	memset(f, 0, sizeof(*f));
	buf_init(&f->req, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", port);
	f->h = curl_easy_init();
	if (!f->h)
		bench_die("curl_easy_init failed");
	f->hdrs = curl_slist_append(
	    NULL, "Content-Type: application/x-www-form-urlencoded; "
		  "charset=utf-8");
	f->hdrs = curl_slist_append(f->hdrs, "Expect:");
	curl_easy_setopt(f->h, CURLOPT_URL, url);
	curl_easy_setopt(f->h, CURLOPT_HTTPHEADER, f->hdrs);
	curl_easy_setopt(f->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(f->h, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(f->h, CURLOPT_POST, 1L);
}

static void fetch_release(struct fetch *f)
{
	curl_easy_cleanup(f->h);
	curl_slist_free_all(f->hdrs);
	buf_release(&f->req);
}

/* POST DescribeInstances for one page, as the provider asks for it. */
static void fetch_page(struct fetch *f, size_t page)
{
	long status = 0;
	CURLcode cc;

	buf_reset(&f->req);
	buf_puts(&f->req, "Action=DescribeInstances&Version=2016-11-15"
			  "&MaxResults=1000");
	if (page) {
		char tok[AWSFAKE_TOKEN_LEN + 1];
		awsfake_token(page, tok);
		buf_puts(&f->req, "&NextToken=");
		for (const char *t = tok; *t; t++)
			if (*t == '=')
				buf_puts(&f->req, "%3D");
			else
				buf_putc(&f->req, *t);
	}
	curl_easy_setopt(f->h, CURLOPT_POSTFIELDS, f->req.data);
	curl_easy_setopt(f->h, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)f->req.len);
	cc = curl_easy_perform(f->h);
	curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK || status != 200 || f->too_big)
		bench_die("download of page %zu: %s (HTTP %ld)", page,
			  f->too_big ? "page too large"
				     : curl_easy_strerror(cc),
			  status);
}

/* Every page with one reused handle; kept in pages[] when non-NULL. */
static double download(unsigned short port, size_t npages, struct buf *pages,
		       size_t *bytes)
{
	struct fetch f;
	int64_t t0;
	double s;

	fetch_init(&f, port);
	t0 = time_mono_ns();
	for (size_t p = 0; p < npages; p++) {
		if (pages) {
			buf_init(&pages[p], PAGE_MAX);
			f.sink = &pages[p];
		}
		fetch_page(&f, p);
	}
	s = bench_secs_since(t0);
	*bytes = f.bytes;
	fetch_release(&f);
	return s;
}

static void sax_start(void *ctx, const xmlChar *localname,
		      const xmlChar *prefix, const xmlChar *uri, int nns,
		      const xmlChar **ns, int nattrs, int ndefaulted,
		      const xmlChar **attrs)
{
}

static void sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		    const xmlChar *uri)
{
}

static void sax_chars(void *ctx, const xmlChar *ch, int len)
{
}

/* Every page through libxml2's SAX2 push parser, callbacks doing nothing. */
static double null_parse(const struct buf *pages, size_t npages)
{
	xmlSAXHandler sax;
	int64_t t0;

	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = sax_start;
	sax.endElementNs = sax_end;
	sax.characters = sax_chars;
	sax.ignorableWhitespace = sax_chars;
	t0 = time_mono_ns();
	for (size_t p = 0; p < npages; p++) {
		xmlParserCtxtPtr ctx =
		    xmlCreatePushParserCtxt(&sax, NULL, NULL, 0, NULL);
		const char *d = pages[p].data;
		size_t left = pages[p].len;
		int rc = 0;

		if (!ctx)
			bench_die("xmlCreatePushParserCtxt failed");
		xmlCtxtUseOptions(ctx, XML_PARSE_NONET | XML_PARSE_NOERROR |
					   XML_PARSE_NOWARNING);
		while (left && !rc) {
			size_t k = left < PARSE_CHUNK ? left : PARSE_CHUNK;
			rc = xmlParseChunk(ctx, d, (int)k, 0);
			d += k;
			left -= k;
		}
		if (!rc)
			rc = xmlParseChunk(ctx, NULL, 0, 1);
		if (rc || !ctx->wellFormed)
			bench_die(
			    "page %zu is not well-formed XML (libxml2 error "
			    "%d)",
			    p, rc);
		xmlFreeParserCtxt(ctx);
	}
	return bench_secs_since(t0);
}

/* ------------------------------------------------------------- awscli */

static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char full[4096];

	while (path && *path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);
		snprintf(full, sizeof(full), "%.*s/%s", (int)n, path, prog);
		if (n && !access(full, X_OK))
			return true;
		path = colon ? colon + 1 : NULL;
	}
	return false;
}

static double run_awscli(unsigned short port)
{
	char url[64];
	char *const argv[] = {
	    (char *)"aws",
	    (char *)"ec2",
	    (char *)"describe-instances",
	    (char *)"--endpoint-url",
	    url,
	    (char *)"--region",
	    (char *)AWSFAKE_REGION,
	    (char *)"--output",
	    (char *)"json",
	    NULL,
	};
	int64_t t0;
	int st;
	pid_t pid;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
	fflush(NULL);
	t0 = time_mono_ns();
	pid = fork();
	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		execvp("aws", argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		bench_die("waitpid: %s", strerror(errno));
	double s = bench_secs_since(t0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		bench_die("aws ec2 describe-instances failed (%s %d)",
			  WIFSIGNALED(st) ? "signal" : "exit status",
			  WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	return s;
}

/* --------------------------------------------------------------- main */

static void usage(FILE *out)
{
	fprintf(out, "usage: elava-bench list [--instances N] [--per-page P] "
		     "[--awscli-instances M (0: skip)] [--json]\n");
}

int bench_list(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"instances", required_argument, NULL, 'n'},
	    {"per-page", required_argument, NULL, 'p'},
	    {"awscli-instances", required_argument, NULL, 'a'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	size_t n = 100000, per_page = 1000, awscli_n = 10000;
	size_t counts[NSETS], bytes = 0;
	bool json = false, awscli;
	struct server srv;
	struct list_result lr;
	struct buf *pages;
	long maxrss_kb = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!bench_parse_size(optarg, &n))
				n = 0;
			break;
		case 'p':
			if (!bench_parse_size(optarg, &per_page))
				per_page = 0;
			break;
		case 'a':
			if (!bench_parse_size(optarg, &awscli_n)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || n == 0 || per_page == 0 || n > 100000000 ||
	    per_page > 100000 || awscli_n > 100000000) {
		fprintf(stderr, "elava-bench list: invalid arguments\n");
		usage(stderr);
		return 2;
	}
	awscli = awscli_n > 0 && on_path("aws");
	counts[SET_LIST] = n;
	counts[SET_AWSCLI] = awscli ? awscli_n : 0;

	/* The server process builds the pages: this one stays small, so the
	 * listing child forked from it starts small too. */
	server_start(&srv, counts, per_page);
	const struct server_ready *rd = &srv.ready;
	awsfake_env(rd->port[SET_LIST]);

	/* (c) + (e): Elava's listing, in a child of its own. */
	run_listing(n, rd->npages[SET_LIST], &lr, &maxrss_kb);
	size_t requests = atomic_load(&srv.stats->requests[SET_LIST]);
	if (requests != rd->npages[SET_LIST])
		fprintf(stderr,
			"elava-bench list: warning: the listing made %zu "
			"DescribeInstances requests for %zu pages\n",
			requests, rd->npages[SET_LIST]);

	/* (a) the transport floor: every page, bytes discarded. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	double download_s =
	    download(rd->port[SET_LIST], rd->npages[SET_LIST], NULL, &bytes);
	if (bytes != rd->bytes[SET_LIST])
		bench_die("downloaded %zu bytes, the server holds %zu", bytes,
			  rd->bytes[SET_LIST]);

	/* (b) the parsing floor, on the same bytes fetched again (untimed). */
	pages = xcalloc(rd->npages[SET_LIST], sizeof(*pages));
	download(rd->port[SET_LIST], rd->npages[SET_LIST], pages, &bytes);
	if (bytes != rd->bytes[SET_LIST])
		bench_die("fetched %zu bytes, the server holds %zu", bytes,
			  rd->bytes[SET_LIST]);
	double null_parse_s = null_parse(pages, rd->npages[SET_LIST]);
	for (size_t p = 0; p < rd->npages[SET_LIST]; p++)
		buf_release(&pages[p]);
	xfree(pages);
	curl_global_cleanup();

	/* (d) the AWS CLI on its own, smaller page set. */
	double awscli_s = 0;
	if (awscli) {
		size_t before =
		    atomic_load(&srv.stats->last_page_served[SET_AWSCLI]);
		awscli_s = run_awscli(rd->port[SET_AWSCLI]);
		if (atomic_load(&srv.stats->last_page_served[SET_AWSCLI]) ==
		    before)
			bench_die(
			    "aws ec2 describe-instances did not read the last "
			    "page");
	}
	server_stop(&srv);

	double floor_s = download_s > null_parse_s ? download_s : null_parse_s;
	double mb = (double)rd->bytes[SET_LIST] / 1e6;
	double peak_mb = (double)maxrss_kb / 1024.0;
	double list_per_s = (double)n / lr.list_s;
	if (json) {
		printf("{\"instances\":%zu,\"per_page\":%zu,\"pages\":%zu,"
		       "\"bytes\":%zu,\"bytes_per_instance\":%.0f,"
		       "\"list_s\":%.3f,\"list_per_s\":%.0f,"
		       "\"list_mb_per_s\":%.1f,\"provider_new_s\":%.3f,"
		       "\"download_s\":%.3f,\"download_mb_per_s\":%.1f,"
		       "\"null_parse_s\":%.3f,\"null_parse_mb_per_s\":%.1f,"
		       "\"list_vs_floor\":%.2f,",
		       n, per_page, rd->npages[SET_LIST], rd->bytes[SET_LIST],
		       (double)rd->bytes[SET_LIST] / (double)n, lr.list_s,
		       list_per_s, mb / lr.list_s, lr.new_s, download_s,
		       mb / download_s, null_parse_s, mb / null_parse_s,
		       lr.list_s / floor_s);
		if (awscli)
			printf("\"awscli_s\":%.3f,\"awscli_instances\":%zu,"
			       "\"awscli_per_s\":%.0f,"
			       "\"speedup_vs_awscli\":%.1f,",
			       awscli_s, awscli_n, (double)awscli_n / awscli_s,
			       list_per_s / ((double)awscli_n / awscli_s));
		else
			printf("\"awscli_s\":null,\"awscli_instances\":%zu,"
			       "\"awscli_per_s\":null,"
			       "\"speedup_vs_awscli\":null,",
			       awscli_n);
		printf("\"peak_rss_mb\":%.1f,\"rss_before_list_mb\":%.1f,"
		       "\"pages_gen_s\":%.3f}\n",
		       peak_mb, (double)lr.rss_before_kb / 1024.0, rd->gen_s);
	} else {
		printf("list: %zu EC2 instances, %zu pages of %zu, %.1f MB "
		       "(%.0f bytes an instance)\n",
		       n, rd->npages[SET_LIST], per_page, mb,
		       (double)rd->bytes[SET_LIST] / (double)n);
		printf("  elava listing     %8.3f s  %9.0f instances/s  "
		       "%7.1f MB/s\n",
		       lr.list_s, list_per_s, mb / lr.list_s);
		printf("  download floor    %8.3f s  %9.0f instances/s  "
		       "%7.1f MB/s\n",
		       download_s, (double)n / download_s, mb / download_s);
		printf("  null parse floor  %8.3f s  %9.0f instances/s  "
		       "%7.1f MB/s\n",
		       null_parse_s, (double)n / null_parse_s,
		       mb / null_parse_s);
		printf("  list / floor      %8.2f x  (target <= 2)\n",
		       lr.list_s / floor_s);
		if (awscli)
			printf(
			    "  aws cli           %8.3f s  %9.0f instances/s  "
			    "(%zu instances); elava is %.1fx faster "
			    "(target >= 20)\n",
			    awscli_s, (double)awscli_n / awscli_s, awscli_n,
			    list_per_s / ((double)awscli_n / awscli_s));
		else
			printf("  aws cli           skipped (%s)\n",
			       awscli_n ? "aws not on PATH"
					: "--awscli-instances 0");
		printf("  peak RSS          %8.1f MB  (listing process; %.1f "
		       "MB before listing; target <= 64)\n",
		       peak_mb, (double)lr.rss_before_kb / 1024.0);
	}
	return 0;
}
