/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_DURABLE_H
#define IMMICH_DURABLE_H

#include <cjson/cJSON.h>

/*
 * Deferred durability of the backups (DESIGN §4.1), as git's
 * core.fsyncMethod=batch: immich-fetch writes and renames its files
 * without flushing each one, and a barrier settles durability once, at
 * the end of immich-fetch (durable_fs) and in immich-trash just before
 * the first DELETE of a batch, for every backup the batch relies on
 * (durable_sync).  A barrier that fails stops the process (EX_FATAL):
 * nothing is deleted on a backup that may not be on disk.
 *
 * What a crash between a rename and the barrier leaves: kill -9 loses
 * nothing (the bytes are in the page cache, the next barrier writes
 * them); a power loss may leave a renamed file short, empty or with
 * other bytes, and its sidecar too.  No such file is ever trusted: the
 * next immich-fetch hashes a file its sidecar names before skipping it
 * (sidecar_intact), resumes a .part only when the whole file then has
 * the server's checksum, immich-verify hashes what is on disk, and
 * immich-trash trusts a verification's stamp only within the boot it
 * was taken in (fs_stamp holds the boot id: a power loss is a reboot),
 * else it hashes the file again.
 *
 * Test hook (tests/0605-precond.t): when IMMICH_TEST_BARRIER_LOG names a
 * file, each barrier that succeeded appends a line
 * {"barrier":"fetch"|"trash","files":N} to it (O_APPEND), so a test can
 * put it in the fake server's request log and check its order against
 * the DELETE.
 */

/* syncfs(2) of fd's file system (fd opened before the files were
 * written, so that their write-back errors are reported): 0, or -1 with
 * errno set. */
int	 durable_fs(int fd, const char *who);

struct durable;
struct durable *durable_new(void);
/* The backup file and sidecar of asset id in rec's "backup", and those
 * of its live-photo video. */
void	 durable_add_backup(struct durable *, const cJSON *rec,
	    const char *id);
/*
 * The barrier: syncfs(2) once per file system holding the files added,
 * then fsync(2) of each file (cheap once clean; it reports a write-back
 * error of that file even when another process's syncfs saw it first)
 * and of each folder.  Exits EX_FATAL naming the file when any fails
 * ("nothing deleted in this batch": for immich-trash); frees d.  who
 * names the barrier for the test hook.
 */
void	 durable_sync(struct durable *, const char *who);

#endif
