/* SPDX-License-Identifier: ISC */
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/asset.h"
#include "common/fsutil.h"
#include "common/merge.h"
#include "common/ndjson.h"
#include "common/precond.h"
#include "common/review.h"
#include "common/sha1.h"
#include "common/util.h"

static long nrehash;

long
pc_rehashed(void)
{
	return nrehash;
}

static int
is_true(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(rec_get(o, key));
}

int
pc_listed(const cJSON *list, const char *id, const cJSON *upto)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, list) {
		if (t == upto)
			break;
		if (cJSON_IsString(t) && strcmp(t->valuestring, id) == 0)
			return 1;
	}
	return 0;
}

/* The group's unresolved review codes, comma-separated; NULL if none.
 * The record's decision.accept counts as accepted too. */
static char *
unresolved(const cJSON *rec, const cJSON *review,
    const char *const *accepted, size_t n)
{
	const cJSON *f;
	char *s = NULL;
	size_t i;

	cJSON_ArrayForEach(f, review) {
		const char *code = rec_str(f, "code");
		for (i = 0; code && i < n; i++)
			if (strcmp(accepted[i], code) == 0)
				break;
		if (code && (i < n || decision_accepts(rec, code)))
			continue;
		xappend(&s, ",", code ? code : "(no code)");
	}
	return s;
}

/*
 * Is the group's consolidation confirmed?  Returns NULL if so, else why
 * not; *cp is the consolidation object.  Accepts {"confirmed": ...} or
 * the same keyed by the keeper's id.
 */
static const char *
consolidation(const cJSON *rec, const char *keep, const cJSON **cp)
{
	const cJSON *c = rec_get(rec, "consolidated"), *k;

	*cp = NULL;
	if (!cJSON_IsObject(c))
		return "no consolidation in the record (run immich-consolidate)";
	if (rec_get(c, "confirmed") == NULL && keep &&
	    cJSON_IsObject(k = rec_get(c, keep)))
		c = k;
	*cp = c;
	if (is_true(c, "dryRun"))
		return "consolidation was a dry run (-n)";
	if (!is_true(c, "confirmed")) {
		if (rec_str(c, "skipped"))
			return "consolidation was skipped";
		return "consolidation not confirmed";
	}
	return NULL;
}

/*
 * Whether the confirmed consolidation c was made for this keeper and
 * handled this loser (the plan's keep or trash may have been edited by
 * hand since): NULL if so, else why not.
 */
static const char *
consolidated_for(const cJSON *c, const char *keep, const char *id)
{
	const char *ck = rec_str(c, "keep");
	const cJSON *l = rec_get(c, "losers");

	if (ck == NULL || !cJSON_IsArray(l))
		return "the consolidation does not say which keeper and "
		    "losers it handled (run immich-consolidate again)";
	if (strcmp(ck, keep) != 0)
		return "the consolidation was made for another keeper (the "
		    "plan was edited since): run immich-consolidate again";
	if (!pc_listed(l, id, NULL))
		return "the consolidation did not handle this loser (the plan "
		    "was edited since): run immich-consolidate again";
	return NULL;
}

void
pc_group(struct pc_group *g, const cJSON *rec, const char *const *accepted,
    size_t n)
{
	const cJSON *kv = rec_get(rec, "keep");

	memset(g, 0, sizeof(*g));
	g->keep = rec_str(rec, "keep");
	g->trash = rec_get(rec, "trash");
	g->review = rec_get(rec, "review");
	if (kv == NULL || cJSON_IsNull(kv))
		g->kwhy = "the record names no keeper";
	else if (!valid_uuid(g->keep))
		g->kwhy = "\"keep\" is not an asset id (a lower-case UUID)";
	else if (rec_asset(rec, g->keep) == NULL)
		g->kwhy = "the keeper is not one of the group's assets";
	if (cJSON_IsArray(g->review))
		g->unresolved = unresolved(rec, g->review, accepted, n);
	g->cwhy = consolidation(rec, g->keep, &g->cons);
	g->calb = rec_get(g->cons, "albums");
}

void
pc_group_free(struct pc_group *g)
{
	free(g->unresolved);
	g->unresolved = NULL;
}

/* The record-only checks before the backup's; NULL or a code. */
static const char *
plan_checks(const struct pc_group *g, const cJSON *rec, const char *id,
    int skip_cons, char **detail, int *cskip)
{
	const char *owhy, *act;

	*cskip = 0;
	if (g->kwhy) {
		*detail = xasprintf("%s%s%s", g->kwhy, g->keep ? ": " : "",
		    g->keep ? g->keep : "");
		return "no-keeper";
	}
	if (strcmp(id, g->keep) == 0) {
		*detail = xstrdup("this is the keeper");
		return "is-keeper";
	}
	if (pc_listed(g->trash, g->keep, NULL)) {
		*detail = xasprintf("the keeper %s is in the trash list too: "
		    "the group would be emptied", g->keep);
		return "is-keeper";
	}
	if (rec_asset(rec, id) == NULL) {
		*detail = xstrdup("not one of the group's assets");
		return "not-member";
	}
	if (!cJSON_IsArray(g->review)) {
		*detail = xstrdup("the record has no \"review\" list: not a "
		    "plan from immich-dupes");
		return "no-plan";
	}
	if (g->unresolved) {
		*detail = xasprintf("unresolved review flags: %s",
		    g->unresolved);
		return "review";
	}
	/* Decided on the review page: only "resolve" trashes. */
	if ((act = decision_action(rec)) != NULL &&
	    strcmp(act, "resolve") != 0) {
		*detail = xasprintf("the group was decided \"%s\" on the "
		    "review page (immich-decide): not for immich-trash", act);
		return "review";
	}
	owhy = g->cwhy ? g->cwhy : consolidated_for(g->cons, g->keep, id);
	if (owhy == NULL && g->calb && (!cJSON_IsObject(g->calb) ||
	    (rec_get(g->calb, id) && !cJSON_IsArray(rec_get(g->calb, id)))))
		owhy = "consolidated.albums is malformed";
	if (owhy && !skip_cons) {
		*detail = xstrdup(owhy);
		return "not-consolidated";
	}
	*cskip = owhy != NULL;
	return NULL;
}

const char *
pc_loser(const struct pc_group *g, const cJSON *rec, const char *id,
    int skip_cons, char **detail, const char **sum, int *cskip)
{
	const char *code, *vid;
	char *what;

	*detail = NULL;
	*sum = NULL;
	if ((code = plan_checks(g, rec, id, skip_cons, detail, cskip)))
		return code;
	if ((code = pc_backup(rec, id, "", detail, sum)))
		return code;
	if ((vid = pc_video(rec, id)) != NULL) {
		what = xasprintf("live-photo video %s: ", vid);
		code = pc_backup(rec, vid, what, detail, NULL);
		free(what);
	}
	return code;
}

/*
 * The backup file: still there, a regular file (opened without following
 * a symbolic link; fstat of the open file, not lstat, which a network
 * file system may answer from a cache), of the backed-up size, and with
 * the bytes immich-verify hashed.  Those are taken as still there when
 * the file has the stamp verify recorded (fsutil.h: same inode,
 * modification and change times, on a file system that keeps them to
 * the nanosecond); otherwise (touched since, verified where no stamp can
 * be trusted, a whole-second stamp from an older version, or none) it is
 * hashed again and must give the same SHA-1 and size.  An external asset
 * verified by size alone without a SHA-1 is checked by size.  NULL, or
 * the held code with *detail set.
 */
static const char *
on_disk(const char *path, const cJSON *v, double want, const char *what,
    char **detail)
{
	const char *stamp = rec_str(v, "stamp"), *vsha = rec_str(v, "sha1");
	const char *code = NULL;
	char now[FS_STAMPLEN], sha[SHA1_B64LEN], why[1024];
	struct stat st;
	long long bytes;
	int fd;

	if ((fd = sha1_open(path, &st, why, sizeof(why))) == -1) {
		*detail = xasprintf("%s%s", what, why);
		return "file-missing";
	}
	fs_stamp(&st, now);
	if ((double)st.st_size != want) {
		*detail = xasprintf("%s%s: %lld bytes on disk, %.0f backed up",
		    what, path, (long long)st.st_size, want);
		code = "file-missing";
	} else if (vsha != NULL && (stamp == NULL || fs_stamp_coarse(&st) ||
	    strcmp(stamp, now) != 0)) {
		nrehash++;
		if (sha1_whole(fd, path, sha, &bytes, NULL, why,
		    sizeof(why)) == -1) {
			*detail = xasprintf("%s%s", what, why);
			code = "file-missing";
		} else if (strcmp(sha, vsha) != 0 || (double)bytes != want) {
			*detail = xasprintf("%s%s: changed since it was "
			    "verified: SHA-1 %s and %lld bytes now, %s "
			    "verified", what, path, sha, bytes, vsha);
			code = "backup-changed";
		}
	}
	close(fd);
	return code;
}

/* The verification v of backup b (checksum bsum): NULL when it vouches
 * for the backup's bytes, else why not. */
static char *
not_verified(const cJSON *b, const cJSON *v, const char *bsum,
    const char *what)
{
	const char *vsha = rec_str(v, "sha1"), *why;
	const cJSON *vb = rec_get(v, "bytes");
	/* Only an asset of an external library may be verified by size
	 * alone. */
	int sizeonly = is_true(v, "sizeOnly") && is_true(b, "external");

	if (!cJSON_IsObject(v) || !is_true(v, "ok")) {
		why = rec_str(v, "reason");
		return xasprintf("%sbackup not verified%s%s", what,
		    why ? ": " : "", why ? why : "");
	}
	if (bsum == NULL)
		return xasprintf("%sno server checksum in the record", what);
	if (is_true(v, "sizeOnly") && !sizeonly)
		return xasprintf("%sverified by size only, but not an asset "
		    "of an external library", what);
	if (!sizeonly && (vsha == NULL || strcmp(vsha, bsum) != 0))
		return xasprintf("%sverified SHA-1 %s is not the server's "
		    "checksum %s", what, vsha ? vsha : "(none)", bsum);
	if (!cJSON_IsNumber(vb) ||
	    vb->valuedouble != rec_get(b, "bytes")->valuedouble)
		return xasprintf("%sverified size %s the backup's", what,
		    cJSON_IsNumber(vb) ? "differs from" :
		    "missing; not checked against");
	return NULL;
}

const char *
pc_backup(const cJSON *rec, const char *id, const char *what,
    char **detail, const char **sum)
{
	const cJSON *b = rec_get(rec_get(rec, "backup"), id);
	const cJSON *v = rec_get(rec_get(rec, "verified"), id);
	const cJSON *bytes = rec_get(b, "bytes");
	const char *path = rec_str(b, "path"), *bsum, *code;

	*detail = NULL;
	if (!cJSON_IsObject(b) || path == NULL || !cJSON_IsNumber(bytes)) {
		*detail = xasprintf("%sno backup in the record", what);
		return "no-backup";
	}
	/* The checksum the backup was made against. */
	if ((bsum = rec_str(b, "checksum")) == NULL)
		bsum = asset_checksum(rec_asset(rec, id));
	if ((*detail = not_verified(b, v, bsum, what)) != NULL)
		return "not-verified";
	if ((code = on_disk(path, v, bytes->valuedouble, what,
	    detail)) != NULL)
		return code;
	if (sum)
		*sum = bsum;
	return NULL;
}

const char *
pc_video(const cJSON *rec, const char *id)
{
	const char *v = rec_str(rec_get(rec_get(rec, "backup"), id), "video");

	return v ? v : asset_video(rec_asset(rec, id));
}

int
pc_named(const cJSON *people)
{
	const cJSON *x;
	const char *name;

	cJSON_ArrayForEach(x, people)
		if ((name = rec_str(x, "name")) && *name)
			return 1;
	return 0;
}

const char *
pc_people(const cJSON *lpeople, const cJSON *kpeople, const char *keep,
    char **detail)
{
	const cJSON *x;
	const char *name, *pid;

	*detail = NULL;
	cJSON_ArrayForEach(x, lpeople) {
		name = rec_str(x, "name");
		if ((pid = rec_str(x, "id")) == NULL || name == NULL || !*name)
			continue;
		if (!rec_has_id(kpeople, pid)) {
			*detail = xasprintf("it shows %s (person %s), whom the "
			    "keeper %s does not: tag the face on the keeper "
			    "in Immich, or allow it with -a people", name,
			    pid, keep);
			return "people";
		}
	}
	return NULL;
}

const char *
pc_new_album(const cJSON *now, const cJSON *seen, char **detail)
{
	const cJSON *a;
	const char *aid;

	*detail = NULL;
	cJSON_ArrayForEach(a, now) {
		aid = rec_str(a, "id");
		if (!rec_has_id(seen, aid)) {
			*detail = xasprintf("added to album %s (%s) since "
			    "consolidation", aid, rec_str(a, "albumName") ?
			    rec_str(a, "albumName") : "no name");
			return "loser-changed";
		}
	}
	return NULL;
}

const char *
pc_fresh(const cJSON *rec, const char *id, const cJSON *fresh,
    const char *sum, char **detail)
{
	const char *now = asset_checksum(fresh), *vid, *code;
	char why[256], *d;

	*detail = NULL;
	if (now == NULL || strcmp(now, sum) != 0) {
		*detail = xasprintf("the server's checksum is now %s, the "
		    "backup is of %s", now ? now : "(none)", sum);
		return "checksum-changed";
	}
	/* A live-photo video linked since the backup was made. */
	if ((vid = asset_video(fresh)) && (code = pc_backup(rec, vid,
	    "live-photo video: ", &d, NULL))) {
		*detail = xasprintf("%s (linked on the server)", d);
		free(d);
		return code;
	}
	/* Metadata typed on the loser after planning never reached the
	 * keeper: keep the loser until a new plan moves it. */
	if (merge_loser_changed(rec_asset(rec, id), fresh, why,
	    sizeof(why))) {
		*detail = xstrdup(why);
		return "loser-changed";
	}
	return NULL;
}
