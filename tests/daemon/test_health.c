/*
 * The health rules (daemon_health): every way to healthy, degraded and
 * unhealthy, and the reasons given, from constructed loop states.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/daemon_int.h"

#define SEC  1000000000LL
#define NOW  (1800000000LL * SEC)
#define MIN5 (300 * SEC)

/* A daemon started an hour ago whose last iteration, a minute ago,
 * succeeded; five-minute interval, unhealthy after three. */
static struct daemon_status fine(void)
{
	struct daemon_status st;

	memset(&st, 0, sizeof(st));
	st.phase = DAEMON_SLEEPING;
	st.started_ns = NOW - 3600 * SEC;
	st.iterations = 12;
	st.last_finish_ns = st.last_success_ns = NOW - 60 * SEC;
	st.last_status = "success";
	st.storage_ok = true;
	st.ready = true;
	st.interval_ns = MIN5;
	st.unhealthy_after_ns = 3 * MIN5;
	return st;
}

static const char *health(const struct daemon_status *st, struct buf *r)
{
	return daemon_health(st, NOW, r);
}

static void test_healthy(void **state)
{
	struct daemon_status st = fine();
	struct buf r;

	(void)state;
	buf_init(&r, 0);
	assert_string_equal(health(&st, &r), "healthy");
	assert_string_equal(r.data, "[]");
	/* Starting: no iteration yet, within unhealthy_after of the start. */
	memset(&st, 0, sizeof(st));
	st.started_ns = NOW - 10 * SEC;
	st.storage_ok = true;
	st.interval_ns = MIN5;
	st.unhealthy_after_ns = 3 * MIN5;
	assert_string_equal(health(&st, &r), "healthy");
	buf_release(&r);
}

static void test_degraded(void **state)
{
	static const char *const outcomes[] = {"partial", "failed", "timeout",
					       "error"};
	struct daemon_status st;
	struct buf r;

	(void)state;
	buf_init(&r, 0);
	for (size_t i = 0; i < 4; i++) {
		st = fine();
		st.last_status = outcomes[i];
		assert_string_equal(health(&st, &r), "degraded");
		assert_non_null(strstr(r.data, "the last iteration "));
	}
	st = fine();
	st.last_status = "storage_error";
	st.storage_ok = false;
	assert_string_equal(health(&st, &r), "degraded");
	assert_string_equal(r.data, "[\"the last iteration could not write to "
				    "the store\"]");
	/* The last success older than two intervals, not yet three. */
	st = fine();
	st.last_success_ns = NOW - 2 * MIN5 - SEC;
	assert_string_equal(health(&st, &r), "degraded");
	assert_non_null(strstr(r.data, "older than two intervals"));
	buf_release(&r);
}

static void test_unhealthy(void **state)
{
	struct daemon_status st = fine();
	struct buf r;

	(void)state;
	buf_init(&r, 0);
	st.last_success_ns = NOW - 3 * MIN5 - SEC;
	st.last_status = "error";
	assert_string_equal(health(&st, &r), "unhealthy");
	/* Every reason is listed, the worst first. */
	assert_non_null(strstr(r.data, "[\"no successful iteration for"));
	assert_non_null(strstr(r.data, "failed with an error"));
	/* Never a success, and started longer ago than unhealthy_after. */
	st = fine();
	st.last_success_ns = 0;
	st.last_status = "storage_error";
	st.storage_ok = false;
	assert_string_equal(health(&st, &r), "unhealthy");
	assert_non_null(strstr(r.data, "since the start"));
	/* unhealthy_after 0 in the status means never. */
	st.unhealthy_after_ns = 0;
	assert_string_equal(health(&st, &r), "degraded");
	buf_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_healthy),
	    cmocka_unit_test(test_degraded),
	    cmocka_unit_test(test_unhealthy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
