/*
 * What the commands print: tables that fit the terminal (80 columns when
 * it cannot be asked), colour only on a terminal and never with NO_COLOR,
 * JSON arrays streamed one object at a time.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int cli_output_parse(const char *usage, const char *v, enum cli_output *out)
{
	if (!strcmp(v, "table"))
		*out = CLI_OUTPUT_TABLE;
	else if (!strcmp(v, "json"))
		*out = CLI_OUTPUT_JSON;
	else
		return cli_usage(usage, "--output is table or json, not '%s'",
				 v);
	return 0;
}

bool cli_use_color(FILE *f)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

	if (no && *no)
		return false;
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(fileno(f));
}

static const char *const color_codes[] = {
    [CLI_PLAIN] = "",	    [CLI_GREEN] = "\033[32m", [CLI_YELLOW] = "\033[33m",
    [CLI_RED] = "\033[31m", [CLI_BOLD] = "\033[1m",   [CLI_DIM] = "\033[2m",
};

const char *cli_color_on(bool enabled, enum cli_color c)
{
	return enabled ? color_codes[c] : "";
}

const char *cli_color_off(bool enabled, enum cli_color c)
{
	return enabled && c != CLI_PLAIN ? "\033[0m" : "";
}

size_t cli_term_width(FILE *f)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	long n;

	if (env && (n = strtol(env, NULL, 10)) >= 40 && n <= 1000)
		return (size_t)n;
	if (isatty(fileno(f)) && !ioctl(fileno(f), TIOCGWINSZ, &ws) &&
	    ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

/* ------------------------------------------------------------- tables */

/* Display width of UTF-8 text: one column per code point. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* Byte length of the first `cols` code points of s. */
static size_t prefix_bytes(const char *s, size_t cols)
{
	size_t i = 0;

	while (s[i] && cols) {
		i++;
		while (((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		cols--;
	}
	return i;
}

/* Byte offset where the last `cols` code points of s start. */
static size_t suffix_start(const char *s, size_t cols)
{
	size_t i = strlen(s);

	while (i > 0 && cols) {
		i--;
		while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
			i--;
		cols--;
	}
	return i;
}

struct cli_table {
	const struct cli_column *cols;
	size_t ncols;
	char **cells; /* rows × ncols */
	enum cli_color *colors;
	size_t nrows, cap;
};

struct cli_table *cli_table_new(const struct cli_column *cols, size_t ncols)
{
	struct cli_table *t = xcalloc(1, sizeof(*t));

	t->cols = cols;
	t->ncols = ncols;
	return t;
}

void cli_table_add(struct cli_table *t, const char *const *cells,
		   const enum cli_color *colors)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cells = xrealloc(t->cells,
				    st_mult(t->cap, t->ncols * sizeof(char *)));
		t->colors = xrealloc(
		    t->colors, st_mult(t->cap, t->ncols * sizeof(*t->colors)));
	}
	for (size_t c = 0; c < t->ncols; c++) {
		const char *v = cells[c] ? cells[c] : "";
		/* Control characters would move the cursor: show them as '?'.
		 */
		char *copy = xstrdup(v);
		for (char *p = copy; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		t->cells[t->nrows * t->ncols + c] = copy;
		t->colors[t->nrows * t->ncols + c] =
		    colors ? colors[c] : CLI_PLAIN;
	}
	t->nrows++;
}

size_t cli_table_rows(const struct cli_table *t)
{
	return t->nrows;
}

static void print_cell(FILE *f, const char *v, size_t width, bool last,
		       const struct cli_column *col, bool color,
		       enum cli_color c)
{
	size_t w = text_width(v);

	fputs(cli_color_on(color, c), f);
	if (w <= width) {
		if (col->right)
			fprintf(f, "%*s", (int)(width - w), "");
		fputs(v, f);
		if (!last && !col->right)
			fprintf(f, "%*s", (int)(width - w), "");
	} else if (width < 2) {
		fwrite(v, 1, prefix_bytes(v, width), f);
	} else if (col->middle) {
		/* Ids and ARNs: both ends say the most. */
		size_t head = (width - 1) / 2, tail = width - 1 - head;
		fwrite(v, 1, prefix_bytes(v, head), f);
		fputs("~", f);
		fputs(v + suffix_start(v, tail), f);
	} else {
		fwrite(v, 1, prefix_bytes(v, width - 1), f);
		fputs("~", f);
	}
	fputs(cli_color_off(color, c), f);
}

void cli_table_print(struct cli_table *t, FILE *f)
{
	size_t width = cli_term_width(f), total = 0;
	size_t *w = xcalloc(t->ncols, sizeof(*w));
	bool color = cli_use_color(f);

	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = text_width(t->cols[c].header);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t cw = text_width(t->cells[r * t->ncols + c]);
			if (cw > w[c])
				w[c] = cw;
		}
		if (t->cols[c].max && w[c] > t->cols[c].max)
			w[c] = t->cols[c].max;
		total += w[c] + (c ? 2 : 0);
	}
	/*
	 * Too wide: shrink the columns of the highest rank first (the widest
	 * of them first), each down to its minimum.
	 */
	while (total > width) {
		size_t best = t->ncols;
		for (size_t c = 0; c < t->ncols; c++) {
			const struct cli_column *col = &t->cols[c];
			if (!col->shrink || w[c] <= col->min)
				continue;
			if (best == t->ncols ||
			    col->shrink > t->cols[best].shrink ||
			    (col->shrink == t->cols[best].shrink &&
			     w[c] > w[best]))
				best = c;
		}
		if (best == t->ncols)
			break;
		w[best]--;
		total--;
	}
	for (size_t c = 0; c < t->ncols; c++) {
		if (c)
			fputs("  ", f);
		print_cell(f, t->cols[c].header, w[c], c + 1 == t->ncols,
			   &t->cols[c], color, CLI_BOLD);
	}
	fputc('\n', f);
	for (size_t r = 0; r < t->nrows; r++) {
		char **row = t->cells + r * t->ncols;
		size_t end = t->ncols; /* no trailing blanks after the last */
		while (end > 1 && !row[end - 1][0])
			end--;
		for (size_t c = 0; c < end; c++) {
			if (c)
				fputs("  ", f);
			print_cell(f, row[c], w[c], c + 1 == end, &t->cols[c],
				   color, t->colors[r * t->ncols + c]);
		}
		fputc('\n', f);
	}
	xfree(w);
}

void cli_table_free(struct cli_table **tp)
{
	struct cli_table *t = *tp;

	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		xfree(t->cells[i]);
	xfree(t->cells);
	xfree(t->colors);
	xfree(t);
	*tp = NULL;
}

/* --------------------------------------------------------- JSON arrays */

void cli_json_begin(struct cli_json_array *a, FILE *f)
{
	a->f = f;
	a->n = 0;
	fputc('[', f);
}

void cli_json_item(struct cli_json_array *a, const char *json, size_t len)
{
	fputs(a->n++ ? ",\n" : "\n", a->f);
	fwrite(json, 1, len, a->f);
}

void cli_json_end(struct cli_json_array *a)
{
	fputs(a->n ? "\n]\n" : "]\n", a->f);
}

/* -------------------------------------------------------------- times */

void cli_time_short(int64_t ns, char out[CLI_TIME_LEN])
{
	char full[TIME_RFC3339_LEN];

	/* "2026-11-21T10:00:00.123Z" → "2026-11-21 10:00:00" (UTC). */
	time_format_rfc3339(ns, full);
	snprintf(out, CLI_TIME_LEN, "%.10s %.8s", full, full + 11);
}

void cli_duration(int64_t ns, char *out, size_t n)
{
	double s = (double)ns / 1e9;

	if (s < 1)
		snprintf(out, n, "%.0f ms", (double)ns / 1e6);
	else if (s < 120)
		snprintf(out, n, "%.1f s", s);
	else if (s < 7200)
		snprintf(out, n, "%ldm%02lds", (long)s / 60, (long)s % 60);
	else
		snprintf(out, n, "%.1f h", s / 3600);
}

void cli_print_wrapped(FILE *f, const char *indent, const char *text)
{
	size_t width = cli_term_width(f), ind = strlen(indent);
	size_t room = width > ind + 20 ? width - ind : 20;

	while (*text) {
		size_t len = strlen(text), cut = len;
		if (text_width(text) > room) {
			/* The last space that keeps the line within room. */
			cut = prefix_bytes(text, room);
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (!cut) /* one long word: cut it */
				cut = prefix_bytes(text, room);
		}
		fprintf(f, "%s%.*s\n", indent, (int)cut, text);
		text += cut;
		while (*text == ' ')
			text++;
	}
}
