/*
 * Unit tests for core: error codes, capped buffers, UTF-8, JSON canonical
 * form, the JSON text scanner, time, durations, hashing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/core.h"

static void test_strerror_covers_every_code(void **state)
{
	(void)state;
#define CHECK(name, val, msg) assert_string_equal(elava_strerror(val), msg);
	ELAVA_ERRNO_MAP(CHECK)
#undef CHECK
	assert_string_equal(elava_strerror(0), "success");
	assert_string_equal(elava_strerror(-999), "unknown error");
}

static void test_error_set_and_prefix(void **state)
{
	struct elava_error err = {0};
	(void)state;

	assert_int_equal(
	    elava_error_set(&err, ELAVA_E_IO, "cannot read '%s'", "x"),
	    ELAVA_E_IO);
	assert_string_equal(err.msg, "cannot read 'x'");
	elava_error_prefix(&err, "opening %s", "store");
	assert_string_equal(err.msg, "opening store: cannot read 'x'");
	assert_int_equal(elava_error_set(NULL, ELAVA_E_INVAL, "x"),
			 ELAVA_E_INVAL);
}

static void test_buf_cap(void **state)
{
	struct buf b;
	(void)state;

	buf_init(&b, 8);
	assert_int_equal(buf_puts(&b, "12345678"), 0);
	assert_int_equal(buf_putc(&b, '9'), ELAVA_E_TOOBIG);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%d-%s", 42, "ab"), 0);
	assert_string_equal(b.data, "42-ab");
	buf_release(&b);
}

static void test_json_string_escape(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;

	buf_init(&b, 0);
	buf_append_json_string(&b, "a\"b\\c\n\x01/é", 10);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001/é\"");
	buf_release(&b);
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(utf8_valid("héllo", strlen("héllo")));
	assert_true(utf8_valid("\xf0\x9f\x98\x80", 4));
	assert_false(utf8_valid("\xff", 1));
	assert_false(utf8_valid("\xc0\xaf", 2));     /* overlong */
	assert_false(utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
	assert_false(utf8_valid("\xe2\x82", 2));     /* truncated */
}

static char *canon(const char *in)
{
	struct ejson *v = NULL;
	struct buf b;

	if (ejson_parse(in, strlen(in), &v, NULL))
		return NULL;
	buf_init(&b, 0);
	ejson_dump_canonical(v, &b);
	ejson_free(&v);
	return buf_detach(&b, NULL);
}

static void test_json_canonical(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"{\"b\":1,\"a\":[true,false,null]}",
	     "{\"a\":[true,false,null],\"b\":1}"},
	    {" { \"z\" : { \"y\":1.0, \"x\":-0.0 } } ",
	     "{\"z\":{\"x\":0,\"y\":1}}"},
	    {"[0.1,1e2,1.5e-7,123456789012345678]",
	     "[0.1,100,1.5e-07,123456789012345678]"},
	    {"\"\\u00e9\\/\"", "\"é/\""},
	    {"{\"\xc3\xa9\":1,\"e\":2,\"E\":3}",
	     "{\"E\":3,\"e\":2,\"\xc3\xa9\":1}"},
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = canon(cases[i].in);
		assert_non_null(got);
		assert_string_equal(got, cases[i].out);
		xfree(got);
	}
}

static void test_json_rejects(void **state)
{
	struct elava_error err = {0};
	struct ejson *v = NULL;
	char deep[200];
	(void)state;

	assert_int_equal(ejson_parse("{\"a\":", 5, &v, &err), ELAVA_E_PARSE);
	assert_non_null(strstr(err.msg, "line 1"));
	assert_null(v);
	assert_int_equal(ejson_parse("\"\xff\"", 3, &v, &err), ELAVA_E_PARSE);
	assert_int_equal(ejson_parse("{\"a\":1,\"a\":2}", 13, &v, &err),
			 ELAVA_E_PARSE);
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	assert_int_equal(ejson_parse(deep, 200, &v, &err), ELAVA_E_TOOBIG);
	assert_int_equal(ejson_parse("{\"a\":3\0,\"b\":1}", 14, &v, &err),
			 ELAVA_E_PARSE);
	assert_null(ejson_string("a\0b", 3));
	assert_null(ejson_string("\xff", 1));
}

static void test_json_equal(void **state)
{
	struct ejson *a = ejson_int(1), *b = ejson_real(1.0);
	struct ejson *c = ejson_real(1.5);
	(void)state;

	assert_true(ejson_equal(a, b));
	assert_false(ejson_equal(a, c));
	ejson_free(&a);
	ejson_free(&b);
	ejson_free(&c);
	assert_null(a);
}

static void test_time(void **state)
{
	char out[TIME_RFC3339_LEN];
	int64_t ns;
	(void)state;

	assert_int_equal(time_parse_rfc3339("2026-11-21T10:00:00.5Z", &ns), 0);
	time_format_rfc3339(ns, out);
	assert_string_equal(out, "2026-11-21T10:00:00.500Z");
	assert_int_equal(time_parse_rfc3339("2026-11-21T12:00:00+02:00", &ns),
			 0);
	time_format_rfc3339(ns, out);
	assert_string_equal(out, "2026-11-21T10:00:00.000Z");
	assert_int_equal(time_parse_rfc3339("1970-01-01T00:00:00Z", &ns), 0);
	assert_int_equal(ns, 0);
	assert_int_equal(time_parse_rfc3339("2026-13-01T00:00:00Z", &ns),
			 ELAVA_E_PARSE);
	assert_int_equal(time_parse_rfc3339("2026-11-21", &ns), ELAVA_E_PARSE);
	assert_int_equal(time_parse_rfc3339("2024-02-29T00:00:00Z", &ns), 0);
	assert_int_equal(time_parse_rfc3339("2023-02-29T00:00:00Z", &ns),
			 ELAVA_E_PARSE);
	assert_int_equal(time_parse_rfc3339("2026-04-31T00:00:00Z", &ns),
			 ELAVA_E_PARSE);
	time_format_rfc3339(-1000000, out); /* 1 ms before the epoch */
	assert_string_equal(out, "1969-12-31T23:59:59.999Z");
	time_format_rfc3339(INT64_MAX, out);
	assert_string_equal(out, "2262-04-11T23:47:16.854Z");
	assert_int_equal(strlen(out), TIME_RFC3339_CHARS);
	assert_int_equal(time_parse_rfc3339("2026-11-21T10:00:00Zjunk", &ns),
			 ELAVA_E_PARSE);
}

static void test_duration(void **state)
{
	int64_t ns;
	(void)state;

	assert_int_equal(duration_parse("5m", &ns), 0);
	assert_true(ns == 300LL * 1000000000);
	assert_int_equal(duration_parse("1h30m", &ns), 0);
	assert_true(ns == 5400LL * 1000000000);
	assert_int_equal(duration_parse("250ms", &ns), 0);
	assert_true(ns == 250LL * 1000000);
	assert_int_equal(duration_parse("7d", &ns), 0);
	assert_int_equal(duration_parse("", &ns), ELAVA_E_PARSE);
	assert_int_equal(duration_parse("5", &ns), ELAVA_E_PARSE);
	assert_int_equal(duration_parse("m", &ns), ELAVA_E_PARSE);
	assert_int_equal(duration_parse("99999999999999999999s", &ns),
			 ELAVA_E_PARSE);
}

static void test_sha256(void **state)
{
	uint8_t d[SHA256_LEN], d2[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
	struct sha256_ctx *c = sha256_new();
	(void)state;

	sha256("abc", 3, d);
	hex_encode(d, sizeof(d), hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
	sha256_update(c, "a", 1);
	sha256_update(c, "bc", 2);
	sha256_final(c, d2);
	assert_memory_equal(d, d2, SHA256_LEN);
	sha256_free(&c);
	assert_null(c);
	assert_int_equal(hex_decode(hex, 64, d2, 32), 0);
	assert_memory_equal(d, d2, SHA256_LEN);
	assert_int_equal(hex_decode("zz", 2, d2, 1), ELAVA_E_PARSE);
}

static void test_hash128(void **state)
{
	uint64_t a[2], b[2], c[2];
	(void)state;

	hash128("aws:1:us-east-1:ec2_instance:i-1", 32, 0, a);
	hash128("aws:1:us-east-1:ec2_instance:i-1", 32, 0, b);
	hash128("aws:1:us-east-1:ec2_instance:i-2", 32, 0, c);
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, c, sizeof(a));
	/* every tail length takes its own path */
	for (size_t n = 0; n < 40; n++) {
		uint64_t x[2], y[2];
		hash128("0123456789abcdef0123456789abcdefXYZWxyzw", n, 7, x);
		hash128("0123456789abcdef0123456789abcdefXYZWxyzw", n, 8, y);
		assert_memory_not_equal(x, y, sizeof(x));
	}
}

/* jscan_value over the whole of s (in an exact-size heap copy, so ASan
 * catches a read past `end`); -1 when it stops short of the end. */
static int jscan_whole(const char *s, size_t n, unsigned depth_left,
		       unsigned *flags)
{
	char *copy = malloc(n ? n : 1);
	const char *p = copy;
	int rc;

	assert_non_null(copy);
	memcpy(copy, s, n);
	*flags = 0;
	rc = jscan_value(&p, copy + n, depth_left, flags);
	if (rc)
		assert_ptr_equal(p, copy); /* *pp moves only on success */
	else if (p != copy + n)
		rc = -1;
	free(copy);
	return rc;
}

static void test_jscan_values(void **state)
{
	static const struct {
		const char *text;
		unsigned flags;
	} good[] = {
	    {"{}", 0},
	    {"[]", 0},
	    {"0", 0},
	    {"-12", 0},
	    {"true", 0},
	    {"null", 0},
	    {"\"\"", 0},
	    {"{\"a\":[1,\"x\",null],\"b\":{}}", 0},
	    {"\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\"", JSCAN_ESCAPE},
	    {"\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", 0},
	    {"1.5", JSCAN_REAL},
	    {"1e5", JSCAN_REAL},
	    {"-0.0E-3", JSCAN_REAL},
	    {"9223372036854775807", 0},
	    {"-9223372036854775808", 0},
	    {"{ \"a\" : 1 }", JSCAN_WS},
	    {"[1,\n2]", JSCAN_WS},
	    /* valid JSON, not as the canonical writer spells it */
	    {"-0", JSCAN_NONCANONICAL},
	    {"9223372036854775808", JSCAN_NONCANONICAL},
	    {"-9223372036854775809", JSCAN_NONCANONICAL},
	    {"123456789012345678901234567890", JSCAN_NONCANONICAL},
	    {"\"\\/\"", JSCAN_ESCAPE | JSCAN_NONCANONICAL},
	    {"\"\\u0041\"", JSCAN_ESCAPE | JSCAN_NONCANONICAL},
	    {"\"\\u000a\"", JSCAN_ESCAPE | JSCAN_NONCANONICAL},
	    {"\"\\u001F\"", JSCAN_ESCAPE | JSCAN_NONCANONICAL},
	    {"\"\\u00e9\"", JSCAN_ESCAPE | JSCAN_NONCANONICAL},
	    {"\"\\ud83d\\ude00\"", JSCAN_ESCAPE | JSCAN_NONCANONICAL},
	    {"{\"b\":1,\"a\":2}", JSCAN_UNSORTED},
	    {"{\"a\":1,\"a\":2}", JSCAN_UNSORTED},
	    {"{\"a\":1,\"\\u0061\":2}",
	     JSCAN_UNSORTED | JSCAN_ESCAPE | JSCAN_NONCANONICAL},
	    {"{\"a\\n\":1,\"a\\u000b\":2}", JSCAN_ESCAPE},
	    {"[{\"b\":1,\"a\":2},{\"a\":1}]", JSCAN_UNSORTED},
	};
	static const char *bad[] = {
	    "",
	    " 1",
	    "{",
	    "}",
	    "[1,]",
	    "[1 2]",
	    "{\"a\"}",
	    "{\"a\":1,}",
	    "{a:1}",
	    "{1:1}",
	    "tru",
	    "nul",
	    "falsey",
	    "-",
	    "01",
	    "1.",
	    ".5",
	    "1e",
	    "1e+",
	    "+1",
	    "\"",
	    "\"abc",
	    "\"\x01\"",
	    "\"\\x\"",
	    "\"\\u12\"",
	    "\"\\u00zz\"",
	    "\"\\u0000\"",
	    "\"\\ud800\"",
	    "\"\\udc00\"",
	    "\"\\ud800\\u0041\"",
	    "\"\xc0\xaf\"",
	    "\"\xed\xa0\x80\"",
	    "\"\xff\"",
	    "[\"a\",]",
	    "{\"a\":1}x",
	};
	unsigned flags;
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		const char *t = good[i].text;

		if (jscan_whole(t, strlen(t), EJSON_MAX_DEPTH, &flags))
			fail_msg("rejected %s", t);
		if (flags != good[i].flags)
			fail_msg("%s: flags %#x, want %#x", t, flags,
				 good[i].flags);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (!jscan_whole(bad[i], strlen(bad[i]), EJSON_MAX_DEPTH,
				 &flags))
			fail_msg("accepted %s", bad[i]);
	/* A NUL byte is never JSON, not even inside a string. */
	assert_int_not_equal(jscan_whole("\"a\0b\"", 5, 1, &flags), 0);
}

static void test_jscan_depth(void **state)
{
	char deep[2 * EJSON_MAX_DEPTH + 8];
	size_t n = 0;
	unsigned flags;
	(void)state;

	/* EJSON_MAX_DEPTH arrays, empty: within the cap. */
	for (int i = 0; i < EJSON_MAX_DEPTH; i++)
		deep[n++] = '[';
	for (int i = 0; i < EJSON_MAX_DEPTH; i++)
		deep[n++] = ']';
	assert_int_equal(jscan_whole(deep, n, EJSON_MAX_DEPTH, &flags), 0);
	assert_int_equal(flags, 0);
	assert_int_not_equal(jscan_whole(deep, n, EJSON_MAX_DEPTH - 1, &flags),
			     0);
	/* A scalar in the innermost: fine, but ejson_parse counts it. */
	memmove(deep + EJSON_MAX_DEPTH + 1, deep + EJSON_MAX_DEPTH,
		EJSON_MAX_DEPTH);
	deep[EJSON_MAX_DEPTH] = '1';
	n++;
	assert_int_equal(jscan_whole(deep, n, EJSON_MAX_DEPTH, &flags), 0);
	assert_int_equal(flags, JSCAN_DEEP);
	assert_int_equal(jscan_whole(deep, n, EJSON_MAX_DEPTH + 1, &flags), 0);
	assert_int_equal(flags, 0);
	assert_int_equal(jscan_whole("1", 1, 0, &flags), 0);
	assert_int_equal(flags, JSCAN_DEEP);
	assert_int_not_equal(jscan_whole("{}", 2, 0, &flags), 0);
}

static void test_jscan_truncated(void **state)
{
	static const char *texts[] = {
	    "{\"a\":[1,-2.5e+3,true,false,null],\"b\":\"x\\u00e9\\n\"}",
	    "[\"\\ud83d\\ude00\",{\"k\":\"\xf0\x9f\x98\x80\"},[]]",
	    "\"\\u0041\\u00e9\"",
	};
	unsigned flags;
	(void)state;

	/* Every proper prefix is refused, reading only what it holds. */
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		size_t len = strlen(texts[i]);

		assert_int_equal(
		    jscan_whole(texts[i], len, EJSON_MAX_DEPTH, &flags), 0);
		for (size_t n = 0; n < len; n++)
			if (!jscan_whole(texts[i], n, EJSON_MAX_DEPTH, &flags))
				fail_msg("accepted %zu bytes of %s", n,
					 texts[i]);
	}
}

static void test_jscan_string_decode(void **state)
{
	static const char s[] =
	    "\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u00e9\\ud83d\\ude00z\"";
	static const char want[] =
	    "a\"\\/\b\f\n\r\t\x01\xc3\xa9\xf0\x9f\x98\x80z";
	const char *p = s, *ws = " \t\r\nx";
	struct buf b;
	unsigned flags = 0;
	(void)state;

	buf_init(&b, 0);
	assert_int_equal(jscan_string(&p, s + sizeof(s) - 1, &flags, &b), 0);
	assert_ptr_equal(p, s + sizeof(s) - 1);
	assert_int_equal(b.len, sizeof(want) - 1);
	assert_memory_equal(b.data, want, b.len);
	assert_int_equal(flags, JSCAN_ESCAPE | JSCAN_NONCANONICAL);
	/* Not at a quote. */
	p = s + 1;
	assert_int_equal(jscan_string(&p, s + sizeof(s) - 1, &flags, NULL),
			 ELAVA_E_PARSE);
	/* The decode buffer's cap is reported as it is. */
	buf_release(&b);
	buf_init(&b, 4);
	p = s;
	assert_int_equal(jscan_string(&p, s + sizeof(s) - 1, &flags, &b),
			 ELAVA_E_TOOBIG);
	buf_release(&b);
	/* Whitespace. */
	flags = 0;
	p = ws;
	jscan_ws(&p, ws + 5, &flags);
	assert_ptr_equal(p, ws + 4);
	assert_int_equal(flags, JSCAN_WS);
	flags = 0;
	jscan_ws(&p, ws + 5, &flags);
	assert_ptr_equal(p, ws + 4);
	assert_int_equal(flags, 0);
	jscan_ws(&p, ws + 5, NULL);
}

static void test_jscan_str_cmp(void **state)
{
	(void)state;

	assert_int_equal(jscan_str_cmp("a", 1, false, "b", 1, false), -1);
	assert_int_equal(jscan_str_cmp("ab", 2, false, "a", 1, false), 1);
	assert_int_equal(jscan_str_cmp("", 0, false, "", 0, false), 0);
	assert_int_equal(jscan_str_cmp("a", 1, false, "\\u0061", 6, true), 0);
	assert_int_equal(jscan_str_cmp("\\n", 2, true, "\\u000b", 6, true), -1);
	/* By decoded bytes: U+00E9 (c3 a9) before U+1F600 (f0 ...). */
	assert_int_equal(
	    jscan_str_cmp("\\ud83d\\ude00", 12, true, "\xc3\xa9", 2, false), 1);
	assert_int_equal(jscan_str_cmp("x\\/", 3, true, "x/", 2, false), 0);
	assert_int_equal(jscan_str_cmp("x\\\"", 3, true, "x", 1, false), 1);
}

static void test_be(void **state)
{
	uint8_t p[8];
	(void)state;

	be64_put(p, 0x0102030405060708ULL);
	assert_int_equal(p[0], 1);
	assert_int_equal(p[7], 8);
	assert_true(be64_get(p) == 0x0102030405060708ULL);
	be32_put(p, 0xdeadbeef);
	assert_true(be32_get(p) == 0xdeadbeef);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strerror_covers_every_code),
	    cmocka_unit_test(test_error_set_and_prefix),
	    cmocka_unit_test(test_buf_cap),
	    cmocka_unit_test(test_json_string_escape),
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_json_canonical),
	    cmocka_unit_test(test_json_rejects),
	    cmocka_unit_test(test_json_equal),
	    cmocka_unit_test(test_jscan_values),
	    cmocka_unit_test(test_jscan_depth),
	    cmocka_unit_test(test_jscan_truncated),
	    cmocka_unit_test(test_jscan_string_decode),
	    cmocka_unit_test(test_jscan_str_cmp),
	    cmocka_unit_test(test_time),
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_sha256),
	    cmocka_unit_test(test_hash128),
	    cmocka_unit_test(test_be),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
