/*
 * What /proc says of this process: private and mapped memory, threads,
 * open files, CPU time; and what the allocator holds. For /debug/vars,
 * the daemon_* memory gauges and the benchmark's figures.
 */
#include "daemon_int.h"

#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

/* "RssAnon:    12345 kB" → bytes. */
static bool status_kb(const char *line, const char *name, uint64_t *out)
{
	size_t n = strlen(name);
	unsigned long long kb;

	if (strncmp(line, name, n) || line[n] != ':')
		return false;
	if (sscanf(line + n + 1, "%llu", &kb) == 1)
		*out = (uint64_t)kb * 1024;
	return true;
}

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;
	struct dirent *e;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n ? n - 1 : 0; /* the directory's own descriptor */
}

int proc_stats_read(struct proc_stats *st)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	struct rusage ru;
	struct mallinfo2 mi = mallinfo2();

	memset(st, 0, sizeof(*st));
	if (!f)
		return ELAVA_E_IO;
	while (fgets(line, sizeof(line), f)) {
		uint64_t threads = 0;
		if (status_kb(line, "VmRSS", &st->rss_bytes) ||
		    status_kb(line, "RssAnon", &st->rss_anon_bytes) ||
		    status_kb(line, "RssFile", &st->rss_file_bytes))
			continue;
		if (!strncmp(line, "Threads:", 8) &&
		    sscanf(line + 8, "%llu", (unsigned long long *)&threads) ==
			1)
			st->threads = (unsigned)threads;
	}
	fclose(f);
	st->open_fds = count_fds();
	st->malloc_in_use = (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
	st->malloc_free = (uint64_t)mi.fordblks;
	if (!getrusage(RUSAGE_SELF, &ru))
		st->cpu_seconds = (double)ru.ru_utime.tv_sec +
				  (double)ru.ru_utime.tv_usec / 1e6 +
				  (double)ru.ru_stime.tv_sec +
				  (double)ru.ru_stime.tv_usec / 1e6;
	return 0;
}
