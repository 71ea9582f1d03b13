/* SPDX-License-Identifier: ISC */
/*
 * t-sha1: a test driver for the write-and-hash pipe (common/sha1.c), not
 * installed.  Feeds 3 MiB of known bytes through a sha1_pipe whose file
 * is a non-blocking pipe nobody reads (so a write fails, EAGAIN, once the
 * pipe is full), then reads back what reached the pipe and prints
 * "WRITTEN FED ERRNO-NAME same" when the pipe's SHA-1 is that of the bytes
 * written, or "... differs" when it is not (it hashed bytes it did not
 * write).
 */
#include <errno.h>
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/sha1.h"
#include "common/util.h"

#define FEED	(3 * 1024 * 1024)

int
main(void)
{
	char got[SHA1_B64LEN], want[SHA1_B64LEN], *buf, rb[65536];
	struct sha1 h, w;
	struct sha1_pipe *p;
	long long written = 0;
	size_t i;
	ssize_t n;
	int fds[2], e = 0;

	if (pipe2(fds, O_NONBLOCK) == -1)
		err(EX_FATAL, "pipe2");
	buf = xmalloc(FEED);
	for (i = 0; i < FEED; i++)
		buf[i] = (char)(i * 7 + i / 4096);
	sha1_init(&h);
	p = sha1_pipe_new(&h, fds[1]);
	for (i = 0; i < FEED; i += 100000)
		if (sha1_pipe_feed(p, buf + i, FEED - i < 100000 ?
		    FEED - i : 100000) == -1) {
			e = errno;
			break;
		}
	if (sha1_pipe_drain(p) == -1 && e == 0)
		e = errno;
	sha1_pipe_free(p);
	sha1_final(&h, got);
	sha1_free(&h);

	sha1_init(&w);
	while ((n = read(fds[0], rb, sizeof(rb))) > 0) {
		sha1_update(&w, rb, n);
		written += n;
	}
	sha1_final(&w, want);
	sha1_free(&w);
	close(fds[0]);
	close(fds[1]);
	free(buf);
	printf("%lld %d %s %s\n", written, FEED, e == EAGAIN ? "EAGAIN" :
	    e ? strerror(e) : "no-error", strcmp(got, want) == 0 ? "same" :
	    "differs");
	return 0;
}
