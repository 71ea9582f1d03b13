/* SPDX-License-Identifier: ISC */
/*
 * t-stamp: a test driver for fs_stamp_trusted (common/fsutil.c), not
 * installed.  t-stamp [-w] FILE AGE_MS: stats FILE, then (with -w)
 * appends a byte to it, as a write while it is being hashed, and prints
 * the stamp fs_stamp_trusted gives when FILE was seen AGE_MS after its
 * change time, or "untrusted".
 */
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/util.h"

int
main(int argc, char *argv[])
{
	char buf[FS_STAMPLEN];
	struct timespec seen;
	struct stat st;
	long long age;
	int fd, wflag = 0;

	if (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'w') {
		wflag = 1;
		argv++;
		argc--;
	}
	if (argc != 3)
		errx(EX_USAGE, "usage: t-stamp [-w] file age_ms");
	if ((fd = open(argv[1], O_RDWR | O_APPEND)) == -1 ||
	    fstat(fd, &st) == -1)
		err(EX_FATAL, "%s", argv[1]);
	age = atoll(argv[2]);
	seen = st.st_ctim;
	seen.tv_sec += age / 1000;
	seen.tv_nsec += age % 1000 * 1000000;
	if (seen.tv_nsec >= 1000000000) {
		seen.tv_sec++;
		seen.tv_nsec -= 1000000000;
	}
	if (wflag) {
		usleep(20000);	/* past the clock tick of the last change */
		if (write(fd, "x", 1) != 1)
			err(EX_FATAL, "%s", argv[1]);
	}
	puts(fs_stamp_trusted(fd, &st, &seen, buf) == 0 ? buf : "untrusted");
	return 0;
}
