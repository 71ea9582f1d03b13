/* SPDX-License-Identifier: ISC */
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/util.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)		/* overlong */
			return 0;
		if (c == 0xed && s[1] >= 0xa0)		/* surrogate */
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)		/* overlong */
			return 0;
		if (c == 0xf4 && s[1] >= 0x90)		/* > U+10FFFF */
			return 0;
		return 4;
	}
	return 0;
}

char *
fs_safename(const char *in)
{
	const unsigned char *s;
	const char *slash, *dot;
	char *out, *o;
	size_t n, len, ext, stem;

	if (in == NULL)
		return xstrdup("unnamed");
	if ((slash = strrchr(in, '/')) != NULL)
		in = slash + 1;
	out = o = xmalloc(strlen(in) + 1);
	for (s = (const unsigned char *)in; *s; s += n) {
		n = utf8_len(s);
		if (n == 0) {
			*o++ = '_';
			n = 1;
		} else if (n == 1 && (*s < 0x20 || *s == 0x7f))
			*o++ = '_';
		else if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)	/* C1 */
			*o++ = '_';
		else if (n == 1 && o == out && *s == '.')
			;	/* no leading dots */
		else {
			memcpy(o, s, n);
			o += n;
		}
	}
	*o = '\0';
	len = o - out;
	if (len > FS_NAMEMAX) {
		ext = 0;
		if ((dot = strrchr(out, '.')) != NULL && dot != out &&
		    strlen(dot) <= 16)
			ext = strlen(dot);
		stem = FS_NAMEMAX - ext;
		/* Cut on a character boundary. */
		while (stem > 0 && ((unsigned char)out[stem] & 0xc0) == 0x80)
			stem--;
		memmove(out + stem, out + len - ext, ext + 1);
		len = stem + ext;
	}
	if (len == 0) {
		free(out);
		return xstrdup("unnamed");
	}
	return out;
}

int
fs_mkdirs(const char *path)
{
	char *p, *s;
	struct stat st;
	int rv = -1;

	p = xstrdup(path);
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			goto fail;
		*s = c;
		if (c == '\0')
			break;
	}
	if (stat(path, &st) == -1)
		goto fail;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto fail;
	}
	rv = 0;
fail:
	free(p);
	return rv;
}

int
fs_owndir(int dfd, const char *name, int flags, struct stat *st)
{
	int fd, rv;

	if (mkdirat(dfd, name, 0700) == -1 && errno != EEXIST)
		return -1;
	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    (flags & FS_FOLLOW ? 0 : O_NOFOLLOW))) == -1)
		return -1;
	if (fstat(fd, st) == -1)
		rv = -1;
	else if (st->st_uid != geteuid())
		rv = FS_NOTOURS;
	else if ((flags & FS_PRIVATE) && (st->st_mode & (S_IWGRP | S_IWOTH)))
		rv = FS_SHARED;
	else
		return fd;
	close(fd);
	return rv;
}

int
fs_syncdir(int dirfd)
{
	if (fsync(dirfd) == -1 && errno != EINVAL && errno != EROFS)
		return -1;
	return 0;
}

long long
fs_avail(int fd)
{
	struct statvfs sv;

	if (fstatvfs(fd, &sv) == -1)
		return -1;
	return (long long)sv.f_bavail * (long long)sv.f_frsize;
}

int
fs_create_file(int dirfd, const char *name, const char *buf, size_t len)
{
	ssize_t n;
	int fd, e;

	if (unlinkat(dirfd, name, 0) == -1 && errno != ENOENT)
		return -1;
	fd = openat(dirfd, name,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			close(fd);
			unlinkat(dirfd, name, 0);
			errno = e;
			return -1;
		}
		buf += n;
		len -= n;
	}
	return fd;
}

int
fs_write_file(int dirfd, const char *name, const char *buf, size_t len)
{
	int fd, e;

	if ((fd = fs_create_file(dirfd, name, buf, len)) == -1)
		return -1;
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	e = errno;
	if (fd != -1)
		close(fd);
	unlinkat(dirfd, name, 0);
	errno = e;
	return -1;
}

int
fs_write_atomic(int dirfd, const char *name, int tmpdirfd,
    const char *tmpname, const char *buf, size_t len)
{
	int e;

	if (fs_write_file(tmpdirfd, tmpname, buf, len) == -1)
		return -1;
	if (renameat(tmpdirfd, tmpname, dirfd, name) == -1) {
		e = errno;
		unlinkat(tmpdirfd, tmpname, 0);
		errno = e;
		return -1;
	}
	return fs_syncdir(dirfd);
}

char *
fs_slurp(int dirfd, const char *name, size_t max, size_t *lenp)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, e;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((unsigned long long)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	buf = xmalloc(st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	close(fd);
	if (lenp)
		*lenp = len;
	return buf;
fail:
	e = errno;
	free(buf);
	close(fd);
	errno = e;
	return NULL;
}

long long
fs_parse_size(const char *s)
{
	static const char units[] = "KMGT";
	const char *u;
	char *end;
	long long v;
	int shift = 0;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno)
		return -1;
	if (*end != '\0') {
		if (end[0] == '\0' || (end[0] & ~0x20) == 0 ||
		    (u = strchr(units, end[0] & ~0x20)) == NULL)
			return -1;
		shift = 10 * (u - units + 1);
		end++;
		if ((*end & ~0x20) == 'I')
			end++;
		if ((*end & ~0x20) == 'B')
			end++;
		if (*end != '\0')
			return -1;
	}
	if (v > (LLONG_MAX >> shift))
		return -1;
	return v << shift;
}

/*
 * This boot's id ("" when it cannot be read): a stamp holds it, so a
 * stamp from before a reboot is never the file's stamp now.  A power
 * loss is a reboot, and the only crash that can leave a backup renamed
 * into place but not written to disk (immich-fetch defers durability to
 * a barrier, durable.h): its verification then proves nothing about
 * what is on disk, and the file is hashed again.
 */
static const char *
boot_id(void)
{
	static char id[64];
	static int done;
	size_t n;
	FILE *fp;

	if (done)
		return id;
	done = 1;
	if ((fp = fopen("/proc/sys/kernel/random/boot_id", "re")) == NULL)
		return id;
	if (fgets(id, sizeof(id), fp) == NULL)
		id[0] = '\0';
	fclose(fp);
	n = strspn(id, "0123456789abcdef-");
	id[n] = '\0';
	return id;
}

void
fs_stamp(const struct stat *st, char *buf)
{
	snprintf(buf, FS_STAMPLEN, "%llu:%llu:%lld.%09ld:%lld.%09ld:%s",
	    (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
	    (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
	    (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec, boot_id());
}

int
fs_stamp_coarse(const struct stat *st)
{
	return st->st_ctim.tv_nsec == 0;
}

int
fs_stamp_trusted(int fd, const struct stat *before, const struct timespec *seen,
    char *buf)
{
	static const unsigned long keeps[] = {
		0xEF53,		/* ext2, ext3, ext4 */
		0x58465342,	/* XFS */
		0x9123683E,	/* Btrfs */
		0x2FC12FC1,	/* ZFS */
		0xF2F52010,	/* F2FS */
		0x01021994,	/* tmpfs */
	};
	char was[FS_STAMPLEN], now[FS_STAMPLEN];
	struct statfs sf;
	struct stat st;
	long long age_ms;
	size_t i;

	if (fstat(fd, &st) == -1 || fstatfs(fd, &sf) == -1)
		return -1;
	for (i = 0; i < sizeof(keeps) / sizeof(keeps[0]); i++)
		if ((unsigned long)sf.f_type == keeps[i])
			break;
	if (i == sizeof(keeps) / sizeof(keeps[0]) ||
	    fs_stamp_coarse(before) || fs_stamp_coarse(&st) ||
	    *boot_id() == '\0')
		return -1;
	age_ms = (long long)(seen->tv_sec - before->st_ctim.tv_sec) * 1000 +
	    (seen->tv_nsec - before->st_ctim.tv_nsec) / 1000000;
	if (age_ms < FS_STAMP_SETTLE_MS)
		return -1;
	fs_stamp(before, was);
	fs_stamp(&st, now);
	if (strcmp(was, now) != 0)
		return -1;
	memcpy(buf, was, sizeof(was));
	return 0;
}
