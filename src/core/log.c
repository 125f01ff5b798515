/*
 * Process-wide logging to stderr, as text or JSON lines. Each message is
 * formatted into one buffer and written with one call so lines from several
 * threads never interleave.
 */
#include "core.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Atomic: the daemon changes them on SIGHUP while other threads log. */
static _Atomic int min_level = LOG_INFO;
static _Atomic int out_format = LOG_FORMAT_TEXT;
static log_sink_fn sink;
static void *sink_ud;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_configure(enum log_level min, enum log_format fmt)
{
	min_level = (int)min;
	out_format = (int)fmt;
}

int log_level_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++)
		if (!strcasecmp(s, level_names[i]))
			return (int)i;
	if (!strcasecmp(s, "warning"))
		return LOG_WARN;
	return -1;
}

void log_set_sink(log_sink_fn fn, void *ud)
{
	sink = fn;
	sink_ud = ud;
}

void log_msg(enum log_level lvl, const char *module, const char *fmt, ...)
{
	char ts[TIME_RFC3339_LEN];
	char msg[2048];
	struct buf line;
	va_list ap;

	if ((int)lvl < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	time_format_rfc3339(time_now_ns(), ts);

	buf_init(&line, 8192);
	if (out_format == LOG_FORMAT_JSON) {
		buf_printf(&line,
			   "{\"ts\":\"%s\",\"level\":\"%s\",\"module\":", ts,
			   level_names[lvl]);
		buf_append_json_string(&line, module, strlen(module));
		buf_puts(&line, ",\"msg\":");
		buf_append_json_string(&line, msg, strlen(msg));
		buf_puts(&line, "}\n");
	} else {
		buf_printf(&line, "%s %-5s %s: %s\n", ts, level_names[lvl],
			   module, msg);
	}
	if (sink)
		sink(lvl, line.data, sink_ud);
	else
		fwrite(line.data, 1, line.len, stderr);
	buf_release(&line);
}
