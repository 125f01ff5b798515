/*
 * Unit tests for config: the defaults, a full file, every error a file can
 * get (with the exact "<file>:<line>: ..." message), the environment over
 * the file, flags over the environment, where each value came from, the
 * dump loading back, and the configuration left as it was on any error.
 * argv[1] is tests/config/data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "config/config_int.h"

#define SEC ((int64_t)1000000000)

static const char *data_dir = "tests/config/data";

static char *data_path(const char *name)
{
	struct buf b = BUF_INIT;

	assert_int_equal(buf_printf(&b, "%s/%s", data_dir, name), 0);
	return buf_detach(&b, NULL);
}

/* Every ELAVA_* variable the table knows, unset (tests set their own). */
static int clear_env(void **state)
{
	(void)state;
	for (size_t i = 0; i < config__nkeys; i++)
		if (config__keys[i].env)
			unsetenv(config__keys[i].env);
	return 0;
}

static int load_text(struct config *c, const char *yaml,
		     struct elava_error *err)
{
	return config__load_buffer(c, yaml, strlen(yaml), "elava.yaml", err);
}

static void test_defaults(void **state)
{
	struct config c;
	(void)state;

	config_init(&c);
	assert_int_equal(c.reconciliation_interval_ns, 300 * SEC);
	assert_int_equal(c.metrics_port, 2112);
	assert_string_equal(c.listen, "0.0.0.0");
	assert_int_equal(c.graceful_shutdown_timeout_ns, 30 * SEC);
	assert_int_equal(c.reconciliation_timeout_ns, 0);
	assert_int_equal(c.unhealthy_after_ns, 0);
	assert_null(c.api_token_file);
	assert_string_equal(c.provider, "aws");
	assert_int_equal(c.regions.n, 0);
	assert_false(c.all_regions);
	assert_null(c.profile);
	assert_int_equal(c.concurrency, 8);
	assert_true(c.requests_per_second == 20.0);
	assert_null(c.storage_path);
	assert_string_equal(c.log_level, "info");
	assert_string_equal(c.log_format, "text");
	assert_int_equal(c.types.n, 0);
	assert_int_equal(c.exclude_types.n, 0);
	assert_int_equal(c.ignore.n, 0);
	assert_null(c.file);
	for (size_t i = 0; i < config__nkeys; i++)
		assert_int_equal(config_source_of(&c, config__keys[i].path),
				 CONFIG_SRC_DEFAULT);
	config_release(&c);
	config_release(&c); /* released twice is fine */
	config_release(NULL);
}

static void test_full_file(void **state)
{
	struct config c;
	struct elava_error err = {0};
	char *path = data_path("full.yaml");
	(void)state;

	config_init(&c);
	assert_int_equal(config_load_file(&c, path, &err), 0);
	assert_string_equal(c.file, path);
	assert_int_equal(c.reconciliation_interval_ns, 5400 * SEC);
	assert_int_equal(c.metrics_port, 9100);
	assert_string_equal(c.listen, "127.0.0.1");
	assert_int_equal(c.graceful_shutdown_timeout_ns, 45 * SEC);
	assert_int_equal(c.reconciliation_timeout_ns, 1200 * SEC);
	assert_int_equal(c.unhealthy_after_ns, 7200 * SEC);
	assert_string_equal(c.api_token_file, "/etc/elava/token");
	assert_string_equal(c.provider, "aws");
	assert_int_equal(c.regions.n, 2);
	assert_string_equal(c.regions.v[0].value, "us-east-1");
	assert_int_equal(c.regions.v[0].line, 14);
	assert_string_equal(c.regions.v[1].value, "eu-west-1");
	assert_int_equal(c.regions.v[1].line, 15);
	assert_false(c.all_regions);
	assert_string_equal(c.profile, "prod");
	assert_int_equal(c.concurrency, 16);
	assert_true(c.requests_per_second == 12.5);
	assert_string_equal(c.storage_path, "/var/lib/elava/data");
	assert_string_equal(c.log_level, "debug");
	assert_string_equal(c.log_format, "json");
	assert_int_equal(c.types.n, 3);
	assert_string_equal(c.types.v[2].value, "rds_instance");
	assert_int_equal(c.types.v[2].line, 29);
	assert_int_equal(c.exclude_types.n, 1);
	assert_string_equal(c.exclude_types.v[0].value, "ebs_snapshot");
	assert_int_equal(c.ignore.n, 3);
	assert_string_equal(c.ignore.v[0].type, "*");
	assert_string_equal(c.ignore.v[0].value, "tags.LastScanned");
	assert_int_equal(c.ignore.v[0].line, 33);
	assert_string_equal(c.ignore.v[1].type, "ec2_instance");
	assert_string_equal(c.ignore.v[1].value, "state.launch_time");
	assert_int_equal(c.ignore.v[1].line, 35);
	assert_string_equal(c.ignore.v[2].type, "ec2_instance");
	assert_int_equal(c.ignore.v[2].line, 36);
	for (size_t i = 0; i < config__nkeys; i++)
		assert_int_equal(config_source_of(&c, config__keys[i].path),
				 CONFIG_SRC_FILE);
	assert_int_equal(config_line_of(&c, "daemon.metrics_port"), 4);
	assert_int_equal(config_line_of(&c, "scan.ignore"), 31);
	assert_int_equal(config_line_of(&c, "no.such_key"), 0);
	assert_int_equal(config_source_of(&c, "no.such_key"),
			 CONFIG_SRC_DEFAULT);
	config_release(&c);
	xfree(path);
}

/* Forms that are not the plain block style, and values set to null. */
static void test_file_forms(void **state)
{
	struct config c;
	struct elava_error err = {0};
	(void)state;

	config_init(&c);
	assert_int_equal(load_text(&c,
				   "{daemon: {metrics_port: '2113', "
				   "reconciliation_interval: \"0\"}}\n",
				   &err),
			 ELAVA_E_INVAL);
	assert_string_equal(err.msg, "elava.yaml:1: "
				     "daemon.reconciliation_interval: '0' is "
				     "below the minimum of 100ms");
	assert_int_equal(load_text(&c,
				   "{daemon: {metrics_port: '2113', "
				   "reconciliation_timeout: 0}}\n"
				   "...\n",
				   &err),
			 0);
	assert_int_equal(c.metrics_port, 2113);
	/* One region as a plain string; a list emptied by null; sections
	 * with nothing in them. */
	assert_int_equal(load_text(&c,
				   "cloud:\n"
				   "  region: us-west-2\n"
				   "  profile: dev\n"
				   "  all_regions: yes\n"
				   "scan:\n"
				   "  types: ~\n"
				   "logging:\n"
				   "  level: WARN\n"
				   "storage:\n",
				   &err),
			 0);
	assert_int_equal(c.regions.n, 1);
	assert_string_equal(c.regions.v[0].value, "us-west-2");
	assert_int_equal(c.regions.v[0].line, 2);
	assert_true(c.all_regions);
	assert_string_equal(c.log_level, "warn");
	assert_int_equal(config_source_of(&c, "scan.types"), CONFIG_SRC_FILE);
	/* null unsets a string that may be unset. */
	assert_int_equal(load_text(&c, "cloud:\n  profile: null\n", &err), 0);
	assert_null(c.profile);
	assert_int_equal(config_source_of(&c, "cloud.profile"),
			 CONFIG_SRC_FILE);
	/* Empty files, only comments, an empty document: nothing set. */
	assert_int_equal(load_text(&c, "", &err), 0);
	assert_int_equal(load_text(&c, "# nothing\n\n", &err), 0);
	assert_int_equal(load_text(&c, "---\n", &err), 0);
	assert_int_equal(load_text(&c, "--- ~\n...\n", &err), 0);
	assert_int_equal(c.metrics_port, 2113);
	config_release(&c);
}

struct error_case {
	const char *yaml;
	int code;
	const char *msg;
};

static const struct error_case error_cases[] = {
    /* unknown keys, at each level */
    {"daemon:\n  metrics_port: 1\n  metric_port: 2\n", ELAVA_E_INVAL,
     "elava.yaml:3: unknown key 'daemon.metric_port' (valid keys under "
     "'daemon': reconciliation_interval, metrics_port, listen, "
     "graceful_shutdown_timeout, reconciliation_timeout, unhealthy_after, "
     "api_token_file)"},
    {"# x\ndemon:\n  metrics_port: 1\n", ELAVA_E_INVAL,
     "elava.yaml:2: unknown key 'demon' (valid sections: daemon, cloud, "
     "storage, logging, scan)"},
    {"daemon.metrics_port: 1\n", ELAVA_E_INVAL,
     "elava.yaml:1: unknown key 'daemon.metrics_port' (write it nested: "
     "'daemon:' and under it 'metrics_port:')"},
    {"logging:\n  level: info\n  colour: true\n", ELAVA_E_INVAL,
     "elava.yaml:3: unknown key 'logging.colour' (valid keys under "
     "'logging': level, format)"},
    /* wrong node types */
    {"daemon:\n  reconciliation_interval:\n    minutes: 5\n", ELAVA_E_INVAL,
     "elava.yaml:3: daemon.reconciliation_interval: expected a duration "
     "like 5m, got a mapping"},
    {"daemon:\n  metrics_port: [1, 2]\n", ELAVA_E_INVAL,
     "elava.yaml:2: daemon.metrics_port: expected a port (1-65535), got a "
     "sequence"},
    {"daemon:\n  metrics_port:\n", ELAVA_E_INVAL,
     "elava.yaml:2: daemon.metrics_port: expected a port (1-65535), got an "
     "empty value"},
    {"daemon: 5m\n", ELAVA_E_INVAL,
     "elava.yaml:1: daemon: expected a mapping of keys, got a string"},
    {"- daemon\n", ELAVA_E_INVAL,
     "elava.yaml:1: the top level must be a mapping of sections (valid "
     "sections: daemon, cloud, storage, logging, scan), got a sequence"},
    {"just text\n", ELAVA_E_INVAL,
     "elava.yaml:1: the top level must be a mapping of sections (valid "
     "sections: daemon, cloud, storage, logging, scan), got a string"},
    {"cloud:\n  region:\n    - us-east-1\n    - [eu-west-1]\n", ELAVA_E_INVAL,
     "elava.yaml:4: cloud.region: expected a string in the sequence, got a "
     "sequence"},
    {"cloud:\n  region: {a: b}\n", ELAVA_E_INVAL,
     "elava.yaml:2: cloud.region: expected a region or a sequence of "
     "regions, got a mapping"},
    {"scan:\n  ignore: [a]\n", ELAVA_E_INVAL,
     "elava.yaml:2: scan.ignore: expected a mapping of resource type to a "
     "sequence of field paths, got a sequence"},
    {"scan:\n  ignore:\n    ec2_instance: {a: b}\n", ELAVA_E_INVAL,
     "elava.yaml:3: scan.ignore: expected a field path or a sequence of "
     "them, got a mapping"},
    {"scan:\n  ignore:\n    ec2_instance:\n      - a\n      -\n", ELAVA_E_INVAL,
     "elava.yaml:5: scan.ignore: expected a string in the sequence, got an "
     "empty value"},
    {"daemon:\n  [a]: 1\n", ELAVA_E_INVAL,
     "elava.yaml:2: daemon: expected a key name, got a sequence"},
    /* duplicates */
    {"daemon:\n  metrics_port: 1\n  listen: x\n  metrics_port: 2\n",
     ELAVA_E_INVAL,
     "elava.yaml:4: duplicate key 'daemon.metrics_port' (first on line "
     "2)"},
    {"daemon:\n  listen: x\ncloud:\n  provider: aws\ndaemon:\n  "
     "metrics_port: 2\n",
     ELAVA_E_INVAL, "elava.yaml:5: duplicate key 'daemon' (first on line 1)"},
    {"scan:\n  ignore:\n    a: [x]\n    b: [y]\n    a: [z]\n", ELAVA_E_INVAL,
     "elava.yaml:5: duplicate key 'a' in scan.ignore (first on line 3)"},
    /* bad values */
    {"daemon:\n  reconciliation_interval: 5 minutes\n", ELAVA_E_INVAL,
     "elava.yaml:2: daemon.reconciliation_interval: '5 minutes' is not a "
     "duration like 5m"},
    {"daemon:\n  reconciliation_interval: 50ms\n", ELAVA_E_INVAL,
     "elava.yaml:2: daemon.reconciliation_interval: '50ms' is below the "
     "minimum of 100ms"},
    {"daemon:\n\n  metrics_port: 70000\n", ELAVA_E_INVAL,
     "elava.yaml:3: daemon.metrics_port: '70000' is not a port (1-65535)"},
    {"daemon:\n  metrics_port: 0x50\n", ELAVA_E_INVAL,
     "elava.yaml:2: daemon.metrics_port: '0x50' is not a port (1-65535)"},
    {"cloud:\n  concurrency: 65\n", ELAVA_E_INVAL,
     "elava.yaml:2: cloud.concurrency: '65' is not an integer from 1 to "
     "64"},
    {"cloud:\n  requests_per_second: 0\n", ELAVA_E_INVAL,
     "elava.yaml:2: cloud.requests_per_second: '0' is not a number greater "
     "than 0"},
    {"cloud:\n  requests_per_second: .inf\n", ELAVA_E_INVAL,
     "elava.yaml:2: cloud.requests_per_second: '.inf' is not a number "
     "greater than 0"},
    {"cloud:\n  all_regions: maybe\n", ELAVA_E_INVAL,
     "elava.yaml:2: cloud.all_regions: 'maybe' is not true or false"},
    {"cloud:\n  provider: gcp\n", ELAVA_E_INVAL,
     "elava.yaml:2: cloud.provider: 'gcp' is not one of aws"},
    {"logging:\n  level: verbose\n", ELAVA_E_INVAL,
     "elava.yaml:2: logging.level: 'verbose' is not one of debug, info, "
     "warn, error"},
    {"logging:\n  format: xml\n", ELAVA_E_INVAL,
     "elava.yaml:2: logging.format: 'xml' is not one of text, json"},
    {"daemon:\n  listen: ''\n", ELAVA_E_INVAL,
     "elava.yaml:2: daemon.listen: the value is empty"},
    {"daemon:\n  listen: \"a\\0b\"\n", ELAVA_E_INVAL,
     "elava.yaml:2: daemon.listen: the value contains a NUL byte"},
    {"daemon:\n  listen:\n", ELAVA_E_INVAL,
     "elava.yaml:2: daemon.listen: expected an address, got an empty "
     "value"},
    {"scan:\n  types: [a, '']\n", ELAVA_E_INVAL,
     "elava.yaml:2: scan.types: the value is empty"},
    /* anchors, aliases, tags, documents */
    {"daemon: &d\n  metrics_port: 1\n", ELAVA_E_INVAL,
     "elava.yaml:1: anchors are not supported ('&d'): write the value out"},
    {"daemon:\n  listen: x\ncloud: *d\n", ELAVA_E_INVAL,
     "elava.yaml:3: aliases are not supported ('*d'): write the value out"},
    {"daemon:\n  metrics_port: !!int 5\n", ELAVA_E_INVAL,
     "elava.yaml:2: tags are not supported ('tag:yaml.org,2002:int'): "
     "remove the tag"},
    {"daemon:\n  metrics_port: 1\n---\ncloud:\n  provider: aws\n",
     ELAVA_E_INVAL,
     "elava.yaml:3: a second YAML document: the file must hold one"},
    /* YAML syntax: line and column from libyaml */
    {"daemon:\n  metrics_port: 1\n listen: x\n", ELAVA_E_PARSE,
     "elava.yaml:3:2: not valid YAML: did not find expected key (while "
     "parsing a block mapping at line 1)"},
    {"daemon:\n  listen: \"x\n", ELAVA_E_PARSE,
     "elava.yaml:3:1: not valid YAML: found unexpected end of stream "
     "(while scanning a quoted scalar at line 2)"},
    {"daemon:\n  listen: x\n\tmetrics_port: 1\n", ELAVA_E_PARSE,
     "elava.yaml:3:1: not valid YAML: found a tab character that violates "
     "indentation (while scanning a plain scalar at line 2)"},
    {"daemon:\n  listen: a\x01z\n", ELAVA_E_PARSE,
     "elava.yaml:2:12: not valid YAML: control characters are not "
     "allowed"},
    {"daemon:\n  listen: \xff\n", ELAVA_E_PARSE,
     "elava.yaml:2:11: not valid YAML: invalid leading UTF-8 octet"},
};

static void test_file_errors(void **state)
{
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(error_cases); i++) {
		const struct error_case *t = &error_cases[i];
		struct config c;
		struct elava_error err = {0};
		int rc;

		config_init(&c);
		rc = load_text(&c, t->yaml, &err);
		if (rc != t->code || strcmp(err.msg, t->msg)) {
			print_error("case %zu: %s\n got  %d '%s'\n want %d "
				    "'%s'\n",
				    i, t->yaml, rc, err.msg, t->code, t->msg);
			fail();
		}
		/* Left as it was: the defaults. */
		assert_int_equal(c.metrics_port, 2112);
		assert_null(c.file);
		config_release(&c);
	}
}

/* A file that fails half way leaves every field as it was. */
static void test_unchanged_on_error(void **state)
{
	struct config c, before;
	struct elava_error err = {0};
	(void)state;

	config_init(&c);
	assert_int_equal(load_text(&c,
				   "daemon:\n  metrics_port: 9000\n"
				   "cloud:\n  region: [a, b]\n",
				   &err),
			 0);
	config__copy(&before, &c);
	assert_int_equal(load_text(&c,
				   "daemon:\n  metrics_port: 9001\n"
				   "cloud:\n  region: [c]\n  concurrency: 0\n",
				   &err),
			 ELAVA_E_INVAL);
	assert_string_equal(err.msg, "elava.yaml:5: cloud.concurrency: '0' "
				     "is not an integer from 1 to 64");
	assert_int_equal(c.metrics_port, 9000);
	assert_int_equal(c.regions.n, 2);
	assert_true(config__equal(&c, &before));
	assert_int_equal(config_source_of(&c, "cloud.concurrency"),
			 CONFIG_SRC_DEFAULT);

	setenv("ELAVA_METRICS_PORT", "9002", 1);
	setenv("ELAVA_LOG_LEVEL", "loud", 1);
	assert_int_equal(config_load_env(&c, &err), ELAVA_E_INVAL);
	assert_int_equal(c.metrics_port, 9000);
	assert_true(config__equal(&c, &before));
	unsetenv("ELAVA_METRICS_PORT");
	unsetenv("ELAVA_LOG_LEVEL");

	assert_int_equal(
	    config_set(&c, "cloud.region", "x,,y", CONFIG_SRC_FLAG, &err),
	    ELAVA_E_INVAL);
	assert_string_equal(err.msg, "cloud.region: 'x,,y' has an empty item");
	assert_true(config__equal(&c, &before));
	config_release(&before);
	config_release(&c);
}

static void test_missing_and_unreadable(void **state)
{
	struct config c;
	struct elava_error err = {0};
	(void)state;

	config_init(&c);
	assert_int_equal(config_load_file(&c, "/nonexistent/elava.yaml", &err),
			 ELAVA_E_NOTFOUND);
	assert_string_equal(err.msg, "cannot open config file "
				     "'/nonexistent/elava.yaml': No such file "
				     "or directory");
	assert_int_equal(config_load_file(&c, data_dir, &err), ELAVA_E_INVAL);
	assert_true(strstr(err.msg, "is a directory") != NULL);
	config_release(&c);
}

static char *temp_file(const void *data, size_t n)
{
	char tmpl[] = "/tmp/elava-config-XXXXXX";
	int fd = mkstemp(tmpl);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
	return xstrdup(tmpl);
}

/* The file cap: 1 MiB of YAML loads, one byte more does not. */
static void test_file_cap(void **state)
{
	struct config c;
	struct elava_error err = {0};
	char *big = xmalloc(CONFIG_FILE_MAX + 1);
	const char *head = "daemon:\n  metrics_port: 9000\n";
	char *path;
	(void)state;

	memset(big, '\n', CONFIG_FILE_MAX + 1);
	memcpy(big, head, strlen(head));
	memset(big + 100, '#', 1000);
	path = temp_file(big, CONFIG_FILE_MAX);
	config_init(&c);
	assert_int_equal(config_load_file(&c, path, &err), 0);
	assert_int_equal(c.metrics_port, 9000);
	unlink(path);
	xfree(path);

	config_release(&c);
	config_init(&c);
	path = temp_file(big, CONFIG_FILE_MAX + 1);
	assert_int_equal(config_load_file(&c, path, &err), ELAVA_E_TOOBIG);
	char want[200];
	snprintf(want, sizeof(want), "config file '%s' is larger than 1 MiB",
		 path);
	assert_string_equal(err.msg, want);
	assert_int_equal(c.metrics_port, 2112);
	assert_int_equal(config__load_buffer(&c, big, CONFIG_FILE_MAX + 1,
					     "elava.yaml", &err),
			 ELAVA_E_TOOBIG);
	unlink(path);
	xfree(path);
	xfree(big);
	config_release(&c);
}

/* Lists cap at 1024 items, values at 4096 bytes. */
static void test_list_and_string_caps(void **state)
{
	struct config c;
	struct elava_error err = {0};
	struct buf y = BUF_INIT;
	(void)state;

	config_init(&c);
	buf_puts(&y, "scan:\n  types:\n");
	for (int i = 0; i < CONFIG_LIST_MAX; i++)
		buf_printf(&y, "    - t%d\n", i);
	assert_int_equal(load_text(&c, y.data, &err), 0);
	assert_int_equal(c.types.n, CONFIG_LIST_MAX);
	buf_puts(&y, "    - one_more\n");
	assert_int_equal(load_text(&c, y.data, &err), ELAVA_E_TOOBIG);
	assert_string_equal(
	    err.msg, "elava.yaml:1027: scan.types: more than 1024 items");

	buf_reset(&y);
	buf_puts(&y, "storage:\n  path: /");
	for (int i = 1; i < CONFIG_STRING_MAX; i++)
		buf_putc(&y, 'a');
	buf_puts(&y, "\n");
	assert_int_equal(load_text(&c, y.data, &err), 0);
	assert_int_equal(strlen(c.storage_path), CONFIG_STRING_MAX);
	buf_reset(&y);
	buf_puts(&y, "storage:\n  path: /");
	for (int i = 0; i < CONFIG_STRING_MAX; i++)
		buf_putc(&y, 'a');
	buf_puts(&y, "\n");
	assert_int_equal(load_text(&c, y.data, &err), ELAVA_E_TOOBIG);
	assert_string_equal(err.msg, "elava.yaml:2: storage.path: the value "
				     "is longer than 4096 bytes");
	buf_release(&y);
	config_release(&c);
}

static void test_env(void **state)
{
	struct config c;
	struct elava_error err = {0};
	char *path = data_path("full.yaml");
	(void)state;

	config_init(&c);
	assert_int_equal(config_load_file(&c, path, &err), 0);
	setenv("ELAVA_METRICS_PORT", "9200", 1);
	setenv("ELAVA_RECONCILIATION_INTERVAL", "2m", 1);
	setenv("ELAVA_CLOUD_REGION", " ap-south-1 ,sa-east-1", 1);
	setenv("ELAVA_CLOUD_ALL_REGIONS", "1", 1);
	setenv("ELAVA_LOG_LEVEL", "", 1); /* empty: not applied */
	setenv("ELAVA_STORAGE_PATH", "/data", 1);
	setenv("ELAVA_SCAN_EXCLUDE_TYPES", "a,b,c", 1);
	assert_int_equal(config_load_env(&c, &err), 0);
	assert_int_equal(c.metrics_port, 9200);
	assert_int_equal(c.reconciliation_interval_ns, 120 * SEC);
	assert_int_equal(c.regions.n, 2);
	assert_string_equal(c.regions.v[0].value, "ap-south-1");
	assert_string_equal(c.regions.v[1].value, "sa-east-1");
	assert_int_equal(c.regions.v[0].line, 0);
	assert_true(c.all_regions);
	assert_string_equal(c.log_level, "debug"); /* the file's */
	assert_string_equal(c.storage_path, "/data");
	assert_int_equal(c.exclude_types.n, 3);
	assert_int_equal(config_source_of(&c, "daemon.metrics_port"),
			 CONFIG_SRC_ENV);
	assert_int_equal(config_line_of(&c, "daemon.metrics_port"), 0);
	assert_int_equal(config_source_of(&c, "logging.level"),
			 CONFIG_SRC_FILE);
	assert_int_equal(config_line_of(&c, "logging.level"), 25);
	assert_int_equal(config_source_of(&c, "cloud.region"), CONFIG_SRC_ENV);

	/* Bad values name the variable. */
	setenv("ELAVA_METRICS_PORT", "x", 1);
	assert_int_equal(config_load_env(&c, &err), ELAVA_E_INVAL);
	assert_string_equal(err.msg, "environment variable ELAVA_METRICS_PORT: "
				     "'x' is not a port (1-65535)");
	setenv("ELAVA_METRICS_PORT", "9200", 1);
	setenv("ELAVA_CLOUD_PROVIDER", "azure", 1);
	assert_int_equal(config_load_env(&c, &err), ELAVA_E_INVAL);
	assert_string_equal(err.msg,
			    "environment variable ELAVA_CLOUD_PROVIDER: "
			    "'azure' is not one of aws");
	unsetenv("ELAVA_CLOUD_PROVIDER");
	setenv("ELAVA_CLOUD_REGION", "us-east-1,", 1);
	assert_int_equal(config_load_env(&c, &err), ELAVA_E_INVAL);
	assert_string_equal(err.msg, "environment variable ELAVA_CLOUD_REGION: "
				     "'us-east-1,' has an empty item");
	setenv("ELAVA_CLOUD_REGION", "us-\xff", 1);
	assert_int_equal(config_load_env(&c, &err), ELAVA_E_INVAL);
	assert_string_equal(err.msg, "environment variable ELAVA_CLOUD_REGION: "
				     "the value is not valid UTF-8");
	setenv("ELAVA_CLOUD_REGION", "us-east-1", 1);
	setenv("ELAVA_UNHEALTHY_AFTER", "-5m", 1);
	assert_int_equal(config_load_env(&c, &err), ELAVA_E_INVAL);
	assert_string_equal(err.msg,
			    "environment variable ELAVA_UNHEALTHY_AFTER: "
			    "'-5m' is not a duration like 15m (0: three "
			    "intervals)");
	clear_env(NULL);
	config_release(&c);
	xfree(path);
}

static void test_set(void **state)
{
	struct config c;
	struct elava_error err = {0};
	(void)state;

	config_init(&c);
	setenv("ELAVA_METRICS_PORT", "9200", 1);
	assert_int_equal(config_load_env(&c, &err), 0);
	assert_int_equal(config_set(&c, "daemon.metrics_port", "9300",
				    CONFIG_SRC_FLAG, &err),
			 0);
	assert_int_equal(c.metrics_port, 9300);
	assert_int_equal(config_source_of(&c, "daemon.metrics_port"),
			 CONFIG_SRC_FLAG);
	assert_int_equal(
	    config_set(&c, "daemon.metrics_port", "0", CONFIG_SRC_FLAG, &err),
	    ELAVA_E_INVAL);
	assert_string_equal(err.msg,
			    "daemon.metrics_port: '0' is not a port (1-65535)");
	assert_int_equal(c.metrics_port, 9300);
	assert_int_equal(
	    config_set(&c, "daemon.metric_port", "1", CONFIG_SRC_FLAG, &err),
	    ELAVA_E_INVAL);
	assert_string_equal(
	    err.msg,
	    "unknown key 'daemon.metric_port' (valid keys under 'daemon': "
	    "reconciliation_interval, metrics_port, listen, "
	    "graceful_shutdown_timeout, reconciliation_timeout, "
	    "unhealthy_after, api_token_file)");
	assert_int_equal(config_set(&c, "port", "1", CONFIG_SRC_FLAG, &err),
			 ELAVA_E_INVAL);
	assert_string_equal(err.msg, "unknown key 'port' (valid sections: "
				     "daemon, cloud, storage, logging, scan)");

	/* Lists: comma-separated, replacing; "" empties. */
	assert_int_equal(
	    config_set(&c, "scan.types", "a, b", CONFIG_SRC_FLAG, &err), 0);
	assert_int_equal(c.types.n, 2);
	assert_string_equal(c.types.v[1].value, "b");
	assert_int_equal(
	    config_set(&c, "scan.types", "", CONFIG_SRC_FLAG, &err), 0);
	assert_int_equal(c.types.n, 0);
	/* scan.ignore: TYPE=PATH, grouped by type in first-seen order. */
	assert_int_equal(config_set(&c, "scan.ignore",
				    "ec2_instance=tags.a, *=b,ec2_instance = "
				    "c.d",
				    CONFIG_SRC_FLAG, &err),
			 0);
	assert_int_equal(c.ignore.n, 3);
	assert_string_equal(c.ignore.v[0].type, "ec2_instance");
	assert_string_equal(c.ignore.v[0].value, "tags.a");
	assert_string_equal(c.ignore.v[1].type, "ec2_instance");
	assert_string_equal(c.ignore.v[1].value, "c.d");
	assert_string_equal(c.ignore.v[2].type, "*");
	assert_int_equal(
	    config_set(&c, "scan.ignore", "nopath", CONFIG_SRC_FLAG, &err),
	    ELAVA_E_INVAL);
	assert_string_equal(err.msg,
			    "scan.ignore: 'nopath': an item is not TYPE=PATH");
	assert_int_equal(
	    config_set(&c, "scan.ignore", "=x", CONFIG_SRC_FLAG, &err),
	    ELAVA_E_INVAL);
	assert_string_equal(err.msg, "scan.ignore: the value is empty");
	assert_int_equal(c.ignore.n, 3);

	assert_int_equal(config_set(&c, "cloud.requests_per_second", "2.5e1",
				    CONFIG_SRC_FLAG, &err),
			 0);
	assert_true(c.requests_per_second == 25.0);
	assert_int_equal(config_set(&c, "daemon.api_token_file", "/run/tok",
				    CONFIG_SRC_FLAG, &err),
			 0);
	assert_string_equal(c.api_token_file, "/run/tok");
	clear_env(NULL);
	config_release(&c);
}

/* The dump's comments, and the dump loading back to the same values. */
static void test_dump(void **state)
{
	struct config c, back;
	struct elava_error err = {0};
	struct buf out = BUF_INIT;
	char *path = data_path("full.yaml");
	char line[512];
	(void)state;

	config_init(&c);
	assert_int_equal(config_load_file(&c, path, &err), 0);
	setenv("ELAVA_CLOUD_CONCURRENCY", "4", 1);
	assert_int_equal(config_load_env(&c, &err), 0);
	assert_int_equal(config_set(&c, "cloud.profile",
				    "we\"ird \\ 'name'\t\xe2\x80\xa8\xc2\x85",
				    CONFIG_SRC_FLAG, &err),
			 0);
	assert_int_equal(
	    config_set(&c, "storage.path", "null", CONFIG_SRC_FLAG, &err), 0);
	assert_int_equal(config_dump(&c, &out), 0);

	snprintf(line, sizeof(line),
		 "  reconciliation_interval: 1h30m  # %s:3\n", path);
	assert_non_null(strstr(out.data, line));
	assert_non_null(strstr(out.data, "  concurrency: 4  # env "
					 "ELAVA_CLOUD_CONCURRENCY\n"));
	assert_non_null(strstr(out.data,
			       "  profile: \"we\\\"ird \\\\ 'name'\\x09\\u2028"
			       "\\x85\"  # flag\n"));
	assert_non_null(strstr(out.data, "  path: \"null\"  # flag\n"));
	assert_non_null(strstr(out.data, "  requests_per_second: 12.5  # "));
	snprintf(line, sizeof(line),
		 "    ec2_instance: [state.launch_time, "
		 "network_interfaces.attachment.attach_time]  # %s:35\n",
		 path);
	assert_non_null(strstr(out.data, line));
	snprintf(line, sizeof(line),
		 "  region: [us-east-1, eu-west-1]  # %s:13\n", path);
	assert_non_null(strstr(out.data, line));

	config_init(&back);
	assert_int_equal(
	    config__load_buffer(&back, out.data, out.len, "dump.yaml", &err),
	    0);
	assert_true(config__equal(&c, &back));
	assert_string_equal(back.profile, c.profile);
	config_release(&back);

	/* The defaults dump and load back too, through a real file. */
	config_release(&c);
	config_init(&c);
	buf_reset(&out);
	assert_int_equal(config_dump(&c, &out), 0);
	assert_non_null(strstr(out.data, "  reconciliation_interval: 5m  # "
					 "default\n"));
	assert_non_null(
	    strstr(out.data, "  api_token_file: null  # default\n"));
	assert_non_null(strstr(out.data, "  reconciliation_timeout: 0s  # "
					 "default\n"));
	assert_non_null(strstr(out.data, "  ignore: {}  # default\n"));
	assert_non_null(strstr(out.data, "  region: []  # default\n"));
	char *tmp = temp_file(out.data, out.len);
	config_init(&back);
	assert_int_equal(config_load_file(&back, tmp, &err), 0);
	assert_true(config__equal(&c, &back));
	for (size_t i = 0; i < config__nkeys; i++)
		assert_int_equal(config_source_of(&back, config__keys[i].path),
				 CONFIG_SRC_FILE);
	unlink(tmp);
	xfree(tmp);
	config_release(&back);
	config_release(&c);
	buf_release(&out);
	clear_env(NULL);
	xfree(path);
}

/* A key over YAML's 1024-character limit on implicit keys still loads. */
static void test_dump_long_key(void **state)
{
	struct config c, back;
	struct elava_error err = {0};
	struct buf text = BUF_INIT, out = BUF_INIT;
	(void)state;

	for (int i = 0; i < 1500; i++)
		buf_putc(&text, (char)('a' + i % 26));
	buf_puts(&text, " x=tags.a,short=b");
	config_init(&c);
	assert_int_equal(
	    config_set(&c, "scan.ignore", text.data, CONFIG_SRC_FLAG, &err), 0);
	assert_int_equal(config_dump(&c, &out), 0);
	assert_non_null(strstr(out.data, "    ? \"abcd"));
	config_init(&back);
	assert_int_equal(
	    config__load_buffer(&back, out.data, out.len, "dump.yaml", &err),
	    0);
	assert_true(config__equal(&c, &back));
	assert_int_equal(back.ignore.n, 2);
	config_release(&back);
	config_release(&c);
	buf_release(&out);
	buf_release(&text);
}

static void test_duration_dump(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"90m", "1h30m"},	   {"30s", "30s"}, {"1d2h", "1d2h"},
	    {"1500ms", "1s500ms"}, {"2w", "14d"},  {"0", "0s"},
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct config c;
		struct elava_error err = {0};
		struct buf out = BUF_INIT;
		char want[64];

		config_init(&c);
		assert_int_equal(config_set(&c, "daemon.unhealthy_after",
					    cases[i].in, CONFIG_SRC_FLAG, &err),
				 0);
		assert_int_equal(config_dump(&c, &out), 0);
		snprintf(want, sizeof(want), "  unhealthy_after: %s  # flag\n",
			 cases[i].out);
		assert_non_null(strstr(out.data, want));
		buf_release(&out);
		config_release(&c);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_full_file),
	    cmocka_unit_test(test_file_forms),
	    cmocka_unit_test(test_file_errors),
	    cmocka_unit_test(test_unchanged_on_error),
	    cmocka_unit_test(test_missing_and_unreadable),
	    cmocka_unit_test(test_file_cap),
	    cmocka_unit_test(test_list_and_string_caps),
	    cmocka_unit_test(test_env),
	    cmocka_unit_test(test_set),
	    cmocka_unit_test(test_dump),
	    cmocka_unit_test(test_dump_long_key),
	    cmocka_unit_test(test_duration_dump),
	};

	if (argc > 1)
		data_dir = argv[1];
	return cmocka_run_group_tests(tests, clear_env, NULL);
}
