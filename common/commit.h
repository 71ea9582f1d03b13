/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_COMMIT_H
#define IMMICH_COMMIT_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct ndjson_in;

/*
 * The backup folder DIR and the ordered commit of files into it
 * (immich-fetch's).  Files are written to DIR/.tmp (shared by every
 * process writing to DIR, never removed) and handed over; a second
 * thread, the committer, starts their write-back, renames the files
 * into DIR (an original before its sidecar: a sidecar means its file is
 * complete), and writes the records out in the order they were given,
 * each once every file it names is renamed.  Nothing is flushed file by
 * file: commit_end ends with one barrier (durable.h, syncfs), and
 * immich-trash runs its own before it deletes.  One folder and one
 * committer a process.  A disk error stops the process (EX_FATAL) with
 * the file it was about.
 */

/* Make DIR (mkdir -p, 0700) and open it; it (and DIR/.tmp if there)
 * must be the user's, else exit EX_USAGE. */
void	 commit_open(const char *dir);
const char *commit_path(void);		/* DIR, absolute */
int	 commit_dirfd(void);
/* DIR/.tmp, made and opened when first asked for. */
int	 commit_tmpfd(void);
/* DIR/.tmp again after it was removed under us (an older immich-fetch
 * removed it when it finished), once every commit so far is done. */
int	 commit_tmpfd_again(void);
/* Exit EX_FATAL for a failed write of DIR/name ("disk full" for ENOSPC
 * and EDQUOT). */
void	 commit_fatal(const char *name, int e) __attribute__((noreturn));

void	 commit_start(void);
/*
 * Commit asset id: fd (or -1 when the file in DIR is already right) is
 * DIR/.tmp/ID.part, to become DIR/name; its sidecar (len bytes) is
 * written here to DIR/.tmp/ID.json.part, to become DIR/ID.json.  Blocks
 * while 8 are in flight.  The record given next to commit_record waits
 * for it; if the original cannot be renamed, its backup entry is taken
 * out of that record with an error.
 */
void	 commit_file(const char *id, int fd, const char *name,
	    const char *sidecar, size_t len);
/* The record is done here (commit takes it): it goes out once the
 * commits since the last record are; failed as the stage says. */
void	 commit_record(cJSON *rec, const struct ndjson_in *, int failed);
/* Wait for any commit of asset id still under way (before the asset is
 * looked at again). */
void	 commit_settle(const char *id);
/* Write out every record, stop the committer, then the barrier: syncfs
 * of DIR's file system (exits EX_FATAL if it fails); the records that
 * failed only in their commit (a rename). */
long	 commit_end(void);

#endif
