/*
 * Time: wall and monotonic clocks in nanoseconds, RFC 3339 in UTC.
 */
#include "core.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t time_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t time_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void time_format_rfc3339(int64_t ns, char out[TIME_RFC3339_LEN])
{
	int64_t sec = ns / 1000000000;
	int64_t rem = ns % 1000000000;
	struct tm tm;
	time_t t;

	if (rem < 0) {
		rem += 1000000000;
		sec--;
	}
	t = (time_t)sec;
	gmtime_r(&t, &tm);
	char tmp[96];
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(rem / 1000000));
	/* Years beyond 9999 do not fit; truncation keeps the buffer safe. */
	size_t n = strnlen(tmp, TIME_RFC3339_LEN - 1);
	memcpy(out, tmp, n);
	out[n] = '\0';
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Hinnant's). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int time_parse_rfc3339(const char *s, int64_t *ns_out)
{
	int y, mo, d, h, mi, se;
	int64_t frac = 0;
	int64_t offset = 0;
	const char *p = s;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return ELAVA_E_PARSE;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return ELAVA_E_PARSE;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &se))
		return ELAVA_E_PARSE;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60)
		return ELAVA_E_PARSE;
	if (*p == '.') {
		int64_t scale = 100000000;
		p++;
		if (!isdigit((unsigned char)*p))
			return ELAVA_E_PARSE;
		while (isdigit((unsigned char)*p)) {
			frac += (*p - '0') * scale;
			scale /= 10;
			p++;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		int oh, om;
		p++;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return ELAVA_E_PARSE;
		offset = sign * (int64_t)(oh * 3600 + om * 60);
	} else {
		return ELAVA_E_PARSE;
	}
	if (*p)
		return ELAVA_E_PARSE;
	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
		       se - offset;
	int64_t ns;
	/* int64 nanoseconds span the years 1677-2262; refuse, not wrap. */
	if (__builtin_mul_overflow(secs, (int64_t)1000000000, &ns) ||
	    __builtin_add_overflow(ns, frac, &ns))
		return ELAVA_E_PARSE;
	*ns_out = ns;
	return 0;
}
