/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_SIDECAR_H
#define IMMICH_SIDECAR_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/sha1.h"

/*
 * The backup store's files, written and read here only.  A backup
 * folder DIR holds, for each asset, its original as DIR/ID-NAME and its
 * sidecar DIR/ID.json:
 *
 *	{ "asset": AssetResponseDto, "albums": [{id, albumName}],
 *	  "tags": ["a/b", ...], "file": "ID-NAME", "bytes": n,
 *	  "sha1": SHA-1 of the file, "checksum": the server's,
 *	  "external": true (its checksum is a path hash),
 *	  "livePhotoOf": the still's id (a live-photo video),
 *	  "fetchedAt": "YYYY-MM-DDTHH:MM:SSZ" }
 *
 * A record's "backup" entry for the asset names both by absolute path.
 * immich-fetch writes them, immich-restore uploads only a file its
 * sidecar vouches for.
 */

#define SIDECAR_MAX	(16 * 1024 * 1024)	/* bytes read of one */

/* The text of a sidecar, ending in a newline, *len its length (caller
 * frees); albums (may be NULL) is taken. */
char	*sidecar_text(const char *file, const cJSON *asset, cJSON *albums,
	    long long bytes, const char *sha, const char *checksum,
	    int external, const char *livePhotoOf, size_t *len);

/* A record's backup entry for asset id, backed up as dirpath/file. */
cJSON	*sidecar_entry(const char *dirpath, const char *file, const char *id,
	    long long bytes, const char *sha, const char *checksum,
	    int external, const char *livePhotoOf);

/* Read dirfd/ID.json (a regular file, not a link, at most SIDECAR_MAX
 * bytes): 0 with *sc its JSON (NULL when it is not JSON), or -1 with
 * errno set when it cannot be read. */
int	 sidecar_read(int dirfd, const char *id, cJSON **sc);

/* Does dirfd/ID.json name file as the asset's original? */
int	 sidecar_names(int dirfd, const char *id, const char *file);

/*
 * Hash a backup file dirfd/name (dirpath names dirfd in messages), not
 * following a link: 1 if it is a regular file of want bytes (any size
 * if want < 0) with its SHA-1 and *bytes, 0 if it is something else or
 * could not be read (a read error is warned about), -1 if there is
 * nothing.
 */
int	 sidecar_hash_file(int dirfd, const char *dirpath, const char *name,
	    long long want, char sha[SHA1_B64LEN], long long *bytes);

/*
 * An intact earlier backup of asset id in dirfd, from its sidecar: the
 * file it names is there with the size and SHA-1 it records, and that
 * SHA-1 is the server's checksum (want, the one the record expects, if
 * given).  Returns the record's entry and the sidecar's asset in *asset,
 * or NULL.  Never for an external-library asset: nothing but its size
 * vouches for its bytes.
 */
cJSON	*sidecar_intact(int dirfd, const char *dirpath, const char *id,
	    const char *want, const char *livePhotoOf, cJSON **asset);

/*
 * The backup of asset id as a record's entry b names it, checked before
 * it is uploaded again; NULL with *msg set (caller frees) if not: its
 * sidecar is ID.json in a folder that is ours and writable by no one
 * else; the entry's path is the file that sidecar names, in the same
 * folder; a regular file (not a link) whose SHA-1 is the one the sidecar
 * recorded, and want.  So a hand-edited record cannot make restore
 * upload any other local file.  Returns the parsed sidecar.
 */
cJSON	*sidecar_checked(const cJSON *b, const char *id, const char *want,
	    char **msg);

#endif
