/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_FSUTIL_H
#define IMMICH_FSUTIL_H

#include <stddef.h>

/*
 * Files on disk for the backup stages: safe names, directories made
 * 0700, files written 0600 to a temporary name and renamed into place
 * with fsync, free space.
 */

#define FS_NAMEMAX	200	/* bytes kept of an original file name */

/*
 * A file name that is safe as one path component: the part after the
 * last '/', control bytes (C0, DEL, C1) and invalid UTF-8 replaced by
 * '_', leading dots removed, at most FS_NAMEMAX bytes (cut on a
 * character boundary, keeping an extension of up to 16 bytes), and
 * "unnamed" when nothing is left.  NULL gives "unnamed".  Caller frees.
 */
char	*fs_safename(const char *);

/*
 * A file's stamp: device, inode, the modification and change times to
 * the nanosecond, and the boot id, as one string
 * ("DEV:INO:MSEC.NSEC:CSEC.NSEC:BOOT"), into buf (at least FS_STAMPLEN
 * bytes).  On the file systems of fs_stamp_trusted, rewriting or
 * replacing the file changes it: a program can set the modification time
 * back, not the change time; and a reboot changes it (after a power loss
 * a file may hold other bytes with the same times: durable.h).
 */
#define FS_STAMPLEN	160
struct stat;
struct timespec;
void	 fs_stamp(const struct stat *, char *buf);
/*
 * The stamp of fd, open and just hashed, when it proves the bytes hashed
 * are the file's: before is its stat taken before reading it, at seen
 * (CLOCK_REALTIME).  Returns 0 with the stamp in buf; -1 (nothing
 * written) when the stamp changed while it was read, when its change
 * time is less than FS_STAMP_SETTLE_MS before seen (a write in the same
 * clock tick could leave it as it is), when the change time is coarse
 * (fs_stamp_coarse), when the boot id cannot be read, or when fd's file
 * system is not one known to keep change times (ext2/3/4, XFS, Btrfs, ZFS, F2FS, tmpfs; not FAT, exFAT,
 * network file systems).
 */
#define FS_STAMP_SETTLE_MS	100
int	 fs_stamp_trusted(int fd, const struct stat *before,
	    const struct timespec *seen, char *buf);
/*
 * 1 when st's change time has no fraction of a second: the file system
 * keeps whole seconds (ext4 with 128-byte inodes, ext3, ext2), so a
 * second write in the same second as the first leaves the stamp as it
 * was.  Such a stamp proves nothing: never trust it.  (A real
 * nanosecond time that is exactly .000000000 is only hashed again.)
 */
int	 fs_stamp_coarse(const struct stat *);

/* mkdir -p with mode 0700 for the directories it makes.  0 or -1. */
int	 fs_mkdirs(const char *path);

/*
 * A folder of ours: name under dfd (AT_FDCWD for a path), made 0700 if
 * missing, opened as a directory (a link at name is followed only with
 * FS_FOLLOW), and checked on the open descriptor, so the folder checked
 * is the one used.  Returns the descriptor; -1 on a system error (errno
 * set); FS_NOTOURS when another uid owns it; FS_SHARED when FS_PRIVATE
 * was asked and group or others may write in it.  *st describes it
 * unless -1.
 */
#define FS_FOLLOW	1
#define FS_PRIVATE	2
#define FS_NOTOURS	(-2)
#define FS_SHARED	(-3)
struct stat;
int	 fs_owndir(int dfd, const char *name, int flags, struct stat *st);

/* fsync a directory fd (errors other than EINVAL are returned). */
int	 fs_syncdir(int dirfd);

/* Bytes available to an unprivileged user on fd's file system, or -1. */
long long fs_avail(int fd);

/*
 * Write buf to a new file dirfd/name (O_EXCL, O_NOFOLLOW, 0600, replacing
 * a stale one) without flushing it: the caller fsyncs and closes the fd
 * it returns.  -1 with errno set (file removed) on failure.
 */
int	 fs_create_file(int dirfd, const char *name, const char *buf,
	    size_t len);

/*
 * Write buf to a new file dirfd/name (O_EXCL, O_NOFOLLOW, 0600, replacing
 * a stale one) and fsync it.  0, or -1 with errno set (file removed).
 */
int	 fs_write_file(int dirfd, const char *name, const char *buf,
	    size_t len);

/*
 * Write buf to dirfd/name atomically: to tmpdirfd/tmpname (O_EXCL,
 * O_NOFOLLOW, 0600, replacing a stale one), fsync, rename into place,
 * fsync dirfd.  Returns 0, or -1 with errno set (the temporary file is
 * removed).
 */
int	 fs_write_atomic(int dirfd, const char *name, int tmpdirfd,
	    const char *tmpname, const char *buf, size_t len);

/*
 * Read a whole regular file (not following a symlink) of at most max
 * bytes; NUL-terminated.  NULL with errno set when it cannot.
 */
char	*fs_slurp(int dirfd, const char *name, size_t max, size_t *lenp);

/* "64M", "1G", "4096", "0": bytes, or -1 if not a size.  K, M, G, T are
 * powers of 1024; a trailing "B" or "iB" is allowed. */
long long fs_parse_size(const char *);

#endif
