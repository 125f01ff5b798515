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

/* Civil date of a day count since 1970-01-01 (Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * Without gmtime_r and snprintf: this runs for every WAL entry and every
 * change event. Years outside 0000-9999 cannot be written in this form
 * and are clamped to its ends.
 */
void time_format_rfc3339(int64_t ns, char out[TIME_RFC3339_LEN])
{
	int64_t sec = ns / 1000000000, rem = ns % 1000000000;
	int64_t days, sod, y;
	int m, d;

	if (rem < 0) {
		rem += 1000000000;
		sec--;
	}
	days = sec / 86400;
	sod = sec % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0) {
		memcpy(out, "0000-01-01T00:00:00.000Z", 25);
		return;
	}
	if (y > 9999) {
		memcpy(out, "9999-12-31T23:59:59.999Z", 25);
		return;
	}
	put_digits(out, (uint64_t)y, 4);
	out[4] = '-';
	put_digits(out + 5, (uint64_t)m, 2);
	out[7] = '-';
	put_digits(out + 8, (uint64_t)d, 2);
	out[10] = 'T';
	put_digits(out + 11, (uint64_t)(sod / 3600), 2);
	out[13] = ':';
	put_digits(out + 14, (uint64_t)(sod / 60 % 60), 2);
	out[16] = ':';
	put_digits(out + 17, (uint64_t)(sod % 60), 2);
	out[19] = '.';
	put_digits(out + 20, (uint64_t)(rem / 1000000), 3);
	out[23] = 'Z';
	out[24] = '\0';
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
	static const int mdays[] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
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
