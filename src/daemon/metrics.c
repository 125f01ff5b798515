/*
 * metrics — a registry of Prometheus counters, gauges and histograms,
 * rendered in the text exposition format 0.0.4 by hand (Debian packages no
 * C client library). A family is declared once with its label names; each
 * distinct tuple of label values is a series, created when first touched,
 * looked up through a small open-addressing hash table and kept in the
 * order it appeared. Everything that can be formatted ahead of time is: the
 * HELP/TYPE lines, each series' escaped `{l="v",...}` text and each
 * histogram bucket's `le="..."`, so a render is memcpy plus number
 * formatting, with no allocation beyond growing the output buffer. One
 * mutex guards the registry; a render holds it while it copies.
 *
 * Bounds: at most METRICS_MAX_SERIES series per family (new label values
 * past it are dropped and counted in elava_metrics_series_dropped_total,
 * which the registry declares itself), label values are cut to
 * LABEL_VALUE_MAX bytes and invalid UTF-8 in them becomes U+FFFD, so the
 * registry's memory is bounded whatever the values are. Programming errors
 * (a bad name, a duplicate family, a wrong number of label values) abort.
 */
#include "daemon/daemon_int.h"

#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of one label value kept (longer values are cut at a character). */
#define LABEL_VALUE_MAX 1024
/* Bucket bounds of one histogram. */
#define HISTOGRAM_MAX_BOUNDS 64
/* Bytes of one formatted value (a %.17g double is at most 24). */
#define VALUE_MAX 40

#define DROPPED_NAME "elava_metrics_series_dropped_total"

enum metric_kind { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM };

static const char *const kind_names[] = {"counter", "gauge", "histogram"};

/* One series: its label values and its numbers, in one allocation. */
struct series {
	uint64_t hash;
	char *values[METRICS_MAX_LABELS]; /* normalised, for lookups */
	char *labels;			  /* `a="x",b="y"`, escaped */
	size_t labels_len;
	double value; /* counter, gauge */
	double sum;   /* histogram */
	uint64_t count;
	uint64_t buckets[]; /* histogram: nbounds + 1, not cumulative */
};

struct metric {
	struct metrics *reg;
	enum metric_kind kind;
	char *name;
	size_t name_len;
	char *head; /* "# HELP ...\n# TYPE ...\n" */
	size_t head_len;
	size_t nlabels;
	char *labels[METRICS_MAX_LABELS];
	size_t nbounds;
	double *bounds;
	char **le; /* `le="0.5"} `, one per bucket, +Inf last */
	size_t *le_len;
	struct series **series; /* in the order they appeared */
	size_t nseries;
	size_t series_cap;
	uint32_t *slots; /* index + 1 into series; 0 is empty */
	size_t nslots;	 /* a power of two, or 0 */
	bool drop_logged;
};

struct metrics {
	pthread_mutex_t mu;
	struct metric **fams; /* in the order they were declared */
	size_t nfams;
	size_t fams_cap;
	struct metric *dropped;
	size_t render_hint; /* length of the last render */
};

static void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

/* A programming error: say what and abort. */
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("elava: metrics: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void lock(struct metrics *m)
{
	if (pthread_mutex_lock(&m->mu))
		die("cannot lock the registry");
}

static void unlock(struct metrics *m)
{
	if (pthread_mutex_unlock(&m->mu))
		die("cannot unlock the registry");
}

/* ------------------------------------------------------------ formatting */

static bool is_alpha_(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* */
static bool metric_name_valid(const char *s)
{
	if (!s || !*s || is_digit(*s))
		return false;
	for (; *s; s++)
		if (!is_alpha_(*s) && !is_digit(*s) && *s != ':')
			return false;
	return true;
}

/* [a-zA-Z_][a-zA-Z0-9_]*, and not "__..." (reserved by Prometheus). */
static bool label_name_valid(const char *s)
{
	if (!s || !*s || is_digit(*s) || (s[0] == '_' && s[1] == '_'))
		return false;
	for (; *s; s++)
		if (!is_alpha_(*s) && !is_digit(*s))
			return false;
	return true;
}

/* Decimal digits of u, written backwards ending at end; returns start. */
static char *u64_digits(char *end, uint64_t u)
{
	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	return end;
}

/* u in decimal; dst holds at least 21 bytes. */
static size_t fmt_u64(char *dst, uint64_t u)
{
	char tmp[24];
	char *p = u64_digits(tmp + sizeof(tmp), u);
	size_t n = (size_t)(tmp + sizeof(tmp) - p);

	memcpy(dst, p, n);
	dst[n] = '\0';
	return n;
}

/*
 * v in fixed point with the fewest decimals, up to 6, that read back as v
 * exactly; 0 when there is no such form. n = v * 10^k computed in doubles
 * may be rounded, so the form is only taken when n / 10^k (one correctly
 * rounded division of two exact numbers, the very thing strtod computes
 * from the text) gives v back.
 */
static size_t fmt_fixed(char dst[VALUE_MAX], double v)
{
	static const double p10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
	static const uint64_t u10[] = {1,     10,     100,    1000,
				       10000, 100000, 1000000};

	for (size_t k = 1; k < sizeof(p10) / sizeof(p10[0]); k++) {
		double x = v * p10[k];
		char tmp[24];
		char *p;
		uint64_t u;
		int64_t n;
		size_t len = 0;

		if (!(fabs(x) < 9007199254740992.0))
			return 0;
		n = (int64_t)x;
		if ((double)n != x || (double)n / p10[k] != v)
			continue;
		u = n < 0 ? (uint64_t)(-n) : (uint64_t)n;
		if (n < 0)
			dst[len++] = '-';
		p = u64_digits(tmp + sizeof(tmp), u / u10[k]);
		memcpy(dst + len, p, (size_t)(tmp + sizeof(tmp) - p));
		len += (size_t)(tmp + sizeof(tmp) - p);
		dst[len++] = '.';
		/* the decimals, zero-padded to k, trailing zeros dropped */
		u %= u10[k];
		for (size_t d = k; d-- > 0;) {
			dst[len + d] = (char)('0' + u % 10);
			u /= 10;
		}
		len += k;
		while (dst[len - 1] == '0')
			len--;
		dst[len] = '\0';
		return len;
	}
	return 0;
}

/*
 * A value as Prometheus parses it back exactly: NaN, +Inf, -Inf; integers
 * below 2^53 as plain digits; fractions with up to 6 decimals in fixed
 * point; anything else in the fewest of 15, 16 or 17 significant digits
 * that reads back as the same double (so 0.1 is "0.1", as Prometheus's own
 * clients write it, not %.17g's "0.10000000000000001"). The process never
 * calls setlocale, so printf's decimal point is '.'.
 */
static size_t fmt_value(char dst[VALUE_MAX], double v)
{
	size_t n;

	if (isnan(v)) {
		memcpy(dst, "NaN", 4);
		return 3;
	}
	if (isinf(v)) {
		memcpy(dst, v > 0 ? "+Inf" : "-Inf", 5);
		return 4;
	}
	if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v) {
		int64_t i = (int64_t)v;

		if (i >= 0)
			return fmt_u64(dst, (uint64_t)i);
		dst[0] = '-';
		return 1 + fmt_u64(dst + 1, (uint64_t)(-i));
	}
	if ((n = fmt_fixed(dst, v)))
		return n;
	for (int prec = 15;; prec++) {
		int w = snprintf(dst, VALUE_MAX, "%.*g", prec, v);

		if (prec == 17 || strtod(dst, NULL) == v)
			return (size_t)w;
	}
}

/* Escape s into dst (room for 2 * strlen(s)): \ and newline, and " when
 * quote (label values; HELP text leaves " alone). Returns the length. */
static size_t escape(char *dst, const char *s, bool quote)
{
	char *d = dst;

	for (; *s; s++) {
		if (*s == '\\') {
			*d++ = '\\';
			*d++ = '\\';
		} else if (*s == '\n') {
			*d++ = '\\';
			*d++ = 'n';
		} else if (*s == '"' && quote) {
			*d++ = '\\';
			*d++ = '"';
		} else {
			*d++ = *s;
		}
	}
	return (size_t)(d - dst);
}

/* The length of the UTF-8 sequence that lead byte c announces, or 0. */
static size_t utf8_seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/*
 * A label value as the registry keeps it: valid UTF-8 (each invalid byte
 * becomes U+FFFD) of at most LABEL_VALUE_MAX bytes, cut at a character.
 * Returns v itself when it already is, else the copy made in tmp.
 */
static const char *value_normalise(const char *v, char tmp[LABEL_VALUE_MAX + 1])
{
	size_t n = strlen(v);
	size_t i = 0;
	size_t o = 0;

	if (n <= LABEL_VALUE_MAX && utf8_valid(v, n))
		return v;
	while (i < n) {
		size_t k = utf8_seq_len((unsigned char)v[i]);
		const char *src = v + i;
		size_t adv = k;

		if (!k || k > n - i || !utf8_valid(v + i, k)) {
			src = "\xef\xbf\xbd";
			k = 3;
			adv = 1;
		}
		if (o + k > LABEL_VALUE_MAX)
			break;
		memcpy(tmp + o, src, k);
		o += k;
		i += adv;
	}
	tmp[o] = '\0';
	return tmp;
}

/* ------------------------------------------------------------- families */

/* The sample names a family writes: itself, or its three histogram ones. */
static size_t sample_names(const char *name, enum metric_kind kind,
			   char out[3][256])
{
	static const char *const sfx[] = {"_bucket", "_sum", "_count"};

	if (kind != KIND_HISTOGRAM) {
		snprintf(out[0], sizeof(out[0]), "%s", name);
		return 1;
	}
	for (size_t i = 0; i < 3; i++)
		snprintf(out[i], sizeof(out[i]), "%s%s", name, sfx[i]);
	return 3;
}

static void check_unique(struct metrics *m, const char *name,
			 enum metric_kind kind)
{
	char mine[3][256];
	char theirs[3][256];
	size_t nm;

	if (strlen(name) > 200)
		die("metric name '%.40s...' is too long", name);
	nm = sample_names(name, kind, mine);
	for (size_t f = 0; f < m->nfams; f++) {
		const struct metric *o = m->fams[f];
		size_t nt = sample_names(o->name, o->kind, theirs);

		if (!strcmp(o->name, name))
			die("metric '%s' is declared twice", name);
		for (size_t i = 0; i < nm; i++)
			for (size_t j = 0; j < nt; j++)
				if (!strcmp(mine[i], theirs[j]))
					die("metric '%s' writes '%s', as '%s' "
					    "does",
					    name, mine[i], o->name);
	}
}

static struct series *series_new(struct metric *f, const char *const *vals,
				 uint64_t hash);

static struct metric *family_new(struct metrics *m, enum metric_kind kind,
				 const char *name, const char *help,
				 const char *const *labels,
				 const double *bounds, size_t nbounds)
{
	struct metric *f;
	size_t hlen;
	char *p;

	if (!m)
		die("no registry for metric '%s'", name ? name : "(null)");
	if (!metric_name_valid(name))
		die("bad metric name '%s'", name ? name : "(null)");
	if (!help || !utf8_valid(help, strlen(help)))
		die("metric '%s' has no help text or it is not UTF-8", name);

	f = xcalloc(1, sizeof(*f));
	f->reg = m;
	f->kind = kind;
	f->name = xstrdup(name);
	f->name_len = strlen(name);
	for (size_t i = 0; labels && labels[i]; i++) {
		if (i == METRICS_MAX_LABELS)
			die("metric '%s' has more than %d labels", name,
			    METRICS_MAX_LABELS);
		if (!label_name_valid(labels[i]))
			die("metric '%s': bad label name '%s'", name,
			    labels[i]);
		if (kind == KIND_HISTOGRAM && !strcmp(labels[i], "le"))
			die("histogram '%s' cannot have a label 'le'", name);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(labels[j], labels[i]))
				die("metric '%s': label '%s' given twice", name,
				    labels[i]);
		f->labels[i] = xstrdup(labels[i]);
		f->nlabels = i + 1;
	}

	/* "# HELP name text\n# TYPE name kind\n" */
	hlen = st_add(st_mult(2, strlen(help)), 2 * f->name_len + 40);
	f->head = xmalloc(hlen);
	p = f->head;
	p += sprintf(p, "# HELP %s ", name);
	p += escape(p, help, false);
	p += sprintf(p, "\n# TYPE %s %s\n", name, kind_names[kind]);
	f->head_len = (size_t)(p - f->head);

	if (kind == KIND_HISTOGRAM) {
		if (nbounds > HISTOGRAM_MAX_BOUNDS)
			die("histogram '%s' has more than %d buckets", name,
			    HISTOGRAM_MAX_BOUNDS);
		if (nbounds && !bounds)
			die("histogram '%s' has no bounds", name);
		f->nbounds = nbounds;
		f->bounds = xcalloc(nbounds ? nbounds : 1, sizeof(double));
		f->le = xcalloc(nbounds + 1, sizeof(char *));
		f->le_len = xcalloc(nbounds + 1, sizeof(size_t));
		for (size_t i = 0; i <= nbounds; i++) {
			char v[VALUE_MAX];
			double b = i < nbounds ? bounds[i] : INFINITY;

			if (i < nbounds &&
			    (!isfinite(b) || (i && !(b > bounds[i - 1]))))
				die("histogram '%s': bounds must be finite "
				    "and increasing (bound %zu)",
				    name, i);
			if (i < nbounds)
				f->bounds[i] = b;
			fmt_value(v, b);
			f->le[i] = xmalloc(strlen(v) + 8);
			f->le_len[i] =
			    (size_t)sprintf(f->le[i], "le=\"%s\"} ", v);
		}
	}

	lock(m);
	check_unique(m, name, kind);
	if (m->nfams == m->fams_cap) {
		m->fams_cap = m->fams_cap ? st_mult(m->fams_cap, 2) : 16;
		m->fams =
		    xrealloc(m->fams, st_mult(m->fams_cap, sizeof(*m->fams)));
	}
	m->fams[m->nfams++] = f;
	/* A family without labels has its one series from the start. */
	if (!f->nlabels)
		series_new(f, NULL, 0);
	unlock(m);
	return f;
}

static void family_free(struct metric *f)
{
	for (size_t i = 0; i < f->nseries; i++)
		xfree(f->series[i]);
	xfree(f->series);
	xfree(f->slots);
	for (size_t i = 0; i < f->nlabels; i++)
		xfree(f->labels[i]);
	if (f->le)
		for (size_t i = 0; i <= f->nbounds; i++)
			xfree(f->le[i]);
	xfree(f->le);
	xfree(f->le_len);
	xfree(f->bounds);
	xfree(f->head);
	xfree(f->name);
	xfree(f);
}

struct metric *metrics_counter(struct metrics *m, const char *name,
			       const char *help, const char *const *labels)
{
	return family_new(m, KIND_COUNTER, name, help, labels, NULL, 0);
}

struct metric *metrics_gauge(struct metrics *m, const char *name,
			     const char *help, const char *const *labels)
{
	return family_new(m, KIND_GAUGE, name, help, labels, NULL, 0);
}

struct metric *metrics_histogram(struct metrics *m, const char *name,
				 const char *help, const char *const *labels,
				 const double *bounds, size_t nbounds)
{
	return family_new(m, KIND_HISTOGRAM, name, help, labels, bounds,
			  nbounds);
}

struct metrics *metrics_new(void)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	if (pthread_mutex_init(&m->mu, NULL))
		die("cannot create the registry's mutex");
	m->dropped = metrics_counter(
	    m, DROPPED_NAME,
	    "Updates dropped because their metric already had the maximum "
	    "number of series.",
	    NULL);
	return m;
}

void metrics_free(struct metrics **mp)
{
	struct metrics *m = mp ? *mp : NULL;

	if (!m)
		return;
	for (size_t i = 0; i < m->nfams; i++)
		family_free(m->fams[i]);
	xfree(m->fams);
	pthread_mutex_destroy(&m->mu);
	xfree(m);
	*mp = NULL;
}

/* --------------------------------------------------------------- series */

/* FNV-1a over the values, each followed by a byte UTF-8 never uses. */
static uint64_t values_hash(const char *const *vals, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		for (const unsigned char *p = (const unsigned char *)vals[i];
		     *p; p++)
			h = (h ^ *p) * 0x100000001b3ull;
		h = (h ^ 0xff) * 0x100000001b3ull;
	}
	return h;
}

static void slots_insert(uint32_t *slots, size_t nslots, uint64_t hash,
			 uint32_t idx)
{
	size_t mask = nslots - 1;

	for (size_t i = hash & mask;; i = (i + 1) & mask)
		if (!slots[i]) {
			slots[i] = idx + 1;
			return;
		}
}

/* Make a series (the lock is held); the caller checked the cap. */
static struct series *series_new(struct metric *f, const char *const *vals,
				 uint64_t hash)
{
	size_t nb = f->kind == KIND_HISTOGRAM ? f->nbounds + 1 : 0;
	size_t strs = 0;
	size_t lbl = 0;
	struct series *s;
	char *p;

	for (size_t i = 0; i < f->nlabels; i++) {
		size_t vl = strlen(vals[i]);

		strs = st_add(strs, vl + 1);
		/* name="value", with every byte of value possibly escaped */
		lbl = st_add(lbl, strlen(f->labels[i]) + 4 + st_mult(2, vl));
	}
	s = xcalloc(1, st_add(st_add(sizeof(*s), st_mult(nb, sizeof(uint64_t))),
			      st_add(strs, lbl + 1)));
	s->hash = hash;
	p = (char *)&s->buckets[nb];
	for (size_t i = 0; i < f->nlabels; i++) {
		size_t vl = strlen(vals[i]);

		s->values[i] = p;
		memcpy(p, vals[i], vl + 1);
		p += vl + 1;
	}
	s->labels = p;
	for (size_t i = 0; i < f->nlabels; i++) {
		if (i)
			*p++ = ',';
		p += sprintf(p, "%s=\"", f->labels[i]);
		p += escape(p, vals[i], true);
		*p++ = '"';
	}
	*p = '\0';
	s->labels_len = (size_t)(p - s->labels);

	if (f->nseries == f->series_cap) {
		f->series_cap = f->series_cap ? f->series_cap * 2 : 4;
		if (f->series_cap > METRICS_MAX_SERIES)
			f->series_cap = METRICS_MAX_SERIES;
		f->series = xrealloc(
		    f->series, st_mult(f->series_cap, sizeof(*f->series)));
	}
	f->series[f->nseries++] = s;

	if (!f->nlabels)
		return s;
	/* Keep the table at most half full. */
	if (f->nseries * 2 > f->nslots) {
		size_t n = f->nslots ? f->nslots * 2 : 16;
		uint32_t *slots = xcalloc(n, sizeof(*slots));

		for (size_t i = 0; i < f->nseries; i++)
			slots_insert(slots, n, f->series[i]->hash, (uint32_t)i);
		xfree(f->slots);
		f->slots = slots;
		f->nslots = n;
	} else {
		slots_insert(f->slots, f->nslots, hash,
			     (uint32_t)(f->nseries - 1));
	}
	return s;
}

/*
 * The series for vals, made if new (the lock is held). NULL when the
 * family is full: the update is dropped and counted, and *warn set the
 * first time so the caller logs it once the lock is released (a log sink
 * may well count lines in a metric).
 */
static struct series *series_get(struct metric *f, const char *const *vals,
				 bool *warn)
{
	char tmp[METRICS_MAX_LABELS][LABEL_VALUE_MAX + 1];
	const char *norm[METRICS_MAX_LABELS];
	uint64_t hash;

	if (!f->nlabels) {
		if (vals && vals[0])
			die("metric '%s' has no labels but was given values",
			    f->name);
		return f->series[0];
	}
	if (!vals)
		die("metric '%s' needs %zu label values, got none", f->name,
		    f->nlabels);
	for (size_t i = 0; i < f->nlabels; i++) {
		if (!vals[i])
			die("metric '%s' needs %zu label values, got %zu",
			    f->name, f->nlabels, i);
		norm[i] = value_normalise(vals[i], tmp[i]);
	}
	hash = values_hash(norm, f->nlabels);
	for (size_t mask = f->nslots - 1, i = hash & mask; f->nslots;
	     i = (i + 1) & mask) {
		struct series *s;
		size_t k;

		if (!f->slots[i])
			break;
		s = f->series[f->slots[i] - 1];
		if (s->hash != hash)
			continue;
		for (k = 0; k < f->nlabels; k++)
			if (strcmp(s->values[k], norm[k]))
				break;
		if (k == f->nlabels)
			return s;
	}
	if (f->nseries >= METRICS_MAX_SERIES) {
		f->reg->dropped->series[0]->value += 1;
		if (!f->drop_logged)
			*warn = f->drop_logged = true;
		return NULL;
	}
	return series_new(f, norm, hash);
}

static void check_family(const struct metric *f, const char *what)
{
	if (!f)
		die("%s on a NULL metric", what);
}

static void warn_dropped(const struct metric *f)
{
	log_warn("metrics",
		 "metric '%s' has %d series: new label values are dropped "
		 "(counted in " DROPPED_NAME ")",
		 f->name, METRICS_MAX_SERIES);
}

void metric_add(struct metric *f, const char *const *values, double v)
{
	struct series *s;
	bool warn = false;

	check_family(f, "metric_add");
	if (f->kind == KIND_HISTOGRAM)
		die("metric_add on histogram '%s'", f->name);
	/* A counter only goes up (and NaN would poison it for good). */
	if (f->kind == KIND_COUNTER && !(v >= 0))
		return;
	lock(f->reg);
	s = series_get(f, values, &warn);
	if (s)
		s->value += v;
	unlock(f->reg);
	if (warn)
		warn_dropped(f);
}

void metric_set(struct metric *f, const char *const *values, double v)
{
	struct series *s;
	bool warn = false;

	check_family(f, "metric_set");
	if (f->kind == KIND_HISTOGRAM)
		die("metric_set on histogram '%s'", f->name);
	/* Setting a counter mirrors one kept elsewhere (CPU seconds): it is
	 * never negative or NaN. */
	if (f->kind == KIND_COUNTER && !(v >= 0))
		return;
	lock(f->reg);
	s = series_get(f, values, &warn);
	if (s)
		s->value = v;
	unlock(f->reg);
	if (warn)
		warn_dropped(f);
}

void metric_observe(struct metric *f, const char *const *values, double v)
{
	struct series *s;
	bool warn = false;
	size_t b = 0;

	check_family(f, "metric_observe");
	if (f->kind != KIND_HISTOGRAM)
		die("metric_observe on %s '%s'", kind_names[f->kind], f->name);
	/* A NaN would make _sum NaN forever; it measures nothing. */
	if (isnan(v))
		return;
	while (b < f->nbounds && v > f->bounds[b])
		b++;
	lock(f->reg);
	s = series_get(f, values, &warn);
	if (s) {
		s->buckets[b]++;
		s->count++;
		s->sum += v;
	}
	unlock(f->reg);
	if (warn)
		warn_dropped(f);
}

/* --------------------------------------------------------------- render */

/*
 * Each sample line is measured first (the value is formatted on the
 * stack), then the buffer grows once and the pieces are copied straight
 * in: a render is one bounds check per line, not one per piece.
 */
struct line_part {
	const char *p;
	size_t n;
};

static int put_line(struct buf *out, const struct line_part *parts,
		    size_t nparts)
{
	size_t len = 0;
	char *d;
	int rc;

	for (size_t i = 0; i < nparts; i++)
		len += parts[i].n;
	if ((rc = buf_grow(out, len)))
		return rc;
	d = out->data + out->len;
	for (size_t i = 0; i < nparts; i++) {
		memcpy(d, parts[i].p, parts[i].n);
		d += parts[i].n;
	}
	out->len += len;
	*d = '\0';
	return 0;
}

/* name+suffix{labels} value, or name+suffix value without labels. */
static int put_sample(struct buf *out, const struct metric *f,
		      const char *suffix, size_t suffix_len,
		      const struct series *s, const char *value, size_t vlen)
{
	struct line_part parts[7] = {
	    {f->name, f->name_len},
	    {suffix, suffix_len},
	};
	size_t n = 2;

	if (s->labels_len) {
		parts[n++] = (struct line_part){"{", 1};
		parts[n++] = (struct line_part){s->labels, s->labels_len};
		parts[n++] = (struct line_part){"} ", 2};
	} else {
		parts[n++] = (struct line_part){" ", 1};
	}
	parts[n++] = (struct line_part){value, vlen};
	parts[n++] = (struct line_part){"\n", 1};
	return put_line(out, parts, n);
}

static int render_histogram(struct buf *out, const struct metric *f,
			    const struct series *s)
{
	char v[VALUE_MAX];
	uint64_t cum = 0;
	size_t n;
	int rc;

	for (size_t i = 0; i <= f->nbounds; i++) {
		struct line_part parts[7] = {
		    {f->name, f->name_len},
		    {"_bucket{", 8},
		};
		size_t np = 2;

		cum += s->buckets[i];
		if (s->labels_len) {
			parts[np++] =
			    (struct line_part){s->labels, s->labels_len};
			parts[np++] = (struct line_part){",", 1};
		}
		parts[np++] = (struct line_part){f->le[i], f->le_len[i]};
		parts[np++] = (struct line_part){v, fmt_u64(v, cum)};
		parts[np++] = (struct line_part){"\n", 1};
		if ((rc = put_line(out, parts, np)))
			return rc;
	}
	n = fmt_value(v, s->sum);
	if ((rc = put_sample(out, f, "_sum", 4, s, v, n)))
		return rc;
	n = fmt_u64(v, s->count);
	return put_sample(out, f, "_count", 6, s, v, n);
}

static int render_locked(struct metrics *m, struct buf *out)
{
	int rc;

	for (size_t i = 0; i < m->nfams; i++) {
		const struct metric *f = m->fams[i];

		if ((rc = buf_append(out, f->head, f->head_len)))
			return rc;
		for (size_t j = 0; j < f->nseries; j++) {
			const struct series *s = f->series[j];
			char v[VALUE_MAX];
			size_t n;

			if (f->kind == KIND_HISTOGRAM) {
				if ((rc = render_histogram(out, f, s)))
					return rc;
				continue;
			}
			n = fmt_value(v, s->value);
			if ((rc = put_sample(out, f, "", 0, s, v, n)))
				return rc;
		}
	}
	return 0;
}

int metrics_render(struct metrics *m, struct buf *out)
{
	size_t start = out->len;
	int rc;

	lock(m);
	/* One allocation up front in the usual case; if even that is over
	 * the cap, the appends below say so. */
	(void)buf_grow(out, m->render_hint + m->render_hint / 8);
	rc = render_locked(m, out);
	if (!rc)
		m->render_hint = out->len - start;
	unlock(m);
	if (rc) {
		/* All or nothing: a cut exposition would mislead. */
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return rc;
}
