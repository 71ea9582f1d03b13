/* SPDX-License-Identifier: ISC */
/*
 * t-sha1: a test driver for the write-and-hash pipe (common/sha1.c), not
 * installed.  Feeds 3 MiB of known bytes through a sha1_pipe whose file
 * is a non-blocking pipe nobody reads (so a write fails, EAGAIN, once the
 * pipe is full), then reads back what reached the pipe and prints
 * "WRITTEN FED ERRNO-NAME same" when the pipe's SHA-1 is that of the bytes
 * written, or "... differs" when it is not (it hashed bytes it did not
 * write).
 *
 * t-sha1 FILE OFFSET: the same bytes and 1000 more (a tail that is not a
 * whole buffer) through a pipe into FILE, created with OFFSET bytes of
 * zeros before them (as a resumed .part).  Prints "MODE SIZE BYTES HASH
 * FLAG": MODE "direct" when the pipe made writes with O_DIRECT, else
 * "cached"; SIZE the file's size; BYTES "same" when what follows OFFSET
 * is what was fed; HASH "same" when the pipe's SHA-1 is theirs; FLAG
 * "restored" when the fd is back to its flags after the pipe.
 */
#include <sys/stat.h>

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

static void
fill(char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = (char)(i * 7 + i / 4096);
}

static int
to_file(const char *path, long off)
{
	char got[SHA1_B64LEN], want[SHA1_B64LEN], *buf, *back;
	size_t i, n = FEED + 1000;
	struct sha1 h, w;
	struct sha1_pipe *p;
	struct stat st;
	long ndirect;
	int fd, fl;

	buf = xmalloc(n);
	back = xcalloc(1, n + 1);
	fill(buf, n);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    ftruncate(fd, off) == -1 || lseek(fd, off, SEEK_SET) == -1)
		err(EX_FATAL, "%s", path);
	fl = fcntl(fd, F_GETFL);
	sha1_init(&h);
	p = sha1_pipe_new(&h, fd);
	for (i = 0; i < n; i += 100000)
		if (sha1_pipe_feed(p, buf + i, n - i < 100000 ? n - i :
		    100000) == -1)
			err(EX_FATAL, "feed");
	if (sha1_pipe_drain(p) == -1)
		err(EX_FATAL, "drain");
	ndirect = sha1_pipe_ndirect(p);
	sha1_pipe_free(p);
	sha1_final(&h, got);
	sha1_free(&h);
	sha1_init(&w);
	sha1_update(&w, buf, n);
	sha1_final(&w, want);
	sha1_free(&w);
	if (fstat(fd, &st) == -1 || pread(fd, back, n + 1, off) == -1)
		err(EX_FATAL, "%s", path);
	printf("%s %lld %s %s %s\n", ndirect > 0 ? "direct" : "cached",
	    (long long)st.st_size, memcmp(buf, back, n) == 0 ? "same" :
	    "differs", strcmp(got, want) == 0 ? "same" : "differs",
	    fcntl(fd, F_GETFL) == fl ? "restored" : "changed");
	close(fd);
	free(buf);
	free(back);
	return 0;
}

int
main(int argc, char *argv[])
{
	char got[SHA1_B64LEN], want[SHA1_B64LEN], *buf, rb[65536];
	struct sha1 h, w;
	struct sha1_pipe *p;
	long long written = 0;
	size_t i;
	ssize_t n;
	int fds[2], e = 0;

	if (argc == 3)
		return to_file(argv[1], atol(argv[2]));
	if (pipe2(fds, O_NONBLOCK) == -1)
		err(EX_FATAL, "pipe2");
	buf = xmalloc(FEED);
	fill(buf, FEED);
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
