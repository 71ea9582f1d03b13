/* SPDX-License-Identifier: ISC */
/*
 * t-rl: test driver for the shared rate limit (common/ratelimit.c).
 *
 *   t-rl [-w secs] [-h ms] N	N acquire/release cycles; prints
 *				"A <ns>" after each acquire and "R <ns>"
 *				before each release (CLOCK_MONOTONIC), holding
 *				the slot -h milliseconds in between
 *   t-rl -H			acquire once, print "held", hold forever
 *   t-rl -b N			N cycles timed one by one; prints the
 *				median and 90th percentile in microseconds
 *   t-rl -c			print "<boot id> <now ns>" and exit
 *   t-rl -g PATH N		N GET requests through http_json (which
 *				takes the rate limit itself); the server's
 *				log measures them; exit 1 unless all got 2xx.
 *				A GET /server/version comes first, so the
 *				connection is set up before the N requests
 *
 * -w gives up after secs seconds with exit status 4 ("timed out").
 * Settings come from the environment, as for the real tools; rl_init is
 * given the API base URL (IMMICH_INSTANCE_URL, IMMICH_API_KEY needed only
 * when IMMICH_RATE_FILE is unset).
 */
#include <err.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/env.h"
#include "common/http.h"
#include "common/ratelimit.h"
#include "common/util.h"

static long long
ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
timeout(int sig)
{
	static const char msg[] = "t-rl: timed out\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(4);
}

static int
cmpll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static void
init(void)
{
	const char *rf = getenv("IMMICH_RATE_FILE");

	rl_init(rf && *rf ? "t-rl" : env_get()->api);
}

static void
usage(void)
{
	fprintf(stderr, "usage: t-rl [-bcH] [-g path] [-h ms] [-w secs] "
	    "[N]\n");
	exit(EX_USAGE);
}

int
main(int argc, char *argv[])
{
	long long n = 1, hold = 0, *d;
	int bflag = 0, Hflag = 0, c;
	char boot[64] = "-";
	const char *get = NULL;
	struct http_resp r;
	FILE *fp;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt(argc, argv, "bcg:Hh:w:")) != -1)
		switch (c) {
		case 'b':
			bflag = 1;
			break;
		case 'c':
			if ((fp = fopen("/proc/sys/kernel/random/boot_id",
			    "r")) != NULL) {
				if (fgets(boot, sizeof(boot), fp) != NULL)
					boot[strcspn(boot, "\n")] = '\0';
				fclose(fp);
			}
			printf("%s %lld\n", boot, ns());
			return 0;
		case 'g':
			get = optarg;
			break;
		case 'H':
			Hflag = 1;
			break;
		case 'h':
			if ((hold = parse_num(optarg)) < 0)
				usage();
			break;
		case 'w':
			signal(SIGALRM, timeout);
			alarm((unsigned)atoi(optarg));
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage();
	if (argc == 1 && (n = parse_num(argv[0])) < 1)
		usage();
	if (get != NULL) {
		http_init();
		for (long long i = -1; i < n; i++) {
			const char *p = i < 0 ? "/server/version" : get;

			if (http_json("GET", p, NULL, &r) == -1 ||
			    r.status / 100 != 2)
				errx(1, "GET %s: %ld %s", p, r.status, r.msg);
			http_free(&r);
		}
		return 0;
	}
	init();

	if (Hflag) {
		rl_acquire();
		printf("held\n");
		for (;;)
			pause();
	}
	if (bflag) {
		d = xcalloc(n, sizeof(*d));
		for (long long i = 0; i < n; i++) {
			long long t0 = ns();
			rl_acquire();
			rl_release();
			d[i] = ns() - t0;
		}
		qsort(d, n, sizeof(*d), cmpll);
		printf("%.2f %.2f\n", d[n / 2] / 1e3, d[n * 9 / 10] / 1e3);
		free(d);
		return 0;
	}
	for (long long i = 0; i < n; i++) {
		rl_acquire();
		printf("A %lld\n", ns());
		if (hold > 0) {
			struct timespec ts = { hold / 1000,
			    (hold % 1000) * 1000000 };
			nanosleep(&ts, NULL);
		}
		printf("R %lld\n", ns());
		rl_release();
	}
	return 0;
}
