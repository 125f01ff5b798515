/*
 * sd_notify: tell systemd (Type=notify) when the daemon is ready, reloading
 * or stopping, what it is doing, and that it is alive (WatchdogSec=). Every
 * call is a no-op when NOTIFY_SOCKET is not set, so the daemon runs the
 * same anywhere else.
 */
#include "daemon_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

void notify_ready(void)
{
	sd_notify(0, "READY=1");
}

void notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void notify_reloading(void)
{
	/* MONOTONIC_USEC lets systemd 253+ (Type=notify-reload) match the
	 * READY=1 that follows; older ones ignore it. */
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%lld",
		   (long long)(time_mono_ns() / 1000));
}

void notify_status(const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", text);
}

int64_t notify_watchdog_ns(void)
{
	uint64_t usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? (int64_t)usec * 1000 : 0;
}

void notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}
