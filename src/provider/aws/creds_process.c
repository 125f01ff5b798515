/*
 * credential_process: run the profile's command with /bin/sh -c and read
 * the credentials it prints as JSON (Version 1). The child gets /dev/null
 * for stdin and stderr (its diagnostics may carry secrets and must not land
 * in our logs), its own process group so a timeout kills the whole
 * pipeline, and a capped stdout. The command line is never quoted in a
 * message: it may hold a password.
 */
#include "aws_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROCESS_MAX_OUTPUT ((size_t)64 << 10)

extern char **environ;

static int spawn(const char *command, int out_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char *argv[] = {(char *)"sh", (char *)"-c", (char *)command, NULL};
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	rc = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return rc;
}

int aws_creds_from_process(const char *command, const char *profile,
			   long timeout_ms, const atomic_bool *cancel,
			   struct aws_creds *c, struct elava_error *err)
{
	int fds[2] = {-1, -1};
	pid_t pid = -1;
	struct buf out;
	char what[160];
	int64_t deadline;
	int status = 0, rc = 0, e;
	bool killed = false;

	memset(c, 0, sizeof(*c));
	buf_init(&out, PROCESS_MAX_OUTPUT);
	snprintf(what, sizeof(what), "credential_process of profile '%s'",
		 profile);
	if (timeout_ms <= 0)
		timeout_ms = 60000;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		e = errno;
		rc = elava_error_set(err, ELAVA_E_IO, "%s: pipe: %s", what,
				     strerror(e));
		goto out;
	}
	e = spawn(command, fds[1], &pid);
	close(fds[1]);
	fds[1] = -1;
	if (e) {
		pid = -1;
		rc = elava_error_set(err, ELAVA_E_IO, "%s: cannot run: %s",
				     what, strerror(e));
		goto out;
	}
	deadline = time_mono_ns() + (int64_t)timeout_ms * 1000000;
	for (;;) {
		struct pollfd pfd = {fds[0], POLLIN, 0};
		int64_t left = (deadline - time_mono_ns()) / 1000000;
		char chunk[4096];
		ssize_t n;

		if (cancel && atomic_load(cancel)) {
			rc = elava_error_set(err, ELAVA_E_CANCELLED,
					     "%s: cancelled", what);
			goto kill;
		}
		if (left <= 0) {
			rc = elava_error_set(err, ELAVA_E_TIMEOUT,
					     "%s: no answer within %ld ms",
					     what, timeout_ms);
			goto kill;
		}
		if (poll(&pfd, 1, left < 100 ? (int)left : 100) < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			rc = elava_error_set(err, ELAVA_E_IO, "%s: poll: %s",
					     what, strerror(e));
			goto kill;
		}
		if (!pfd.revents)
			continue;
		n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			rc = elava_error_set(err, ELAVA_E_IO, "%s: read: %s",
					     what, strerror(e));
			goto kill;
		}
		if (n == 0)
			break;
		if (buf_append(&out, chunk, (size_t)n)) {
			memset(chunk, 0, sizeof(chunk));
			rc = elava_error_set(err, ELAVA_E_TOOBIG,
					     "%s: output larger than %zu bytes",
					     what, PROCESS_MAX_OUTPUT);
			goto kill;
		}
		memset(chunk, 0, sizeof(chunk));
	}
	/* stdout closed; the exit should follow (bounded by the deadline) */
	while (waitpid(pid, &status, WNOHANG) == 0) {
		struct timespec ts = {0, 10 * 1000000L};
		if (time_mono_ns() >= deadline ||
		    (cancel && atomic_load(cancel))) {
			rc = elava_error_set(err, ELAVA_E_TIMEOUT,
					     "%s: did not exit within %ld ms",
					     what, timeout_ms);
			goto kill;
		}
		nanosleep(&ts, NULL);
	}
	pid = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status))
			rc = elava_error_set(err, ELAVA_E_REMOTE,
					     "%s: exited with status %d", what,
					     WEXITSTATUS(status));
		else
			rc = elava_error_set(err, ELAVA_E_REMOTE,
					     "%s: killed by signal %d", what,
					     WTERMSIG(status));
		goto out;
	}
	rc = aws_creds_from_json(out.data ? out.data : "", out.len,
				 "SessionToken", what, c, err);
	if (!rc) {
		struct ejson *v = NULL;
		/* the parse above succeeded, so this one does too */
		ejson_parse(out.data, out.len, &v, NULL);
		struct ejson *ver = ejson_object_get(v, "Version");
		if (!ver || ejson_typeof(ver) != EJSON_INT ||
		    ejson_int_value(ver) != 1) {
			aws_creds_clear(c);
			rc = elava_error_set(err, ELAVA_E_PARSE,
					     "%s: output has no \"Version\": 1",
					     what);
		}
		ejson_free(&v);
	}
	if (!rc)
		c->source = "process";
	goto out;
kill:
	killed = true;
out:
	if (killed && pid > 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	if (fds[0] >= 0)
		close(fds[0]);
	if (out.data)
		memset(out.data, 0, out.len);
	buf_release(&out);
	return rc;
}
