/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/ndjson.h"
#include "common/progress.h"
#include "common/util.h"

struct progress prog;

static int quiet, live;
static double t0, last;

void
progress_init(int q)
{
	ndjson_init();	/* every binary calls this first */
	quiet = q;
	live = !q && isatty(STDERR_FILENO);
	t0 = last = now_mono();
}

static const char *
human(long long n, char *buf, size_t sz)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = n;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, sz, "%lld B", n);
	else
		snprintf(buf, sz, "%.1f %s", d, unit[u]);
	return buf;
}

void
progress_tick(void)
{
	char b1[32], b2[32], eta[32] = "";
	double t = now_mono(), el, rate;

	if (!live || t - last < 0.2)
		return;
	last = t;
	el = t - t0 > 0.001 ? t - t0 : 0.001;
	rate = prog.bytes / el;
	if (prog.total_bytes > prog.bytes && rate > 0) {
		long s = (prog.total_bytes - prog.bytes) / rate;
		snprintf(eta, sizeof(eta), ", ETA %ld:%02ld", s / 60, s % 60);
	} else if (prog.total_records > prog.records && prog.records > 0) {
		long s = (prog.total_records - prog.records) *
		    el / prog.records;
		snprintf(eta, sizeof(eta), ", ETA %ld:%02ld", s / 60, s % 60);
	}
	fprintf(stderr, "\r%s: %ld records, %ld assets, %ld failed, %s, "
	    "%s/s%s\033[K", program_invocation_short_name, prog.records,
	    prog.assets, prog.failed, human(prog.bytes, b1, sizeof(b1)),
	    human((long long)rate, b2, sizeof(b2)), eta);
}

void
progress_end(long requests, const char *extra)
{
	char b[32];
	int e = errno;

	if (quiet)
		return;
	if (live)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "%s: %ld record%s, %ld asset%s, %ld failed, %s, "
	    "%ld request%s, %.1f s%s%s\n", program_invocation_short_name,
	    prog.records, prog.records == 1 ? "" : "s",
	    prog.assets, prog.assets == 1 ? "" : "s", prog.failed,
	    human(prog.bytes, b, sizeof(b)), requests, requests == 1 ? "" : "s",
	    now_mono() - t0, extra ? ", " : "", extra ? extra : "");
	errno = e;
}
