/* SPDX-License-Identifier: ISC */
/*
 * immich-trash: move each group's losers to Immich's trash, but only a
 * loser that passes every precondition: backed up and verified (its
 * live-photo video too) with the file still on disk, the group's
 * consolidation confirmed and made for this keeper and loser, no
 * unresolved review flag, keeper and loser members of the group, the
 * loser not the keeper of any record seen in this run, and, asked of
 * the server just before: the keeper there and not trashed (one bulk
 * checksum check per batch, GET /assets/{id} for what it does not
 * settle), and each loser (GET /assets/{id}) still with the checksum
 * that was backed up, none of the metadata consolidation moves changed
 * since the plan was made, not edited, and in no album consolidation
 * did not see (GET /albums?assetId=).  Losers already in the trash are
 * reported and not deleted again.  Refuses when the server's trash is
 * off or kept for 0 days, unless -F.  Deletes in batches (DELETE /assets, force false), isolating
 * ids the server refuses, then confirms that the losers are in the trash
 * (one bulk checksum check per batch).  Adds "trashed" to each record.
 * Under -n, what earlier batches would have trashed counts as trashed.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bulk.h"
#include "common/fsutil.h"
#include "common/http.h"
#include "common/merge.h"
#include "common/ndjson.h"
#include "common/progress.h"
#include "common/ratelimit.h"
#include "common/sha1.h"
#include "common/util.h"

static int nflag, qflag, Cflag, Fflag, Gflag;
static long batch = 250;
static char **accept_codes;
static size_t naccept;

/* A record waiting for its batch of deletes. */
struct pend {
	cJSON	*rec;
	cJSON	*trashed;	/* the record's "trashed" (owned by rec) */
	const char *keep;	/* the keeper's id (owned by rec) */
	size_t	 lineno;
	int	 failed;
	int	 kstate;	/* keeper on the server: 0 unknown, 1 fine,
				 * -1 held (kcode, kdetail) */
	const char *kcode;
	char	*kdetail;
	cJSON	*kpeople;	/* the keeper's people, once read */
};

/* A loser that passed the checks made from the record alone. */
struct cand {
	char	*id;
	const char *sum;	/* checksum the backup was made against */
	size_t	 pend;		/* index into pends */
	int	 cskip;		/* consolidation skipped (-C) */
	const cJSON *albums;	/* consolidated.albums[id] to compare the
				 * loser's albums with; NULL: not checked */
	int	 achk;		/* compare its albums (consolidated.albums
				 * present and not -C) */
	int	 state;		/* 0 to check, 1 fine on the server, 2 to
				 * delete, -1 done (held or already trashed) */
};

static struct pend *pends;
static size_t npend, pendcap;
static struct cand *cands;
static size_t ncand, candcap;
static struct ndjson_in in;

/*
 * A set of ids, each with a note.  Open addressing, grown at half full.
 * kset: every keeper seen in this run, with the group that keeps it: a
 * loser that is some record's keeper is never deleted (two records may
 * name each other's keeper as a loser).  gone: under -n, every loser
 * this dry run would have trashed, so that later batches see it trashed
 * as the real run would.
 */
struct kept {
	char	*id;
	char	*group;
};
struct idset {
	struct kept *v;
	size_t	 n, cap;
};
static struct idset kset, gone;

static long ntrashed, nalready, nheld;
static long nrehash;		/* backups hashed again (on_disk) */
static int status = EX_DONE;

static void
usage(void)
{
	fprintf(stderr, "usage: immich-trash [-CFGnqV] [-a code,...] "
	    "[-b batch]\n");
	exit(EX_USAGE);
}

static size_t
khash(const char *s)
{
	size_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The note of id in set s, or NULL. */
static const char *
set_get(const struct idset *s, const char *id)
{
	size_t i;

	if (s->cap == 0)
		return NULL;
	for (i = khash(id) & (s->cap - 1); s->v[i].id;
	    i = (i + 1) & (s->cap - 1))
		if (strcmp(s->v[i].id, id) == 0)
			return s->v[i].group;
	return NULL;
}

static void
set_add(struct idset *s, const char *id, const char *note)
{
	struct kept *old = s->v;
	size_t i, j, oldcap = s->cap;

	if (set_get(s, id))
		return;
	if (2 * (s->n + 1) > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = xcalloc(s->cap, sizeof(*s->v));
		for (j = 0; j < oldcap; j++) {
			if (old[j].id == NULL)
				continue;
			for (i = khash(old[j].id) & (s->cap - 1); s->v[i].id;
			    i = (i + 1) & (s->cap - 1))
				;
			s->v[i] = old[j];
		}
		free(old);
	}
	for (i = khash(id) & (s->cap - 1); s->v[i].id;
	    i = (i + 1) & (s->cap - 1))
		;
	s->v[i].id = xstrdup(id);
	s->v[i].group = xstrdup(note);
	s->n++;
}

/* The group whose keeper id is, or NULL. */
static const char *
keeper_of(const char *id)
{
	return set_get(&kset, id);
}

static void
keeper_add(const char *id, const char *group)
{
	set_add(&kset, id, group);
}

static void
parse_accept(const char *s)
{
	char *copy = xstrdup(s), *p = copy, *tok;

	while ((tok = strsep(&p, ",")) != NULL) {
		if (*tok == '\0')
			continue;
		accept_codes = xrealloc(accept_codes,
		    (naccept + 1) * sizeof(*accept_codes));
		accept_codes[naccept++] = xstrdup(tok);
	}
	free(copy);
}

static int
accepted(const char *code)
{
	size_t i;

	for (i = 0; code && i < naccept; i++)
		if (strcmp(accept_codes[i], code) == 0)
			return 1;
	return 0;
}

static cJSON *
obj_get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static int	listed(const cJSON *, const char *, const cJSON *);

static int
is_true(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(obj_get(o, key));
}

static void
hold(struct pend *p, const char *id, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
hold(struct pend *p, const char *id, const char *code, const char *fmt, ...)
{
	cJSON *e = cJSON_CreateObject();
	va_list ap;
	char *d, *v;

	va_start(ap, fmt);
	if (vasprintf(&d, fmt, ap) < 0)
		errx(EX_FATAL, "out of memory");
	va_end(ap);
	cJSON_AddFalseToObject(e, "ok");
	cJSON_AddStringToObject(e, "held", code);
	cJSON_AddStringToObject(e, "detail", d);
	rec_set(p->trashed, id, e);
	if (!p->failed)
		prog.held++;
	p->failed = 1;
	v = xstrvis(d);
	warnx("%s:%zu: asset %s: held back (%s): %s", in.name, p->lineno,
	    id, code, v);
	free(v);
	free(d);
	nheld++;
}

/* The group's unresolved review codes, comma-separated; NULL if none.
 * The caller checked that "review" is a list. */
static char *
unresolved_review(const cJSON *rec)
{
	const cJSON *rv = obj_get(rec, "review"), *f;
	char *s = NULL, *t;

	cJSON_ArrayForEach(f, rv) {
		const char *code = rec_str(f, "code");
		if (accepted(code))
			continue;
		t = xasprintf("%s%s%s", s ? s : "", s ? "," : "",
		    code ? code : "(no code)");
		free(s);
		s = t;
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
	const cJSON *c = obj_get(rec, "consolidated"), *k;

	*cp = NULL;
	if (!cJSON_IsObject(c))
		return "no consolidation in the record (run immich-consolidate)";
	if (obj_get(c, "confirmed") == NULL && keep &&
	    cJSON_IsObject(k = obj_get(c, keep)))
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
	const cJSON *l = obj_get(c, "losers");

	if (ck == NULL || !cJSON_IsArray(l))
		return "the consolidation does not say which keeper and "
		    "losers it handled (run immich-consolidate again)";
	if (strcmp(ck, keep) != 0)
		return "the consolidation was made for another keeper (the "
		    "plan was edited since): run immich-consolidate again";
	if (!listed(l, id, NULL))
		return "the consolidation did not handle this loser (the plan "
		    "was edited since): run immich-consolidate again";
	return NULL;
}

/*
 * The backup file: still there, a regular file (opened without following
 * a symbolic link; fstat of the open file, not lstat, which a network
 * file system may answer from a cache), of the backed-up size, and with
 * the bytes immich-verify hashed.  Those are taken as still there when
 * the file has the stamp verify recorded (fsutil.h: same inode,
 * modification and change times, on a file system that keeps them to
 * the nanosecond); otherwise (touched since, verified where no stamp can
 * be trusted, a whole-second stamp from an older version, or none) it is hashed again and must give the
 * same SHA-1 and size.  An external asset verified by size alone without
 * a SHA-1 is checked by size.  NULL, or the held code with *detail set.
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

/*
 * Offline checks of one backed-up asset (a loser or its live-photo
 * video): backup entry, verification, file on disk.  Returns NULL when
 * it passes, else the held code with *detail set.
 */
static const char *
check_backup(const cJSON *rec, const char *id, const char *what,
    char **detail, const char **sum)
{
	const cJSON *b = obj_get(obj_get(rec, "backup"), id);
	const cJSON *v = obj_get(obj_get(rec, "verified"), id);
	const cJSON *bytes, *asset;
	const char *path, *bsum, *vsha, *code;
	int sizeonly;

	*detail = NULL;
	path = rec_str(b, "path");
	bytes = obj_get(b, "bytes");
	if (!cJSON_IsObject(b) || path == NULL || !cJSON_IsNumber(bytes)) {
		*detail = xasprintf("%sno backup in the record", what);
		return "no-backup";
	}
	if (!cJSON_IsObject(v) || !is_true(v, "ok")) {
		const char *why = rec_str(v, "reason");
		*detail = xasprintf("%sbackup not verified%s%s", what,
		    why ? ": " : "", why ? why : "");
		return "not-verified";
	}
	/* The checksum the backup was made against. */
	bsum = rec_str(b, "checksum");
	if (bsum == NULL && (asset = rec_asset(rec, id)) != NULL)
		bsum = rec_str(asset, "checksum");
	/* The SHA-1 immich-verify computed; only an asset of an external
	 * library may be verified by size alone. */
	vsha = rec_str(v, "sha1");
	sizeonly = is_true(v, "sizeOnly") && is_true(b, "external");
	if (bsum == NULL) {
		*detail = xasprintf("%sno server checksum in the record", what);
		return "not-verified";
	}
	if (is_true(v, "sizeOnly") && !sizeonly) {
		*detail = xasprintf("%sverified by size only, but not an "
		    "asset of an external library", what);
		return "not-verified";
	}
	if (!sizeonly && (vsha == NULL || strcmp(vsha, bsum) != 0)) {
		*detail = xasprintf("%sverified SHA-1 %s is not the server's "
		    "checksum %s", what, vsha ? vsha : "(none)", bsum);
		return "not-verified";
	}
	if (!cJSON_IsNumber(obj_get(v, "bytes")) ||
	    obj_get(v, "bytes")->valuedouble != bytes->valuedouble) {
		*detail = xasprintf("%sverified size %s the backup's", what,
		    cJSON_IsNumber(obj_get(v, "bytes")) ? "differs from" :
		    "missing; not checked against");
		return "not-verified";
	}
	if ((code = on_disk(path, v, bytes->valuedouble, what,
	    detail)) != NULL)
		return code;
	if (sum)
		*sum = bsum;
	return NULL;
}

/* The live-photo video id of a loser, from its backup or asset. */
static const char *
video_of(const cJSON *rec, const char *id)
{
	const char *v = rec_str(obj_get(obj_get(rec, "backup"), id), "video");

	if (v == NULL)
		v = rec_str(rec_asset(rec, id), "livePhotoVideoId");
	return v;
}

/*
 * GET /assets/ID.  Returns 1 with *a set (caller frees), 0 when the
 * server says there is no such asset, -1 on another failure (*msg set).
 */
static int
get_asset(const char *id, cJSON **a, char **msg)
{
	struct http_resp r;
	char *path = xasprintf("/assets/%s", id);
	int rv;

	*a = NULL;
	*msg = NULL;
	memset(&r, 0, sizeof(r));
	if (http_json("GET", path, NULL, &r) != 0) {
		*msg = xasprintf("GET /api%s: no reply: %s", path, r.msg);
		rv = -1;
	} else if (r.status == 400 || r.status == 404) {
		*msg = xasprintf("GET /api%s: HTTP %ld: %s", path, r.status,
		    r.msg);
		rv = 0;
	} else if (r.status != 200 ||
	    (*a = cJSON_ParseWithLength(r.body, r.len)) == NULL ||
	    !cJSON_IsObject(*a)) {
		cJSON_Delete(*a);
		*a = NULL;
		*msg = xasprintf("GET /api%s: HTTP %ld: %s", path, r.status,
		    r.status == 200 ? "unreadable reply" : r.msg);
		rv = -1;
	} else
		rv = 1;
	http_free(&r);
	free(path);
	return rv;
}

/*
 * After a DELETE whose outcome is unknown: is id in the trash already
 * (purged too, under -F)?  Sending it again would restart its 30-day clock.
 */
static int
deleted(const char *id)
{
	cJSON *a;
	char *msg;
	int kind = get_asset(id, &a, &msg), rv;

	rv = kind > 0 ? is_true(a, "isTrashed") : kind == 0 && Fflag;
	cJSON_Delete(a);
	free(msg);
	return rv;
}

static void
add_cand(const char *id, const char *sum, size_t p, int cskip,
    const cJSON *albums, int achk)
{
	if (ncand == candcap) {
		candcap = candcap ? candcap * 2 : 64;
		cands = xrealloc(cands, candcap * sizeof(*cands));
	}
	cands[ncand].id = xstrdup(id);
	cands[ncand].sum = sum;
	cands[ncand].pend = p;
	cands[ncand].cskip = cskip;
	cands[ncand].albums = albums;
	cands[ncand].achk = achk;
	cands[ncand].state = 0;
	ncand++;
}

static int
listed(const cJSON *trash, const char *id, const cJSON *upto)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, trash) {
		if (t == upto)
			break;
		if (cJSON_IsString(t) && strcmp(t->valuestring, id) == 0)
			return 1;
	}
	return 0;
}

/*
 * Check every loser of one record against the record itself (backup,
 * verification, file, consolidation, review, keeper) and queue the ones
 * that pass for the server checks and the delete, made with the batch.
 */
static void
check_record(cJSON *rec)
{
	const cJSON *trash = obj_get(rec, "trash"), *t, *cons, *calb;
	const cJSON *rv = obj_get(rec, "review"), *kv = obj_get(rec, "keep");
	const char *keep = rec_str(rec, "keep"), *cwhy, *code, *kwhy = NULL;
	const char *dup = rec_str(rec, "duplicateId");
	cJSON *trashed = cJSON_CreateObject();
	struct pend *pp;
	char *review = NULL, *detail, *group;
	size_t p = npend;
	int cskip;

	if (npend == pendcap) {
		pendcap = pendcap ? pendcap * 2 : 64;
		pends = xrealloc(pends, pendcap * sizeof(*pends));
	}
	pp = &pends[p];
	memset(pp, 0, sizeof(*pp));
	pp->rec = rec;
	pp->lineno = in.lineno;
	pp->keep = keep;
	npend++;
	rec_set(rec, "trashed", trashed);
	pp->trashed = trashed;

	if (!cJSON_IsArray(trash)) {
		rec_error(rec, &in, NULL, "no \"trash\" list in the record");
		pp->failed = 1;
		return;
	}
	/* The keeper: a lower-case id, one of the group's assets.  Any id
	 * a record names as its keeper is never deleted in this run. */
	if (valid_uuid(keep)) {
		group = xasprintf("%s (line %zu)", dup ? dup : "(no "
		    "duplicateId)", in.lineno);
		keeper_add(keep, group);
		free(group);
	}
	if (kv == NULL || cJSON_IsNull(kv))
		kwhy = "the record names no keeper";
	else if (!valid_uuid(keep))
		kwhy = "\"keep\" is not an asset id (a lower-case UUID)";
	else if (rec_asset(rec, keep) == NULL)
		kwhy = "the keeper is not one of the group's assets";
	if (rv != NULL && cJSON_IsArray(rv))
		review = unresolved_review(rec);
	cwhy = consolidation(rec, keep, &cons);
	calb = obj_get(cons, "albums");

	cJSON_ArrayForEach(t, trash) {
		const char *id = cJSON_GetStringValue(t), *vid, *sum = NULL;
		const char *owhy;

		if (id == NULL || !valid_uuid(id)) {
			rec_error(rec, &in, id, "\"trash\" holds something "
			    "that is not an asset id (a lower-case UUID)");
			pp->failed = 1;
			continue;
		}
		if (listed(trash, id, t))
			continue;
		prog.assets++;
		if (kwhy) {
			hold(pp, id, "no-keeper", "%s%s%s", kwhy,
			    keep ? ": " : "", keep ? keep : "");
			continue;
		}
		if (strcmp(id, keep) == 0) {
			hold(pp, id, "is-keeper", "this is the keeper");
			continue;
		}
		if (listed(trash, keep, NULL)) {
			hold(pp, id, "is-keeper", "the keeper %s is in the "
			    "trash list too: the group would be emptied", keep);
			continue;
		}
		if (rec_asset(rec, id) == NULL) {
			hold(pp, id, "not-member", "not one of the group's "
			    "assets");
			continue;
		}
		if (!cJSON_IsArray(rv)) {
			hold(pp, id, "no-plan", "the record has no \"review\" "
			    "list: not a plan from immich-dupes");
			continue;
		}
		if (review) {
			hold(pp, id, "review", "unresolved review flags: %s",
			    review);
			continue;
		}
		owhy = cwhy ? cwhy : consolidated_for(cons, keep, id);
		if (owhy == NULL && calb && (!cJSON_IsObject(calb) ||
		    (obj_get(calb, id) && !cJSON_IsArray(obj_get(calb, id)))))
			owhy = "consolidated.albums is malformed";
		if (owhy && !Cflag) {
			hold(pp, id, "not-consolidated", "%s", owhy);
			continue;
		}
		cskip = owhy != NULL;
		if ((code = check_backup(rec, id, "", &detail, &sum))) {
			hold(pp, id, code, "%s", detail);
			free(detail);
			continue;
		}
		if ((vid = video_of(rec, id)) != NULL) {
			char *what = xasprintf("live-photo video %s: ", vid);
			code = check_backup(rec, vid, what, &detail, NULL);
			free(what);
			if (code) {
				hold(pp, id, code, "%s", detail);
				free(detail);
				continue;
			}
		}
		add_cand(id, sum, p, cskip, obj_get(calb, id),
		    !cskip && calb != NULL);
	}
	free(review);
}

/*
 * POST /assets/bulk-upload-check with body (freed): the reply, with
 * *res its "results" array (caller frees the reply); NULL, said unless
 * -q, when it failed: the caller reads each asset instead.
 */
static cJSON *
upload_check(cJSON *body, cJSON **res)
{
	struct http_resp hr;
	cJSON *o = NULL;
	char *b;

	if ((b = cJSON_PrintUnformatted(body)) == NULL)
		errx(EX_FATAL, "out of memory");
	cJSON_Delete(body);
	memset(&hr, 0, sizeof(hr));
	if (http_json("POST", "/assets/bulk-upload-check", b, &hr) != 0 ||
	    hr.status != 200 ||
	    (o = cJSON_ParseWithLength(hr.body, hr.len)) == NULL ||
	    !cJSON_IsArray(*res = obj_get(o, "results"))) {
		if (!qflag)
			warnx("POST /api/assets/bulk-upload-check: %s%s: "
			    "reading each asset instead", hr.status ? "" :
			    "no reply: ", hr.msg[0] ? hr.msg :
			    "unreadable reply");
		cJSON_Delete(o);
		o = NULL;
	}
	free(b);
	http_free(&hr);
	return o;
}

/*
 * One POST /assets/bulk-upload-check for the batch: for each keeper's
 * checksum, the asset of the user that has it and whether it is trashed.
 * A keeper found under its own id and not trashed is fine; anything else
 * is read with GET /assets/{id} to say exactly what it is.  Losers are
 * always read one by one (check_loser): their metadata is compared too.
 */
static void
bulk_check(void)
{
	cJSON *body, *items, *it, *o, *res, *r;
	char key[32];
	size_t i, n = 0;
	const char *ks;

	if (Gflag || ncand == 0)
		return;
	body = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(body, "assets");
	for (i = 0; i < ncand; i++) {
		struct pend *p = &pends[cands[i].pend];

		ks = rec_str(rec_asset(p->rec, p->keep), "checksum");
		if (ks && (i == 0 || cands[i - 1].pend != cands[i].pend)) {
			it = cJSON_CreateObject();
			snprintf(key, sizeof(key), "k%zu", cands[i].pend);
			cJSON_AddStringToObject(it, "id", key);
			cJSON_AddStringToObject(it, "checksum", ks);
			cJSON_AddItemToArray(items, it);
			n++;
		}
	}
	if ((o = upload_check(body, &res)) == NULL)
		return;
	cJSON_ArrayForEach(r, res) {
		const char *id = rec_str(r, "id"), *aid = rec_str(r, "assetId");
		const char *act = rec_str(r, "action");
		char *end;
		unsigned long k;

		if (id == NULL || id[0] != 'k' || aid == NULL ||
		    act == NULL || strcmp(act, "reject") != 0 ||
		    !cJSON_IsFalse(obj_get(r, "isTrashed")))
			continue;
		k = strtoul(id + 1, &end, 10);
		if (*end != '\0')
			continue;
		if (k < npend && pends[k].keep &&
		    strcmp(aid, pends[k].keep) == 0)
			pends[k].kstate = 1;
	}
	cJSON_Delete(o);
}

/* Keep the keeper's people (an empty list when it shows none). */
static void
keep_people(struct pend *p, const cJSON *ka)
{
	const cJSON *kp = obj_get(ka, "people");

	cJSON_Delete(p->kpeople);
	p->kpeople = cJSON_IsArray(kp) ? cJSON_Duplicate(kp, 1) :
	    cJSON_CreateArray();
}

/* The keeper of p, read from the server unless already known. */
static void
check_keeper(struct pend *p)
{
	cJSON *ka;
	char *msg;
	int kind;

	if (p->kstate != 0)
		return;
	kind = get_asset(p->keep, &ka, &msg);
	p->kstate = -1;
	if (kind == 0) {
		p->kcode = "keeper-missing";
		p->kdetail = xasprintf("the keeper %s is no longer on the "
		    "server (%s)", p->keep, msg);
	} else if (kind < 0) {
		p->kcode = "error";
		p->kdetail = xasprintf("keeper %s: %s", p->keep, msg);
	} else if (is_true(ka, "isTrashed")) {
		p->kcode = "keeper-trashed";
		p->kdetail = xasprintf("the keeper %s is in the trash",
		    p->keep);
	} else {
		p->kstate = 1;
		keep_people(p, ka);
	}
	free(msg);
	cJSON_Delete(ka);
}

/*
 * A person someone named on the loser (GET /assets/ID: people) whom the
 * keeper does not show: trashing the loser would lose the tag (no one's
 * resolve copies faces).  NULL, or the held code with *detail set.  The
 * keeper is read only when the loser shows someone named.
 */
static const char *
lost_people(struct pend *p, const cJSON *la, char **detail)
{
	const cJSON *lp = obj_get(la, "people"), *x, *y;
	const char *name, *pid, *kid;
	cJSON *ka;
	char *msg;
	int named = 0, seen;

	*detail = NULL;
	cJSON_ArrayForEach(x, lp)
		if ((name = rec_str(x, "name")) && *name)
			named = 1;
	if (!named || accepted("people"))
		return NULL;
	if (p->kpeople == NULL) {
		if (get_asset(p->keep, &ka, &msg) != 1) {
			*detail = xasprintf("keeper %s: %s", p->keep, msg);
			free(msg);
			return "error";
		}
		keep_people(p, ka);
		cJSON_Delete(ka);
	}
	cJSON_ArrayForEach(x, lp) {
		name = rec_str(x, "name");
		if ((pid = rec_str(x, "id")) == NULL || name == NULL || !*name)
			continue;
		seen = 0;
		cJSON_ArrayForEach(y, p->kpeople)
			if ((kid = rec_str(y, "id")) && strcmp(kid, pid) == 0)
				seen = 1;
		if (!seen) {
			*detail = xasprintf("it shows %s (person %s), whom the "
			    "keeper %s does not: tag the face on the keeper "
			    "in Immich, or allow it with -a people", name,
			    pid, p->keep);
			return "people";
		}
	}
	return NULL;
}

/*
 * The loser's albums now (GET /albums?assetId=) against those
 * consolidation saw (and gave the keeper): NULL when it is in no other,
 * else the held code with *detail set.
 */
static const char *
new_album(const struct cand *c, char **detail)
{
	struct http_resp r;
	cJSON *o = NULL, *a;
	const cJSON *s;
	char *path = xasprintf("/albums?assetId=%s", c->id);
	const char *code = NULL, *aid;
	int seen;

	*detail = NULL;
	memset(&r, 0, sizeof(r));
	if (http_json("GET", path, NULL, &r) != 0 || r.status != 200 ||
	    (o = cJSON_ParseWithLength(r.body, r.len)) == NULL ||
	    !cJSON_IsArray(o)) {
		*detail = xasprintf("GET /api%s: %s%s", path, r.status ? "" :
		    "no reply: ", r.msg[0] ? r.msg : "unreadable reply");
		code = "error";
		goto out;
	}
	cJSON_ArrayForEach(a, o) {
		if ((aid = rec_str(a, "id")) == NULL)
			continue;
		seen = 0;
		cJSON_ArrayForEach(s, c->albums) {
			const char *sid = rec_str(s, "id");
			if (sid && strcmp(sid, aid) == 0)
				seen = 1;
		}
		if (!seen) {
			*detail = xasprintf("added to album %s (%s) since "
			    "consolidation", aid, rec_str(a, "albumName") ?
			    rec_str(a, "albumName") : "no name");
			code = "loser-changed";
			break;
		}
	}
out:
	cJSON_Delete(o);
	http_free(&r);
	free(path);
	return code;
}

/* The server checks of one loser: sets c->state to 2 (delete) or -1. */
static void
check_loser(cJSON *rec, struct pend *p, struct cand *c)
{
	cJSON *la, *e;
	const char *vid, *code, *sum;
	char *msg, *detail, why[256];
	int kind;

	check_keeper(p);
	c->state = -1;
	if (p->kstate < 0) {
		hold(p, c->id, p->kcode, "%s", p->kdetail);
		return;
	}
	kind = get_asset(c->id, &la, &msg);
	if (kind <= 0) {
		hold(p, c->id, kind == 0 ? "loser-missing" : "error", "%s",
		    msg);
		free(msg);
		return;
	}
	if (is_true(la, "isTrashed")) {
		e = cJSON_CreateObject();
		cJSON_AddTrueToObject(e, "ok");
		cJSON_AddTrueToObject(e, "alreadyTrashed");
		rec_set(p->trashed, c->id, e);
		nalready++;
		cJSON_Delete(la);
		return;
	}
	sum = rec_str(la, "checksum");
	if (sum == NULL || strcmp(sum, c->sum) != 0) {
		hold(p, c->id, "checksum-changed", "the server's checksum is "
		    "now %s, the backup is of %s", sum ? sum : "(none)",
		    c->sum);
		cJSON_Delete(la);
		return;
	}
	/* A live-photo video linked since the backup was made. */
	vid = rec_str(la, "livePhotoVideoId");
	if (vid && (code = check_backup(rec, vid, "live-photo video: ",
	    &detail, NULL))) {
		hold(p, c->id, code, "%s (linked on the server)", detail);
		free(detail);
		cJSON_Delete(la);
		return;
	}
	/* Metadata typed on the loser after planning never reached the
	 * keeper: keep the loser until a new plan moves it. */
	if (merge_loser_changed(rec_asset(rec, c->id), la, why,
	    sizeof(why))) {
		hold(p, c->id, "loser-changed", "%s", why);
		cJSON_Delete(la);
		return;
	}
	if ((code = lost_people(p, la, &detail)) != NULL) {
		hold(p, c->id, code, "%s", detail);
		free(detail);
		cJSON_Delete(la);
		return;
	}
	cJSON_Delete(la);
	if (c->achk && (code = new_album(c, &detail)) != NULL) {
		hold(p, c->id, code, "%s", detail);
		free(detail);
		return;
	}
	c->state = 2;
}

/*
 * -n: take what earlier batches of this dry run would have trashed as
 * trashed, as the real run would find it on the server: a record whose
 * keeper is among them holds its losers (keeper-trashed).
 */
static void
dry_keepers(void)
{
	struct pend *p;
	size_t i;

	for (i = 0; i < ncand; i++) {
		p = &pends[cands[i].pend];
		if (cands[i].state != 0 || p->kstate < 0 ||
		    set_get(&gone, p->keep) == NULL)
			continue;
		p->kstate = -1;
		p->kcode = "keeper-trashed";
		free(p->kdetail);
		p->kdetail = xasprintf("the keeper %s would be in the trash "
		    "(this dry run trashed it in an earlier batch)", p->keep);
	}
}

/*
 * -n: a loser an earlier batch of this dry run would have trashed is
 * already in the trash, for a real run (after its keeper's check).
 * Returns 0 for any other loser.
 */
static int
dry_trashed(struct cand *c)
{
	struct pend *p = &pends[c->pend];
	cJSON *e;

	if (set_get(&gone, c->id) == NULL)
		return 0;
	check_keeper(p);
	c->state = -1;
	if (p->kstate < 0) {
		hold(p, c->id, p->kcode, "%s", p->kdetail);
		return 1;
	}
	e = cJSON_CreateObject();
	cJSON_AddTrueToObject(e, "ok");
	cJSON_AddTrueToObject(e, "alreadyTrashed");
	cJSON_AddTrueToObject(e, "dryRun");
	rec_set(p->trashed, c->id, e);
	nalready++;
	return 1;
}

/*
 * After the DELETE: is each loser the server said it deleted (2xx) in
 * the trash now, or gone?  A server can answer 204 and do nothing.  One
 * POST /assets/bulk-upload-check with the losers' checksums settles those
 * it names, under their own id, as trashed; the rest (all under -G) are
 * read with GET /assets/{id}.  A loser that is not is given status 0,
 * *code and a message in res.
 */
static void
confirm(const char **ids, const char **sums, struct bulk_res *res,
    const char **code, size_t n)
{
	cJSON *body, *items, *it, *o = NULL, *r, *rs = NULL, *a;
	char key[32], *msg, *end;
	unsigned char *done = xcalloc(n ? n : 1, 1);
	unsigned long k;
	size_t i;
	int kind;

	if (!Gflag) {
		body = cJSON_CreateObject();
		items = cJSON_AddArrayToObject(body, "assets");
		for (i = 0; i < n; i++) {
			if (res[i].status < 200 || res[i].status > 299)
				continue;
			it = cJSON_CreateObject();
			snprintf(key, sizeof(key), "c%zu", i);
			cJSON_AddStringToObject(it, "id", key);
			cJSON_AddStringToObject(it, "checksum", sums[i]);
			cJSON_AddItemToArray(items, it);
		}
		if (cJSON_GetArraySize(items) > 0)
			o = upload_check(body, &rs);
		else
			cJSON_Delete(body);
		if (o != NULL)
			cJSON_ArrayForEach(r, rs) {
				const char *id = rec_str(r, "id");
				const char *aid = rec_str(r, "assetId");

				if (id == NULL || id[0] != 'c' ||
				    aid == NULL || !is_true(r, "isTrashed"))
					continue;
				k = strtoul(id + 1, &end, 10);
				if (*end == '\0' && k < n &&
				    strcmp(aid, ids[k]) == 0)
					done[k] = 1;
			}
		cJSON_Delete(o);
	}
	for (i = 0; i < n; i++) {
		if (done[i] || res[i].status < 200 || res[i].status > 299)
			continue;
		kind = get_asset(ids[i], &a, &msg);
		if (kind > 0 && !is_true(a, "isTrashed")) {
			code[i] = "not-trashed";
			res[i].msg = xasprintf("DELETE /api/assets answered "
			    "HTTP %ld, but the asset is not in the trash "
			    "(GET /api/assets/%s: isTrashed false)",
			    res[i].status, ids[i]);
			res[i].status = 0;
		} else if (kind < 0) {
			res[i].msg = xasprintf("DELETE /api/assets answered "
			    "HTTP %ld, but whether the asset is in the trash "
			    "is unknown (%s): run again to see", res[i].status,
			    msg);
			res[i].status = 0;
		}
		cJSON_Delete(a);
		free(msg);
	}
	free(done);
}

/* Check the batch on the server, delete it, then write the records. */
static void
flush(void)
{
	struct ndjson_in at = in;
	struct bulk_res *res;
	const char **ids, **sums, **code;
	cJSON *extra, *e;
	size_t i, j, n, nd = 0;

	/* A loser that is the keeper of a record (this one's or another's,
	 * in this batch or an earlier one) stays. */
	for (i = 0; i < ncand; i++) {
		const char *g = keeper_of(cands[i].id);
		if (g == NULL)
			continue;
		hold(&pends[cands[i].pend], cands[i].id, "is-keeper", "it is "
		    "the keeper of group %s", g);
		cands[i].state = -1;
	}
	bulk_check();
	if (nflag)
		dry_keepers();
	for (i = 0; i < ncand; i++)
		if (cands[i].state == 0 && !(nflag && dry_trashed(&cands[i])))
			check_loser(pends[cands[i].pend].rec,
			    &pends[cands[i].pend], &cands[i]);
	res = xcalloc(ncand ? ncand : 1, sizeof(*res));
	ids = xcalloc(ncand ? ncand : 1, sizeof(*ids));
	sums = xcalloc(ncand ? ncand : 1, sizeof(*sums));
	code = xcalloc(ncand ? ncand : 1, sizeof(*code));
	for (i = 0; i < ncand; i++)
		if (cands[i].state == 2) {
			sums[nd] = cands[i].sum;
			ids[nd] = cands[i].id;
			res[nd++].status = 204;
		}
	/* What a dry run would trash is trashed for its later batches. */
	for (i = 0; nflag && i < nd; i++)
		set_add(&gone, ids[i], "");
	if (!nflag && nd > 0) {
		extra = cJSON_CreateObject();
		cJSON_AddBoolToObject(extra, "force", Fflag);
		for (i = 0; i < nd; i += n) {
			n = nd - i < (size_t)batch ? nd - i : (size_t)batch;
			bulk_ids_once("DELETE", "/assets", extra, ids + i, n,
			    res + i, deleted);
		}
		cJSON_Delete(extra);
		confirm(ids, sums, res, code, nd);
	}
	for (i = 0, j = 0; i < ncand; i++) {
		struct pend *p = &pends[cands[i].pend];

		if (cands[i].state != 2) {
			free(cands[i].id);
			continue;
		}
		if (res[j].status >= 200 && res[j].status <= 299) {
			e = cJSON_CreateObject();
			cJSON_AddTrueToObject(e, "ok");
			if (nflag)
				cJSON_AddTrueToObject(e, "dryRun");
			else if (Fflag)
				cJSON_AddTrueToObject(e, "force");
			if (cands[i].cskip)
				cJSON_AddTrueToObject(e, "consolidationSkipped");
			rec_set(p->trashed, cands[i].id, e);
			ntrashed++;
		} else {
			at.lineno = p->lineno;
			e = cJSON_CreateObject();
			cJSON_AddFalseToObject(e, "ok");
			cJSON_AddStringToObject(e, "held",
			    code[j] ? code[j] : "error");
			cJSON_AddStringToObject(e, "detail", res[j].msg);
			rec_set(p->trashed, cands[i].id, e);
			rec_error(p->rec, &at, cands[i].id, "%s", res[j].msg);
			if (!p->failed)
				prog.held++;
			p->failed = 1;
			nheld++;
		}
		free(res[j].msg);
		free(cands[i].id);
		j++;
	}
	free(res);
	free(ids);
	free(sums);
	free(code);
	ncand = 0;
	for (j = 0; j < npend; j++) {
		ndjson_emit(pends[j].rec);
		if (pends[j].failed) {
			prog.failed++;
			status = EX_SOME;
		}
		cJSON_Delete(pends[j].rec);
		free(pends[j].kdetail);
		cJSON_Delete(pends[j].kpeople);
		progress_tick();
	}
	npend = 0;
}

/* GET path, a JSON object; exits on failure. */
static cJSON *
get_server(const char *path)
{
	struct http_resp r;
	cJSON *f = NULL;

	memset(&r, 0, sizeof(r));
	if (http_json("GET", path, NULL, &r) != 0)
		errx(EX_FATAL, "GET /api%s: no reply: %s", path, r.msg);
	if (r.status != 200 || (f = cJSON_ParseWithLength(r.body,
	    r.len)) == NULL || !cJSON_IsObject(f))
		errx(EX_FATAL, "GET /api%s: HTTP %ld: %s", path, r.status,
		    r.status == 200 ? "unreadable reply" : r.msg);
	http_free(&r);
	return f;
}

/*
 * One immich-trash at a time per server user: a loser here may be the
 * keeper of a record another run is about to trash, and each run checks
 * the keepers on the server just before it deletes.  Keyed on the user's
 * id (GET /users/me), so that two runs meet however the URL is written;
 * a key without user.read stops here (http.c quotes the server).
 */
static void
lock_user(void)
{
	cJSON *me = get_server("/users/me");
	const char *id = rec_str(me, "id");

	if (id == NULL || !valid_uuid(id))
		errx(EX_FATAL, "GET /api/users/me: no user id in the reply");
	rl_exclusive("trash", id, "waiting for another immich-trash of this "
	    "user on this server to finish");
	cJSON_Delete(me);
}

/*
 * Trash must be on, and keep things for at least a day (trashDays 0
 * empties it at once), unless permanent deletion was asked for.
 */
static void
check_features(void)
{
	cJSON *f, *t, *c;
	const char *why = NULL;

	f = get_server("/server/features");
	t = obj_get(f, "trash");
	if (!cJSON_IsBool(t))
		errx(EX_FATAL, "GET /api/server/features: no \"trash\" in the "
		    "reply");
	if (cJSON_IsFalse(t))
		why = "the server's trash is disabled";
	cJSON_Delete(f);
	c = get_server("/server/config");
	t = obj_get(c, "trashDays");
	if (!cJSON_IsNumber(t))
		errx(EX_FATAL, "GET /api/server/config: no \"trashDays\" in "
		    "the reply");
	if (why == NULL && t->valuedouble < 1)
		why = "the server keeps trashed assets for 0 days";
	cJSON_Delete(c);
	if (why && !Fflag) {
		if (!nflag)
			errx(EX_USAGE, "%s: Immich would delete the losers for "
			    "good at its next nightly clean-up; enable the "
			    "trash (and keep it for a day or more) in the "
			    "server settings, or use -F to delete "
			    "permanently", why);
		warnx("%s: without -n this run would refuse (use -F to "
		    "delete permanently)", why);
	}
}

int
main(int argc, char *argv[])
{
	cJSON *rec;
	char extra[256];
	long long v;
	int ch, rv;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((ch = getopt(argc, argv, "a:b:CFGnqV")) != -1) {
		switch (ch) {
		case 'V':
			print_version();
		case 'a':
			parse_accept(optarg);
			break;
		case 'b':
			if ((v = parse_num(optarg)) < 1 || v > 10000)
				errx(EX_USAGE, "-b: batch size must be 1 to "
				    "10000: %s", optarg);
			batch = v;
			break;
		case 'C':
			Cflag = 1;
			break;
		case 'F':
			Fflag = 1;
			break;
		case 'G':
			Gflag = 1;
			break;
		case 'n':
			nflag = 1;
			break;
		case 'q':
			qflag = 1;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();

	http_init();
	if (!nflag)
		lock_user();
	progress_init(qflag);
	check_features();
	ndjson_open(&in, stdin, "stdin");
	while ((rv = ndjson_next(&in, &rec)) != 0) {
		if (rv < 0) {
			status = EX_SOME;
			prog.failed++;
			continue;
		}
		prog.records++;
		check_record(rec);
		if (ncand >= (size_t)batch || npend >= (size_t)batch)
			flush();
		progress_tick();
	}
	flush();
	ndjson_close(&in);
	ndjson_finish();
	snprintf(extra, sizeof(extra), "%s%ld %s, %ld already in the trash, "
	    "%ld held back, %ld backups hashed again", nflag ? "dry run: " : "",
	    ntrashed, nflag ? "would go" : Fflag ? "deleted" : "trashed",
	    nalready, nheld, nrehash);
	progress_end(http_requests(), extra);
	return status;
}
