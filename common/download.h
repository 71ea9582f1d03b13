/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_DOWNLOAD_H
#define IMMICH_DOWNLOAD_H

#include "common/sha1.h"

/*
 * Streaming an asset's original into the backup folder's DIR/.tmp/ID.part
 * (commit.h): O_EXCL, O_NOFOLLOW, 0600, locked with flock while it is
 * written; a partial one of ours is resumed with Range, one not ours
 * alone (another owner, more than one link, a wider mode) is removed
 * first.  A second thread writes while this one hashes what it has
 * written (sha1_pipe); the free space is checked before and against the reply's length
 * (the reserve kept free).  Each reply counts for api_unreachable (api.h).
 * A disk error stops the process (EX_FATAL).
 */

struct dl_result {
	char	 sha[SHA1_B64LEN];	/* SHA-1 of the .part's bytes */
	long long bytes;		/* its length */
	int	 fd;			/* the .part, open and locked */
	int	 resumed;		/* a partial one was resumed */
};

/*
 * Download asset id (size bytes, -1 if unknown) keeping reserve bytes
 * free: 0 with *res; -1 with *msg (caller frees; the part is kept for a
 * resume when the transfer was cut), res->resumed still said.
 */
int	 dl_original(const char *id, long long size, long long reserve,
	    struct dl_result *res, char **msg);

#endif
