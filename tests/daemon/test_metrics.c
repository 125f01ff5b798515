/*
 * Unit tests for the metrics registry: the exact exposition text of every
 * kind of family with and without labels, escaping, number formatting,
 * histogram buckets, the series cap and its dropped counter, concurrent
 * updates under renders, the programming errors that abort, and a render
 * checked by the real `promtool check metrics`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/daemon_int.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

/* What every registry renders first: its own dropped-series counter. */
#define DROPPED_HEAD                                                           \
	"# HELP elava_metrics_series_dropped_total Updates dropped because "   \
	"their metric already had the maximum number of series.\n"             \
	"# TYPE elava_metrics_series_dropped_total counter\n"
#define DROPPED(n) DROPPED_HEAD "elava_metrics_series_dropped_total " n "\n"

static const char *const no_labels[] = {NULL};

/* The whole render, as a string to free. */
static char *render(struct metrics *m)
{
	struct buf b = BUF_INIT;

	assert_int_equal(metrics_render(m, &b), 0);
	return buf_detach(&b, NULL);
}

/* The render after the built-in family, which must say `dropped`. */
static char *render_rest(struct metrics *m, const char *dropped)
{
	char *all = render(m);
	char head[512];
	char *rest;

	snprintf(head, sizeof(head),
		 DROPPED_HEAD "elava_metrics_series_dropped_total %s\n",
		 dropped);
	assert_true(strlen(all) >= strlen(head));
	assert_memory_equal(all, head, strlen(head));
	rest = xstrdup(all + strlen(head));
	xfree(all);
	return rest;
}

static void assert_render(struct metrics *m, const char *want)
{
	char *got = render_rest(m, "0");

	assert_string_equal(got, want);
	xfree(got);
}

/* ------------------------------------------------------------ exact text */

static void test_empty_registry(void **state)
{
	struct metrics *m = metrics_new();
	char *got;
	(void)state;

	got = render(m);
	assert_string_equal(got, DROPPED("0"));
	xfree(got);
	metrics_free(&m);
	assert_null(m);
	metrics_free(&m);
	metrics_free(NULL);
}

static void test_counter_without_labels(void **state)
{
	struct metrics *m = metrics_new();
	struct metric *c =
	    metrics_counter(m, "elava_scans_total", "Scans run.", NULL);
	(void)state;

	/* There from the first scrape, at 0. */
	assert_render(m, "# HELP elava_scans_total Scans run.\n"
			 "# TYPE elava_scans_total counter\n"
			 "elava_scans_total 0\n");
	metric_add(c, NULL, 1);
	metric_add(c, no_labels, 2.5);
	assert_render(m, "# HELP elava_scans_total Scans run.\n"
			 "# TYPE elava_scans_total counter\n"
			 "elava_scans_total 3.5\n");
	metrics_free(&m);
}

static void test_counter_with_labels(void **state)
{
	static const char *const labels[] = {"type", "region", NULL};
	struct metrics *m = metrics_new();
	struct metric *c =
	    metrics_counter(m, "elava_changes_total", "Changes seen.", labels);
	(void)state;

	/* No series until one is touched. */
	assert_render(m, "# HELP elava_changes_total Changes seen.\n"
			 "# TYPE elava_changes_total counter\n");
	metric_add(c, (const char *[]){"ec2", "eu-west-1"}, 1);
	metric_add(c, (const char *[]){"s3", "us-east-1"}, 4);
	metric_add(c, (const char *[]){"ec2", "eu-west-1"}, 2);
	metric_add(c, (const char *[]){"ec2", "us-east-1"}, 0);
	/* Same values, other order: another series. */
	metric_add(c, (const char *[]){"eu-west-1", "ec2"}, 1);
	assert_render(
	    m, "# HELP elava_changes_total Changes seen.\n"
	       "# TYPE elava_changes_total counter\n"
	       "elava_changes_total{type=\"ec2\",region=\"eu-west-1\"} 3\n"
	       "elava_changes_total{type=\"s3\",region=\"us-east-1\"} 4\n"
	       "elava_changes_total{type=\"ec2\",region=\"us-east-1\"} 0\n"
	       "elava_changes_total{type=\"eu-west-1\",region=\"ec2\"} 1\n");
	metrics_free(&m);
}

static void test_counter_only_goes_up(void **state)
{
	static const char *const labels[] = {"k", NULL};
	struct metrics *m = metrics_new();
	struct metric *c = metrics_counter(m, "a_total", "A.", NULL);
	struct metric *l = metrics_counter(m, "b_total", "B.", labels);
	(void)state;

	metric_add(c, NULL, 5);
	metric_add(c, NULL, -1);
	metric_add(c, NULL, NAN);
	metric_add(c, NULL, -INFINITY);
	/* A negative add does not even create the series. */
	metric_add(l, (const char *[]){"x"}, -3);
	assert_render(m, "# HELP a_total A.\n"
			 "# TYPE a_total counter\n"
			 "a_total 5\n"
			 "# HELP b_total B.\n"
			 "# TYPE b_total counter\n");
	/* Set mirrors a counter kept elsewhere; never negative or NaN. */
	metric_set(c, NULL, 7.25);
	metric_set(c, NULL, -2);
	metric_set(c, NULL, NAN);
	metric_add(c, NULL, INFINITY);
	assert_render(m, "# HELP a_total A.\n"
			 "# TYPE a_total counter\n"
			 "a_total +Inf\n"
			 "# HELP b_total B.\n"
			 "# TYPE b_total counter\n");
	metrics_free(&m);
}

static void test_gauge(void **state)
{
	static const char *const labels[] = {"state", NULL};
	struct metrics *m = metrics_new();
	struct metric *g = metrics_gauge(m, "elava_up", "Up.", NULL);
	struct metric *h = metrics_gauge(m, "elava_things", "Things.", labels);
	(void)state;

	metric_set(g, NULL, 1);
	metric_add(g, NULL, -3.5);
	metric_set(h, (const char *[]){"a"}, -17);
	metric_add(h, (const char *[]){"b"}, 2);
	metric_add(h, (const char *[]){"b"}, -0.5);
	assert_render(m, "# HELP elava_up Up.\n"
			 "# TYPE elava_up gauge\n"
			 "elava_up -2.5\n"
			 "# HELP elava_things Things.\n"
			 "# TYPE elava_things gauge\n"
			 "elava_things{state=\"a\"} -17\n"
			 "elava_things{state=\"b\"} 1.5\n");
	metric_set(g, NULL, NAN);
	metric_set(h, (const char *[]){"a"}, -INFINITY);
	metric_set(h, (const char *[]){"b"}, INFINITY);
	assert_render(m, "# HELP elava_up Up.\n"
			 "# TYPE elava_up gauge\n"
			 "elava_up NaN\n"
			 "# HELP elava_things Things.\n"
			 "# TYPE elava_things gauge\n"
			 "elava_things{state=\"a\"} -Inf\n"
			 "elava_things{state=\"b\"} +Inf\n");
	metrics_free(&m);
}

static void test_histogram_without_labels(void **state)
{
	static const double bounds[] = {0.25, 0.5, 1, 10};
	struct metrics *m = metrics_new();
	struct metric *h = metrics_histogram(m, "elava_duration_seconds",
					     "How long.", NULL, bounds, 4);
	(void)state;

	assert_render(m, "# HELP elava_duration_seconds How long.\n"
			 "# TYPE elava_duration_seconds histogram\n"
			 "elava_duration_seconds_bucket{le=\"0.25\"} 0\n"
			 "elava_duration_seconds_bucket{le=\"0.5\"} 0\n"
			 "elava_duration_seconds_bucket{le=\"1\"} 0\n"
			 "elava_duration_seconds_bucket{le=\"10\"} 0\n"
			 "elava_duration_seconds_bucket{le=\"+Inf\"} 0\n"
			 "elava_duration_seconds_sum 0\n"
			 "elava_duration_seconds_count 0\n");
	/* Bounds are inclusive; below the first goes in the first. */
	metric_observe(h, NULL, 0.125);
	metric_observe(h, NULL, 0.25);
	metric_observe(h, NULL, -1);
	metric_observe(h, NULL, 0.375);
	metric_observe(h, NULL, 1);
	metric_observe(h, NULL, 2);
	metric_observe(h, NULL, 11);
	metric_observe(h, NULL, INFINITY);
	metric_observe(h, NULL, NAN); /* ignored */
	assert_render(m, "# HELP elava_duration_seconds How long.\n"
			 "# TYPE elava_duration_seconds histogram\n"
			 "elava_duration_seconds_bucket{le=\"0.25\"} 3\n"
			 "elava_duration_seconds_bucket{le=\"0.5\"} 4\n"
			 "elava_duration_seconds_bucket{le=\"1\"} 5\n"
			 "elava_duration_seconds_bucket{le=\"10\"} 6\n"
			 "elava_duration_seconds_bucket{le=\"+Inf\"} 8\n"
			 "elava_duration_seconds_sum +Inf\n"
			 "elava_duration_seconds_count 8\n");
	metrics_free(&m);
}

static void test_histogram_with_labels(void **state)
{
	static const double bounds[] = {0.005, 0.1, 2.5};
	static const char *const labels[] = {"service", NULL};
	struct metrics *m = metrics_new();
	struct metric *h;
	(void)state;

	h = metrics_histogram(m, "api_seconds", "API call time.", labels,
			      bounds, 3);
	assert_render(m, "# HELP api_seconds API call time.\n"
			 "# TYPE api_seconds histogram\n");
	metric_observe(h, (const char *[]){"ec2"}, 0.05);
	metric_observe(h, (const char *[]){"s3"}, 3);
	metric_observe(h, (const char *[]){"ec2"}, 0.001);
	metric_observe(h, (const char *[]){"ec2"}, 0.25);
	assert_render(m, "# HELP api_seconds API call time.\n"
			 "# TYPE api_seconds histogram\n"
			 "api_seconds_bucket{service=\"ec2\",le=\"0.005\"} 1\n"
			 "api_seconds_bucket{service=\"ec2\",le=\"0.1\"} 2\n"
			 "api_seconds_bucket{service=\"ec2\",le=\"2.5\"} 3\n"
			 "api_seconds_bucket{service=\"ec2\",le=\"+Inf\"} 3\n"
			 "api_seconds_sum{service=\"ec2\"} 0.301\n"
			 "api_seconds_count{service=\"ec2\"} 3\n"
			 "api_seconds_bucket{service=\"s3\",le=\"0.005\"} 0\n"
			 "api_seconds_bucket{service=\"s3\",le=\"0.1\"} 0\n"
			 "api_seconds_bucket{service=\"s3\",le=\"2.5\"} 0\n"
			 "api_seconds_bucket{service=\"s3\",le=\"+Inf\"} 1\n"
			 "api_seconds_sum{service=\"s3\"} 3\n"
			 "api_seconds_count{service=\"s3\"} 1\n");
	metrics_free(&m);
}

static void test_histogram_only_inf_bucket(void **state)
{
	struct metrics *m = metrics_new();
	struct metric *h =
	    metrics_histogram(m, "x_seconds", "X.", NULL, NULL, 0);
	(void)state;

	metric_observe(h, NULL, 1.5);
	metric_observe(h, NULL, 2);
	assert_render(m, "# HELP x_seconds X.\n"
			 "# TYPE x_seconds histogram\n"
			 "x_seconds_bucket{le=\"+Inf\"} 2\n"
			 "x_seconds_sum 3.5\n"
			 "x_seconds_count 2\n");
	metrics_free(&m);
}

/* ------------------------------------------------------------- escaping */

static void test_escaping(void **state)
{
	static const char *const labels[] = {"v", "w", NULL};
	struct metrics *m = metrics_new();
	struct metric *g = metrics_gauge(
	    m, "esc", "Back\\slash, \"quotes\" kept,\nnew line.", labels);
	(void)state;

	metric_set(g, (const char *[]){"a\\b", "say \"hi\""}, 1);
	metric_set(g, (const char *[]){"two\nlines", "\\\"\n"}, 2);
	metric_set(
	    g,
	    (const char *[]){"h\xc3\xa9llo \xe2\x82\xac", "\xf0\x9f\x90\xb1"},
	    3);
	metric_set(g, (const char *[]){"", "{},=' \t"}, 4);
	assert_render(m, "# HELP esc Back\\\\slash, \"quotes\" kept,\\nnew "
			 "line.\n"
			 "# TYPE esc gauge\n"
			 "esc{v=\"a\\\\b\",w=\"say \\\"hi\\\"\"} 1\n"
			 "esc{v=\"two\\nlines\",w=\"\\\\\\\"\\n\"} 2\n"
			 "esc{v=\"h\xc3\xa9llo \xe2\x82\xac\",w=\"\xf0\x9f"
			 "\x90\xb1\"} 3\n"
			 "esc{v=\"\",w=\"{},=' \t\"} 4\n");
	metrics_free(&m);
}

static void test_label_values_normalised(void **state)
{
	static const char *const labels[] = {"v", NULL};
	struct metrics *m = metrics_new();
	struct metric *c = metrics_counter(m, "n_total", "N.", labels);
	char long_value[3000];
	char *got;
	char *want;
	struct buf w = BUF_INIT;
	(void)state;

	/* Invalid UTF-8: each bad byte becomes U+FFFD. */
	metric_add(c,
		   (const char *[]){"a\xff"
				    "b\xc3"},
		   1);
	/* The same after normalising: the same series. */
	metric_add(c,
		   (const char *[]){"a\xfe"
				    "b\xc0"},
		   1);
	/* Overlong, surrogate. */
	metric_add(c, (const char *[]){"\xc0\xaf|\xed\xa0\x80"}, 1);
	/* Cut at 1024 bytes, on a character boundary. */
	memset(long_value, 'x', 1023);
	memcpy(long_value + 1023, "\xc3\xa9tail", 7);
	metric_add(c, (const char *[]){long_value}, 1);
	long_value[1023] = '\0';
	metric_add(c, (const char *[]){long_value}, 1);

	got = render_rest(m, "0");
	buf_printf(&w,
		   "# HELP n_total N.\n"
		   "# TYPE n_total counter\n"
		   "n_total{v=\"a\xef\xbf\xbd"
		   "b\xef\xbf\xbd\"} 2\n"
		   "n_total{v=\"\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf"
		   "\xbd\xef\xbf\xbd\"} 1\n"
		   "n_total{v=\"%s\"} 2\n",
		   long_value);
	want = buf_detach(&w, NULL);
	assert_string_equal(got, want);
	xfree(got);
	xfree(want);
	metrics_free(&m);
}

/* ----------------------------------------------------------- formatting */

/* The value part of the one series of a label-less gauge set to v. */
static char *format(double v)
{
	struct metrics *m = metrics_new();
	struct metric *g = metrics_gauge(m, "g", "G.", NULL);
	char *all;
	char *line;
	char *out;

	metric_set(g, NULL, v);
	all = render_rest(m, "0");
	line = strstr(all, "\ng ");
	assert_non_null(line);
	out = xstrdup(line + 3);
	assert_true(strlen(out) > 1 && out[strlen(out) - 1] == '\n');
	out[strlen(out) - 1] = '\0';
	xfree(all);
	metrics_free(&m);
	return out;
}

static void check_format(double v, const char *want)
{
	char *got = format(v);

	assert_string_equal(got, want);
	xfree(got);
}

static void test_value_format(void **state)
{
	(void)state;
	check_format(0, "0");
	check_format(-0.0, "0");
	check_format(1, "1");
	check_format(-1, "-1");
	check_format(42, "42");
	check_format(1e15, "1000000000000000");
	check_format(9007199254740991.0, "9007199254740991");
	check_format(-9007199254740991.0, "-9007199254740991");
	/* 2^53 and beyond: no longer exact integers, %g forms. */
	check_format(9007199254740992.0, "9007199254740992");
	check_format(1e20, "1e+20");
	check_format(-1.5e300, "-1.5e+300");
	check_format(1.7976931348623157e308, "1.7976931348623157e+308");
	check_format(0.5, "0.5");
	check_format(0.1, "0.1");
	check_format(-0.001, "-0.001");
	check_format(-0.5, "-0.5");
	check_format(0.000001, "0.000001");
	check_format(12345.678901, "12345.678901");
	check_format(-987654321.25, "-987654321.25");
	check_format(0.1 + 0.2, "0.30000000000000004");
	check_format(1.0 / 3, "0.3333333333333333");
	check_format(2.5e-7, "2.5e-07");
	check_format(5e-324, "4.94065645841247e-324");
	check_format(1234567.125, "1234567.125");
	check_format(INFINITY, "+Inf");
	check_format(-INFINITY, "-Inf");
	check_format(NAN, "NaN");
}

/* Whatever the double, the text reads back as the same double. */
static void test_value_round_trip(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	(void)state;

	for (int i = 0; i < 2000; i++) {
		double v;
		char *got;

		/* xorshift64: random bit patterns, all exponents */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(&v, &x, sizeof(v));
		if (i % 2)
			v = (double)(x % 1000000) / 1000;
		if (isnan(v) || isinf(v))
			continue;
		got = format(v);
		assert_true(strtod(got, NULL) == v);
		assert_null(strchr(got, ','));
		xfree(got);
	}
}

/* ------------------------------------------------------- the series cap */

struct captured {
	int warnings;
	char last[1024];
};

static void capture_log(enum log_level lvl, const char *line, void *ud)
{
	struct captured *c = ud;

	if (lvl == LOG_WARN)
		c->warnings++;
	snprintf(c->last, sizeof(c->last), "%s", line);
}

static size_t count_lines_starting(const char *s, const char *prefix)
{
	size_t n = 0;
	size_t pl = strlen(prefix);

	for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (!strncmp(p, prefix, pl))
			n++;
	return n;
}

static void test_series_cap(void **state)
{
	static const char *const labels[] = {"id", NULL};
	struct metrics *m = metrics_new();
	struct metric *c = metrics_counter(m, "many_total", "Many.", labels);
	struct metric *h = metrics_histogram(m, "few_seconds", "Few.", labels,
					     (const double[]){1}, 1);
	struct captured cap = {0};
	char id[32];
	char *all;
	(void)state;

	for (int i = 0; i < METRICS_MAX_SERIES; i++) {
		snprintf(id, sizeof(id), "i-%d", i);
		metric_add(c, (const char *[]){id}, 1);
	}
	log_set_sink(capture_log, &cap);
	/* Three new label sets are dropped and counted; each is logged
	 * once per family. */
	metric_add(c, (const char *[]){"new-1"}, 1);
	metric_add(c, (const char *[]){"new-2"}, 1);
	metric_add(c, (const char *[]){"new-1"}, 1);
	log_set_sink(NULL, NULL);
	assert_int_equal(cap.warnings, 1);
	assert_non_null(strstr(cap.last, "many_total"));
	assert_non_null(strstr(cap.last, "4096"));
	/* Known series still move; other families are not affected. */
	metric_add(c, (const char *[]){"i-0"}, 1);
	metric_add(c, (const char *[]){"i-4095"}, 10);
	metric_observe(h, (const char *[]){"x"}, 0.5);

	all = render_rest(m, "3");
	assert_int_equal(count_lines_starting(all, "many_total{"),
			 METRICS_MAX_SERIES);
	assert_non_null(strstr(all, "\nmany_total{id=\"i-0\"} 2\n"));
	assert_non_null(strstr(all, "\nmany_total{id=\"i-1\"} 1\n"));
	assert_non_null(strstr(all, "\nmany_total{id=\"i-4095\"} 11\n"));
	assert_null(strstr(all, "new-"));
	assert_non_null(strstr(all, "\nfew_seconds_count{id=\"x\"} 1\n"));
	/* Series keep the order they appeared in. */
	assert_true(strstr(all, "\"i-99\"") < strstr(all, "\"i-100\""));
	xfree(all);
	metrics_free(&m);
}

/* ------------------------------------------------------------ rendering */

static void test_render_appends_and_respects_cap(void **state)
{
	static const char *const labels[] = {"k", NULL};
	struct metrics *m = metrics_new();
	struct metric *c = metrics_counter(m, "c_total", "C.", labels);
	struct buf b;
	char *full;
	(void)state;

	for (int i = 0; i < 50; i++) {
		char k[16];

		snprintf(k, sizeof(k), "%d", i);
		metric_add(c, (const char *[]){k}, i);
	}
	full = render(m);

	/* Appended after what the buffer held. */
	buf_init(&b, 0);
	buf_puts(&b, "prefix\n");
	assert_int_equal(metrics_render(m, &b), 0);
	assert_memory_equal(b.data, "prefix\n", 7);
	assert_string_equal(b.data + 7, full);
	buf_release(&b);

	/* Over the cap: ELAVA_E_TOOBIG and the buffer as it was. */
	buf_init(&b, strlen(full) + 6);
	buf_puts(&b, "prefix\n");
	assert_int_equal(metrics_render(m, &b), ELAVA_E_TOOBIG);
	assert_int_equal(b.len, 7);
	assert_string_equal(b.data, "prefix\n");
	buf_release(&b);

	/* Exactly fits. */
	buf_init(&b, strlen(full));
	assert_int_equal(metrics_render(m, &b), 0);
	assert_string_equal(b.data, full);
	buf_release(&b);
	xfree(full);
	metrics_free(&m);
}

/* ---------------------------------------------------------- concurrency */

#define THREADS	   4
#define ITERATIONS 20000

struct shared {
	struct metrics *m;
	struct metric *counter;
	struct metric *gauge;
	struct metric *hist;
	struct metric *plain;
	int id;
	int stop;
	long renders;
	long bad; /* renders that failed or were not whole */
};

static void *updater(void *arg)
{
	struct shared *sh = arg;
	char own[16];

	snprintf(own, sizeof(own), "t%d", sh->id);
	for (int i = 0; i < ITERATIONS; i++) {
		metric_add(sh->counter, (const char *[]){"shared"}, 1);
		metric_add(sh->counter, (const char *[]){own}, 2);
		metric_add(sh->gauge, NULL, i % 2 ? -1 : 1.5);
		metric_observe(sh->hist, (const char *[]){"shared"},
			       (double)(i % 4));
		metric_add(sh->plain, NULL, 0.5);
		/* New series appear while renders run. */
		if (i % 100 == 0) {
			char k[32];

			snprintf(k, sizeof(k), "s%d-%d", sh->id, i);
			metric_add(sh->counter, (const char *[]){k}, 1);
		}
	}
	return NULL;
}

static void *renderer(void *arg)
{
	struct shared *sh = arg;
	struct buf b;

	buf_init(&b, 0);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		buf_reset(&b);
		/* cmocka's asserts longjmp: only the main thread may use
		 * them, so count what goes wrong here. Always whole: starts
		 * with the built-in family, ends in a complete line. */
		if (metrics_render(sh->m, &b) ||
		    strncmp(b.data, "# HELP elava_metrics_series", 27) ||
		    b.data[b.len - 1] != '\n')
			sh->bad++;
		sh->renders++;
	}
	buf_release(&b);
	return NULL;
}

static void test_concurrent_updates_and_renders(void **state)
{
	static const char *const labels[] = {"who", NULL};
	static const double bounds[] = {0.5, 1.5, 2.5};
	struct metrics *m = metrics_new();
	struct shared base = {
	    .m = m,
	    .counter = metrics_counter(m, "ops_total", "Ops.", labels),
	    .gauge = metrics_gauge(m, "level", "Level.", NULL),
	    .hist =
		metrics_histogram(m, "size_bytes", "Size.", labels, bounds, 3),
	    .plain = metrics_counter(m, "halves_total", "Halves.", NULL),
	};
	struct shared sh[THREADS];
	struct shared rs[2];
	pthread_t t[THREADS];
	pthread_t r[2];
	char *all;
	char want[512];
	(void)state;

	for (int i = 0; i < 2; i++) {
		rs[i] = base;
		assert_int_equal(pthread_create(&r[i], NULL, renderer, &rs[i]),
				 0);
	}
	for (int i = 0; i < THREADS; i++) {
		sh[i] = base;
		sh[i].id = i;
		assert_int_equal(pthread_create(&t[i], NULL, updater, &sh[i]),
				 0);
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < 2; i++) {
		__atomic_store_n(&rs[i].stop, 1, __ATOMIC_RELEASE);
		assert_int_equal(pthread_join(r[i], NULL), 0);
		assert_true(rs[i].renders > 0);
		assert_int_equal(rs[i].bad, 0);
	}

	all = render_rest(m, "0");
	snprintf(want, sizeof(want), "\nops_total{who=\"shared\"} %d\n",
		 THREADS * ITERATIONS);
	assert_non_null(strstr(all, want));
	for (int i = 0; i < THREADS; i++) {
		snprintf(want, sizeof(want), "\nops_total{who=\"t%d\"} %d\n", i,
			 2 * ITERATIONS);
		assert_non_null(strstr(all, want));
	}
	assert_int_equal(count_lines_starting(all, "ops_total{who=\"s"),
			 1 + THREADS * (ITERATIONS / 100));
	/* Half the iterations +1.5, half -1: exact in binary. */
	snprintf(want, sizeof(want), "\nlevel %d\n",
		 THREADS * (ITERATIONS / 2) * 3 / 2 - THREADS * ITERATIONS / 2);
	assert_non_null(strstr(all, want));
	snprintf(want, sizeof(want), "\nhalves_total %d\n",
		 THREADS * ITERATIONS / 2);
	assert_non_null(strstr(all, want));
	/* Observations 0,1,2,3 in turn: a quarter in each bucket. */
	snprintf(want, sizeof(want),
		 "size_bytes_bucket{who=\"shared\",le=\"0.5\"} %d\n"
		 "size_bytes_bucket{who=\"shared\",le=\"1.5\"} %d\n"
		 "size_bytes_bucket{who=\"shared\",le=\"2.5\"} %d\n"
		 "size_bytes_bucket{who=\"shared\",le=\"+Inf\"} %d\n"
		 "size_bytes_sum{who=\"shared\"} %d\n"
		 "size_bytes_count{who=\"shared\"} %d\n",
		 THREADS * ITERATIONS / 4, THREADS * ITERATIONS / 2,
		 THREADS * ITERATIONS * 3 / 4, THREADS * ITERATIONS,
		 THREADS * ITERATIONS / 4 * 6, THREADS * ITERATIONS);
	assert_non_null(strstr(all, want));
	xfree(all);
	metrics_free(&m);
}

/* ---------------------------------------------------- programming errors */

typedef void (*misuse_fn)(void);

/* Run fn in a child: it must abort with a message containing want. */
static void assert_aborts(misuse_fn fn, const char *want)
{
	int fds[2];
	pid_t pid;
	int status = 0;
	char msg[1024];
	size_t n = 0;
	ssize_t r;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		fn();
		_exit(0); /* did not abort: the parent fails */
	}
	close(fds[1]);
	while (n < sizeof(msg) - 1 &&
	       (r = read(fds[0], msg + n, sizeof(msg) - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		assert_true(r > 0);
		n += (size_t)r;
	}
	msg[n] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		fail_msg("expected an abort with '%s', got status %d: %s", want,
			 status, msg);
	if (!strstr(msg, want))
		fail_msg("expected '%s' in the message: %s", want, msg);
}

static void bad_name(void)
{
	struct metrics *m = metrics_new();

	metrics_counter(m, "9lives_total", "Bad.", NULL);
}

static void bad_name_dash(void)
{
	struct metrics *m = metrics_new();

	metrics_gauge(m, "elava-up", "Bad.", NULL);
}

static void bad_label(void)
{
	struct metrics *m = metrics_new();

	metrics_counter(m, "ok_total", "Bad.",
			(const char *const[]){"region", "a:b", NULL});
}

static void reserved_label(void)
{
	struct metrics *m = metrics_new();

	metrics_counter(m, "ok_total", "Bad.",
			(const char *const[]){"__name__", NULL});
}

static void duplicate_family(void)
{
	struct metrics *m = metrics_new();

	metrics_counter(m, "twice_total", "One.", NULL);
	metrics_gauge(m, "twice_total", "Two.", NULL);
}

static void duplicate_builtin(void)
{
	struct metrics *m = metrics_new();

	metrics_counter(m, "elava_metrics_series_dropped_total", "Mine.", NULL);
}

static void histogram_clash(void)
{
	struct metrics *m = metrics_new();

	metrics_histogram(m, "lat", "Lat.", NULL, (const double[]){1}, 1);
	metrics_counter(m, "lat_count", "Clash.", NULL);
}

static void too_many_labels(void)
{
	struct metrics *m = metrics_new();

	metrics_counter(m, "wide_total", "Wide.",
			(const char *const[]){"a", "b", "c", "d", "e", NULL});
}

static void duplicate_label(void)
{
	struct metrics *m = metrics_new();

	metrics_counter(m, "dl_total", "Dup.",
			(const char *const[]){"a", "a", NULL});
}

static void le_label(void)
{
	struct metrics *m = metrics_new();

	metrics_histogram(m, "h", "H.", (const char *const[]){"le", NULL},
			  (const double[]){1}, 1);
}

static void bounds_not_increasing(void)
{
	struct metrics *m = metrics_new();

	metrics_histogram(m, "h", "H.", NULL, (const double[]){1, 2, 2}, 3);
}

static void bounds_decreasing(void)
{
	struct metrics *m = metrics_new();

	metrics_histogram(m, "h", "H.", NULL, (const double[]){1, 0.5}, 2);
}

static void bounds_inf(void)
{
	struct metrics *m = metrics_new();

	metrics_histogram(m, "h", "H.", NULL, (const double[]){1, INFINITY}, 2);
}

static void too_few_values(void)
{
	struct metrics *m = metrics_new();
	struct metric *c = metrics_counter(
	    m, "v_total", "V.", (const char *const[]){"a", "b", NULL});

	metric_add(c, (const char *[]){"x", NULL}, 1);
}

static void no_values(void)
{
	struct metrics *m = metrics_new();
	struct metric *c = metrics_counter(m, "v_total", "V.",
					   (const char *const[]){"a", NULL});

	metric_add(c, NULL, 1);
}

static void values_for_none(void)
{
	struct metrics *m = metrics_new();
	struct metric *c = metrics_counter(m, "v_total", "V.", NULL);

	metric_add(c, (const char *[]){"x", NULL}, 1);
}

static void observe_counter(void)
{
	struct metrics *m = metrics_new();
	struct metric *c = metrics_counter(m, "v_total", "V.", NULL);

	metric_observe(c, NULL, 1);
}

static void set_histogram(void)
{
	struct metrics *m = metrics_new();
	struct metric *h =
	    metrics_histogram(m, "h", "H.", NULL, (const double[]){1}, 1);

	metric_set(h, NULL, 1);
}

static void no_help(void)
{
	struct metrics *m = metrics_new();

	metrics_gauge(m, "g", NULL, NULL);
}

static void test_programming_errors_abort(void **state)
{
	(void)state;
	assert_aborts(bad_name, "bad metric name '9lives_total'");
	assert_aborts(bad_name_dash, "bad metric name 'elava-up'");
	assert_aborts(bad_label, "bad label name 'a:b'");
	assert_aborts(reserved_label, "bad label name '__name__'");
	assert_aborts(duplicate_family, "'twice_total' is declared twice");
	assert_aborts(duplicate_builtin,
		      "'elava_metrics_series_dropped_total' is declared twice");
	assert_aborts(histogram_clash, "writes 'lat_count'");
	assert_aborts(too_many_labels, "more than 4 labels");
	assert_aborts(duplicate_label, "label 'a' given twice");
	assert_aborts(le_label, "cannot have a label 'le'");
	assert_aborts(bounds_not_increasing, "increasing (bound 2)");
	assert_aborts(bounds_decreasing, "increasing (bound 1)");
	assert_aborts(bounds_inf, "finite");
	assert_aborts(too_few_values, "needs 2 label values, got 1");
	assert_aborts(no_values, "needs 1 label values, got none");
	assert_aborts(values_for_none, "has no labels but was given values");
	assert_aborts(observe_counter, "metric_observe on counter 'v_total'");
	assert_aborts(set_histogram, "metric_set on histogram 'h'");
	assert_aborts(no_help, "no help text");
}

/* --------------------------------------------------------------- promtool */

/* Feed text to `promtool check metrics`; returns its exit status and
 * puts what it said in said. */
static int promtool_check(const char *text, char *said, size_t said_size)
{
	const char *promtool = getenv("PROMTOOL");
	int in[2];
	int outp[2];
	pid_t pid;
	int status = 0;
	size_t n = 0;
	size_t len = strlen(text);
	ssize_t r;

	if (!promtool)
		promtool = "/usr/bin/promtool";
	if (access(promtool, X_OK))
		fail_msg("'%s' is missing (scripts/deps.sh installs it): "
			 "this test needs the real promtool",
			 promtool);
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(outp), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		dup2(outp[1], 2);
		close(in[0]);
		close(in[1]);
		close(outp[0]);
		close(outp[1]);
		execl(promtool, promtool, "check", "metrics", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	/* Small enough for the pipe? Not necessarily: write all, then read
	 * (promtool reads its whole input before it says anything). */
	for (size_t off = 0; off < len;) {
		r = write(in[1], text + off, len - off);
		if (r < 0 && errno == EINTR)
			continue;
		assert_true(r > 0);
		off += (size_t)r;
	}
	close(in[1]);
	while (n < said_size - 1 &&
	       (r = read(outp[0], said + n, said_size - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		assert_true(r > 0);
		n += (size_t)r;
	}
	said[n] = '\0';
	close(outp[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_promtool_accepts_render(void **state)
{
	static const char *const tr[] = {"type", "region", NULL};
	static const char *const svc[] = {"service", NULL};
	static const double bounds[] = {0.005, 0.1, 0.5, 1, 2.5, 60};
	struct metrics *m = metrics_new();
	struct metric *c0 = metrics_counter(m, "elava_reconciliations_total",
					    "Reconciliations run.", NULL);
	struct metric *c1 = metrics_counter(
	    m, "elava_resources_created_total",
	    "Resources seen for the first time, by \"type\" and region.", tr);
	struct metric *g0 =
	    metrics_gauge(m, "elava_up", "Whether the daemon runs.", NULL);
	struct metric *g1 = metrics_gauge(m, "elava_resources_current",
					  "Resources in the last scan.", tr);
	struct metric *h0 =
	    metrics_histogram(m, "elava_reconciliation_duration_seconds",
			      "Time of one reconciliation.", NULL, bounds, 6);
	struct metric *h1 = metrics_histogram(
	    m, "elava_api_call_duration_seconds",
	    "Time of one AWS API call,\nby service (a back\\slash).", svc,
	    bounds, 6);
	char said[4096];
	char *text;
	(void)state;

	/* Declared but never touched: only HELP and TYPE. */
	metrics_counter(m, "elava_api_throttles_total", "Throttled calls.",
			svc);
	metric_add(c0, NULL, 3);
	metric_add(c1, (const char *[]){"ec2", "eu-west-1"}, 2);
	metric_add(c1, (const char *[]){"s3 \"bucket\"\\x\ny", "\xc3\xa9"}, 1);
	metric_set(g0, NULL, 1);
	metric_set(g1, (const char *[]){"ec2", "eu-west-1"}, -12.5);
	metric_set(g1, (const char *[]){"rds", "us-east-1"}, 1e20);
	metric_set(g1, (const char *[]){"nan", "x"}, NAN);
	metric_set(g1, (const char *[]){"inf", "x"}, INFINITY);
	metric_set(g1, (const char *[]){"-inf", "x"}, -INFINITY);
	metric_observe(h0, NULL, 0.3);
	metric_observe(h0, NULL, 100);
	metric_observe(h1, (const char *[]){"ec2"}, 0.05);
	metric_observe(h1, (const char *[]){"s3"}, 0.001);

	text = render(m);
	if (promtool_check(text, said, sizeof(said)) != 0)
		fail_msg("promtool check metrics failed:\n%s\non:\n%s", said,
			 text);
	/* Lint-clean too: promtool prints nothing when all is well. */
	if (said[0])
		fail_msg("promtool check metrics complained:\n%s\non:\n%s",
			 said, text);

	/* The check is real: a broken exposition is refused. */
	assert_int_not_equal(promtool_check("# TYPE x counter\nx{a=\"b} 1\n",
					    said, sizeof(said)),
			     0);
	xfree(text);
	metrics_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_registry),
	    cmocka_unit_test(test_counter_without_labels),
	    cmocka_unit_test(test_counter_with_labels),
	    cmocka_unit_test(test_counter_only_goes_up),
	    cmocka_unit_test(test_gauge),
	    cmocka_unit_test(test_histogram_without_labels),
	    cmocka_unit_test(test_histogram_with_labels),
	    cmocka_unit_test(test_histogram_only_inf_bucket),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_label_values_normalised),
	    cmocka_unit_test(test_value_format),
	    cmocka_unit_test(test_value_round_trip),
	    cmocka_unit_test(test_series_cap),
	    cmocka_unit_test(test_render_appends_and_respects_cap),
	    cmocka_unit_test(test_concurrent_updates_and_renders),
	    cmocka_unit_test(test_programming_errors_abort),
	    cmocka_unit_test(test_promtool_accepts_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
