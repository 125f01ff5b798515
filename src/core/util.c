/*
 * Small shared helpers: big-endian integers for store keys, duration
 * parsing, and durable file operations (atomic replace, directory fsync).
 */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint64_t be64_get(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t be32_get(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

int duration_parse(const char *s, int64_t *ns_out)
{
	static const struct {
		const char *suffix;
		int64_t ns;
	} units[] = {
	    {"ms", 1000000LL},	     {"s", 1000000000LL},
	    {"m", 60000000000LL},    {"h", 3600000000000LL},
	    {"d", 86400000000000LL}, {"w", 604800000000000LL},
	};
	int64_t total = 0;
	const char *p = s;

	if (!*p)
		return ELAVA_E_PARSE;
	while (*p) {
		int64_t v = 0;
		size_t best = 0;
		int found = -1;

		if (*p < '0' || *p > '9')
			return ELAVA_E_PARSE;
		while (*p >= '0' && *p <= '9') {
			if (v > (INT64_MAX - 9) / 10)
				return ELAVA_E_PARSE;
			v = v * 10 + (*p++ - '0');
		}
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			size_t n = strlen(units[i].suffix);
			if (!strncmp(p, units[i].suffix, n) && n > best) {
				best = n;
				found = (int)i;
			}
		}
		if (found < 0)
			return ELAVA_E_PARSE;
		p += best;
		if (v > INT64_MAX / units[found].ns ||
		    total > INT64_MAX - v * units[found].ns)
			return ELAVA_E_PARSE;
		total += v * units[found].ns;
	}
	*ns_out = total;
	return 0;
}

int dir_fsync(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return elava_errno_code(errno);
	if (fsync(fd) < 0)
		rc = elava_errno_code(errno);
	close(fd);
	return rc;
}

int dir_ensure(const char *path, int mode, struct elava_error *err)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);
	struct stat st;

	if (len == 0 || len >= sizeof(tmp))
		return elava_error_set(err, ELAVA_E_INVAL,
				       "invalid directory path '%s'", path);
	memcpy(tmp, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		char saved = tmp[i];
		tmp[i] = '\0';
		if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
			return elava_error_set(
			    err, elava_errno_code(errno),
			    "cannot create directory '%s': %s", tmp,
			    strerror(errno));
		tmp[i] = saved;
	}
	if (stat(path, &st) < 0)
		return elava_error_set(err, elava_errno_code(errno),
				       "cannot stat '%s': %s", path,
				       strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return elava_error_set(err, ELAVA_E_INVAL,
				       "'%s' is not a directory", path);
	return 0;
}

int file_write_atomic(const char *path, const void *data, size_t n, int mode,
		      struct elava_error *err)
{
	char tmp[PATH_MAX];
	char dir[PATH_MAX];
	const char *slash;
	size_t off = 0;
	int fd = -1;
	int rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp))
		return elava_error_set(err, ELAVA_E_INVAL, "path too long '%s'",
				       path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0) {
		rc = elava_error_set(err, elava_errno_code(errno),
				     "cannot create '%s': %s", tmp,
				     strerror(errno));
		goto out;
	}
	while (off < n) {
		ssize_t w = write(fd, (const char *)data + off, n - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = elava_error_set(err, elava_errno_code(errno),
					     "cannot write '%s': %s", tmp,
					     strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0) {
		rc = elava_error_set(err, elava_errno_code(errno),
				     "cannot fsync '%s': %s", tmp,
				     strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = elava_error_set(err, elava_errno_code(errno),
				     "cannot rename '%s' to '%s': %s", tmp,
				     path, strerror(errno));
		goto out;
	}
	slash = strrchr(path, '/');
	if (slash) {
		size_t dl = slash == path ? 1 : (size_t)(slash - path);
		memcpy(dir, path, dl);
		dir[dl] = '\0';
	} else {
		strcpy(dir, ".");
	}
	dir_fsync(dir);
out:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	return rc;
}

void duration_format(int64_t ns, char *out, size_t outlen)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = {
	    {"d", 86400000000000LL}, {"h", 3600000000000LL},
	    {"m", 60000000000LL},    {"s", 1000000000LL},
	    {"ms", 1000000LL},
	};
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(units) && n < outlen; i++) {
		int64_t q = ns / units[i].ns;
		if (!q)
			continue;
		n += (size_t)snprintf(out + n, outlen - n, "%lld%s",
				      (long long)q, units[i].unit);
		ns -= q * units[i].ns;
	}
	if (!n)
		snprintf(out, outlen, "0s");
}
