/*
 * The one error code space: messages for ELAVA_E_* codes, the optional
 * detail struct, and the single errno translation table.
 */
#include "core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *elava_strerror(int code)
{
	if (code == ELAVA_OK)
		return "success";
	switch ((enum elava_errno)code) {
#define ELAVA_ERRNO_CASE(name, val, msg)                                       \
	case ELAVA_E_##name: return msg;
		ELAVA_ERRNO_MAP(ELAVA_ERRNO_CASE)
#undef ELAVA_ERRNO_CASE
	case ELAVA_OK: break;
	}
	return "unknown error";
}

int elava_error_set(struct elava_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

int elava_error_prefix(struct elava_error *err, const char *fmt, ...)
{
	char prefix[256];
	char old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return ELAVA_E_INVAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is acceptable: the message is for humans. */
	size_t n = strlen(prefix);
	if (n > sizeof(err->msg) - 3)
		n = sizeof(err->msg) - 3;
	memcpy(err->msg, prefix, n);
	memcpy(err->msg + n, ": ", 2);
	size_t room = sizeof(err->msg) - n - 3;
	size_t ol = strnlen(old, room);
	memcpy(err->msg + n + 2, old, ol);
	err->msg[n + 2 + ol] = '\0';
	return err->code;
}

int elava_errno_code(int errnum)
{
	switch (errnum) {
	case ENOSPC:
	case EDQUOT:
	case EFBIG: return ELAVA_E_NOSPACE;
	case EACCES:
	case EPERM:
	case EROFS: return ELAVA_E_PERM;
	case ENOENT:
	case ENOTDIR: return ELAVA_E_NOTFOUND;
	case EEXIST: return ELAVA_E_EXISTS;
	case EINVAL: return ELAVA_E_INVAL;
	case EBUSY:
	case EAGAIN: return ELAVA_E_BUSY;
	case ETIMEDOUT: return ELAVA_E_TIMEOUT;
	default: return ELAVA_E_IO;
	}
}
