/* SPDX-License-Identifier: ISC */
/*
 * t-oom: cJSON out of memory after the start-up every binary does
 * (progress_init), not installed.
 *
 *   t-oom huge		cJSON_malloc of SIZE_MAX/2 bytes (cJSON's own
 *			allocator, which every cJSON_Create and Add uses)
 *   t-oom key		a 64 MiB string value added to a record under an
 *			address-space limit that leaves no room for its copy
 *
 * Either prints what cJSON gave back and exits 0 (cJSON failed quietly:
 * the key is missing), or the allocator stops the program (EX_FATAL,
 * "out of memory").  "key" prints "skip" under AddressSanitizer, which
 * cannot run under an address-space limit.
 */
#include <sys/resource.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/progress.h"
#include "common/util.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif

static int
key(void)
{
	size_t big = 64u << 20;
	struct rlimit rl;
	unsigned long pages;
	char *s, *out;
	cJSON *o;
	FILE *fp;

#ifdef ASAN
	puts("skip");
	return 0;
#endif
	s = xmalloc(big + 1);
	memset(s, 'k', big);
	s[big] = '\0';
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", "x");
	if ((fp = fopen("/proc/self/statm", "r")) == NULL ||
	    fscanf(fp, "%lu", &pages) != 1)
		return 2;
	fclose(fp);
	rl.rlim_cur = rl.rlim_max = pages * (unsigned long)sysconf(_SC_PAGESIZE) +
	    (16u << 20);
	if (setrlimit(RLIMIT_AS, &rl) == -1)
		return 2;
	cJSON_AddStringToObject(o, "big", s);
	out = cJSON_PrintUnformatted(o);
	printf("keys:%s\n", out && strstr(out, "\"big\"") ? " id big" : " id");
	return 0;
}

int
main(int argc, char *argv[])
{
	void *p;

	progress_init(1);
	if (argc == 2 && strcmp(argv[1], "huge") == 0) {
		p = cJSON_malloc(SIZE_MAX / 2);
		printf("cJSON_malloc gave %s\n", p ? "memory" : "NULL");
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "key") == 0)
		return key();
	fprintf(stderr, "usage: t-oom huge | key\n");
	return 2;
}
