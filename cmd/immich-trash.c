/* SPDX-License-Identifier: ISC */
/*
 * immich-trash: move each group's losers to Immich's trash, but only a
 * loser that passes every precondition: backed up and verified (its
 * live-photo video too) with the file still on disk, the group's
 * consolidation confirmed, no unresolved review flag, not the keeper,
 * and, re-read from the server just before: the keeper there and not
 * trashed, the loser's checksum the one backed up.  Losers already in
 * the trash are reported and not deleted again.  Deletes in batches
 * (DELETE /assets, force false), isolating ids the server refuses.
 * Adds "trashed" to each record.
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
#include "common/http.h"
#include "common/ndjson.h"
#include "common/progress.h"
#include "common/util.h"

static int nflag, qflag, Cflag, Fflag;
static long batch = 250;
static char **accept_codes;
static size_t naccept;

/* A record waiting for its batch of deletes. */
struct pend {
	cJSON	*rec;
	cJSON	*trashed;	/* the record's "trashed" (owned by rec) */
	size_t	 lineno;
	int	 failed;
};

/* A loser that passed every check, to be deleted with the batch. */
struct cand {
	char	*id;
	size_t	 pend;		/* index into pends */
	int	 cskip;		/* consolidation skipped (-C) */
};

static struct pend *pends;
static size_t npend, pendcap;
static struct cand *cands;
static size_t ncand, candcap;
static struct ndjson_in in;
static long ntrashed, nalready, nheld;
static int status = EX_DONE;

static void
usage(void)
{
	fprintf(stderr, "usage: immich-trash [-CFnq] [-a code,...] "
	    "[-b batch]\n");
	exit(EX_USAGE);
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

static int
is_true(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(obj_get(o, key));
}

static void
hold(cJSON *trashed, const char *id, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
hold(cJSON *trashed, const char *id, const char *code, const char *fmt, ...)
{
	cJSON *e = cJSON_CreateObject();
	va_list ap;
	char *d;

	va_start(ap, fmt);
	if (vasprintf(&d, fmt, ap) < 0)
		errx(EX_FATAL, "out of memory");
	va_end(ap);
	cJSON_AddFalseToObject(e, "ok");
	cJSON_AddStringToObject(e, "held", code);
	cJSON_AddStringToObject(e, "detail", d);
	rec_set(trashed, id, e);
	if (!qflag)
		warnx("%s:%zu: asset %s: held back (%s): %s", in.name,
		    in.lineno, id, code, d);
	free(d);
	nheld++;
}

/* The group's unresolved review codes, comma-separated; NULL if none. */
static char *
unresolved_review(const cJSON *rec)
{
	const cJSON *rv = obj_get(rec, "review"), *f;
	char *s = NULL, *t;

	if (rv == NULL || cJSON_IsNull(rv))
		return NULL;
	if (!cJSON_IsArray(rv))
		return xstrdup("(malformed review list)");
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
 * not.  Accepts {"confirmed": ...} or the same keyed by the keeper's id.
 */
static const char *
consolidation(const cJSON *rec, const char *keep)
{
	const cJSON *c = obj_get(rec, "consolidated"), *k;

	if (!cJSON_IsObject(c))
		return "no consolidation in the record (run immich-consolidate)";
	if (obj_get(c, "confirmed") == NULL && keep &&
	    cJSON_IsObject(k = obj_get(c, keep)))
		c = k;
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
	const char *path, *bsum, *vsha;
	struct stat st;

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
	vsha = rec_str(v, "sha1");
	if (vsha == NULL)
		vsha = rec_str(b, "sha1");
	if (bsum == NULL) {
		*detail = xasprintf("%sno server checksum in the record", what);
		return "not-verified";
	}
	if (!is_true(v, "sizeOnly") && (vsha == NULL ||
	    strcmp(vsha, bsum) != 0)) {
		*detail = xasprintf("%sverified SHA-1 %s is not the server's "
		    "checksum %s", what, vsha ? vsha : "(none)", bsum);
		return "not-verified";
	}
	if (cJSON_IsNumber(obj_get(v, "bytes")) &&
	    obj_get(v, "bytes")->valuedouble != bytes->valuedouble) {
		*detail = xasprintf("%sverified size differs from the backup's",
		    what);
		return "not-verified";
	}
	if (stat(path, &st) == -1) {
		*detail = xasprintf("%s%s: %s", what, path, strerror(errno));
		return "file-missing";
	}
	if (!S_ISREG(st.st_mode) || (double)st.st_size != bytes->valuedouble) {
		*detail = xasprintf("%s%s: %lld bytes on disk, %.0f backed up",
		    what, path, (long long)st.st_size, bytes->valuedouble);
		return "file-missing";
	}
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

static void
add_cand(const char *id, size_t p, int cskip)
{
	if (ncand == candcap) {
		candcap = candcap ? candcap * 2 : 64;
		cands = xrealloc(cands, candcap * sizeof(*cands));
	}
	cands[ncand].id = xstrdup(id);
	cands[ncand].pend = p;
	cands[ncand].cskip = cskip;
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

/* Check every loser of one record; queue the ones that may go. */
static void
check_record(cJSON *rec)
{
	const cJSON *trash = obj_get(rec, "trash"), *t;
	const char *keep = rec_str(rec, "keep"), *cwhy, *code;
	cJSON *trashed = cJSON_CreateObject(), *ka = NULL, *la;
	char *review, *detail, *msg;
	size_t p = npend;
	int keeper_state = 0;	/* 0 unread, 1 fine, -1 held */
	const char *kcode = NULL;
	char *kdetail = NULL;
	int kind, cskip;

	if (npend == pendcap) {
		pendcap = pendcap ? pendcap * 2 : 64;
		pends = xrealloc(pends, pendcap * sizeof(*pends));
	}
	pends[p].rec = rec;
	pends[p].lineno = in.lineno;
	pends[p].failed = 0;
	npend++;
	rec_set(rec, "trashed", trashed);
	pends[p].trashed = trashed;

	if (!cJSON_IsArray(trash)) {
		rec_error(rec, &in, NULL, "no \"trash\" list in the record");
		pends[p].failed = 1;
		return;
	}
	review = unresolved_review(rec);
	cwhy = consolidation(rec, keep);
	cskip = cwhy && Cflag;

	cJSON_ArrayForEach(t, trash) {
		const char *id = cJSON_GetStringValue(t), *vid, *sum = NULL;

		if (id == NULL || !valid_uuid(id)) {
			rec_error(rec, &in, id, "\"trash\" holds something "
			    "that is not an asset id");
			pends[p].failed = 1;
			continue;
		}
		if (listed(trash, id, t))
			continue;
		prog.assets++;
		if (keep == NULL || !valid_uuid(keep)) {
			hold(trashed, id, "no-keeper", "the record names no "
			    "keeper");
			continue;
		}
		if (strcmp(id, keep) == 0) {
			hold(trashed, id, "is-keeper", "this is the keeper");
			continue;
		}
		if (listed(trash, keep, NULL)) {
			hold(trashed, id, "is-keeper", "the keeper %s is in "
			    "the trash list too: the group would be emptied",
			    keep);
			continue;
		}
		if (review) {
			hold(trashed, id, "review", "unresolved review flags: "
			    "%s", review);
			continue;
		}
		if (cwhy && !Cflag) {
			hold(trashed, id, "not-consolidated", "%s", cwhy);
			continue;
		}
		if ((code = check_backup(rec, id, "", &detail, &sum))) {
			hold(trashed, id, code, "%s", detail);
			free(detail);
			continue;
		}
		if ((vid = video_of(rec, id)) != NULL) {
			char *what = xasprintf("live-photo video %s: ", vid);
			code = check_backup(rec, vid, what, &detail, NULL);
			free(what);
			if (code) {
				hold(trashed, id, code, "%s", detail);
				free(detail);
				continue;
			}
		}

		/* Now what the server says: the keeper first, once. */
		if (keeper_state == 0) {
			kind = get_asset(keep, &ka, &msg);
			keeper_state = -1;
			if (kind == 0) {
				kcode = "keeper-missing";
				kdetail = xasprintf("the keeper %s is no longer "
				    "on the server (%s)", keep, msg);
			} else if (kind < 0) {
				kcode = "error";
				kdetail = xasprintf("keeper %s: %s", keep, msg);
			} else if (is_true(ka, "isTrashed")) {
				kcode = "keeper-trashed";
				kdetail = xasprintf("the keeper %s is in the "
				    "trash", keep);
			} else
				keeper_state = 1;
			free(msg);
			cJSON_Delete(ka);
		}
		if (keeper_state < 0) {
			hold(trashed, id, kcode, "%s", kdetail);
			continue;
		}
		kind = get_asset(id, &la, &msg);
		if (kind <= 0) {
			hold(trashed, id, kind == 0 ? "loser-missing" :
			    "error", "%s", msg);
			free(msg);
			continue;
		}
		if (is_true(la, "isTrashed")) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddTrueToObject(e, "ok");
			cJSON_AddTrueToObject(e, "alreadyTrashed");
			rec_set(trashed, id, e);
			nalready++;
			cJSON_Delete(la);
			continue;
		}
		if (rec_str(la, "checksum") == NULL ||
		    strcmp(rec_str(la, "checksum"), sum) != 0) {
			hold(trashed, id, "checksum-changed", "the server's "
			    "checksum is now %s, the backup is of %s",
			    rec_str(la, "checksum") ? rec_str(la, "checksum")
			    : "(none)", sum);
			cJSON_Delete(la);
			continue;
		}
		/* A live-photo video linked since the backup was made. */
		vid = rec_str(la, "livePhotoVideoId");
		if (vid && (code = check_backup(rec, vid, "live-photo video: ",
		    &detail, NULL))) {
			hold(trashed, id, code, "%s (linked on the server)",
			    detail);
			free(detail);
			cJSON_Delete(la);
			continue;
		}
		cJSON_Delete(la);
		add_cand(id, p, cskip);
	}
	/* Any loser held back fails the record. */
	cJSON_ArrayForEach(t, trashed)
		if (!is_true(t, "ok"))
			pends[p].failed = 1;
	free(review);
	free(kdetail);
}

/* Delete the queued losers, then write the queued records in order. */
static void
flush(void)
{
	struct ndjson_in at = in;
	struct bulk_res *res;
	const char **ids;
	cJSON *extra, *e;
	size_t i, j, n;

	res = xcalloc(ncand ? ncand : 1, sizeof(*res));
	ids = xcalloc(ncand ? ncand : 1, sizeof(*ids));
	for (i = 0; i < ncand; i++) {
		ids[i] = cands[i].id;
		res[i].status = 204;
	}
	if (!nflag && ncand > 0) {
		extra = cJSON_CreateObject();
		cJSON_AddBoolToObject(extra, "force", Fflag);
		for (i = 0; i < ncand; i += n) {
			n = ncand - i < (size_t)batch ? ncand - i :
			    (size_t)batch;
			bulk_ids("DELETE", "/assets", extra, ids + i, n,
			    res + i);
		}
		cJSON_Delete(extra);
	}
	for (i = 0; i < ncand; i++) {
		struct pend *p = &pends[cands[i].pend];

		if (res[i].status >= 200 && res[i].status <= 299) {
			e = cJSON_CreateObject();
			cJSON_AddTrueToObject(e, "ok");
			if (nflag)
				cJSON_AddTrueToObject(e, "dryRun");
			else if (Fflag)
				cJSON_AddTrueToObject(e, "force");
			if (cands[i].cskip)
				cJSON_AddTrueToObject(e, "consolidationSkipped");
			rec_set(p->trashed, cands[i].id, e);
			if (!nflag)
				ntrashed++;
		} else {
			at.lineno = p->lineno;
			e = cJSON_CreateObject();
			cJSON_AddFalseToObject(e, "ok");
			cJSON_AddStringToObject(e, "held", "error");
			cJSON_AddStringToObject(e, "detail", res[i].msg);
			rec_set(p->trashed, cands[i].id, e);
			rec_error(p->rec, &at, cands[i].id, "%s", res[i].msg);
			p->failed = 1;
			nheld++;
		}
		free(res[i].msg);
		free(cands[i].id);
	}
	free(res);
	free(ids);
	ncand = 0;
	for (j = 0; j < npend; j++) {
		ndjson_emit(pends[j].rec);
		if (pends[j].failed) {
			prog.failed++;
			status = EX_SOME;
		}
		cJSON_Delete(pends[j].rec);
		progress_tick();
	}
	npend = 0;
}

/* Trash must be on, unless permanent deletion was asked for. */
static void
check_features(void)
{
	struct http_resp r;
	cJSON *f = NULL, *t;

	memset(&r, 0, sizeof(r));
	if (http_json("GET", "/server/features", NULL, &r) != 0)
		errx(EX_FATAL, "GET /api/server/features: no reply: %s", r.msg);
	if (r.status != 200 || (f = cJSON_ParseWithLength(r.body,
	    r.len)) == NULL)
		errx(EX_FATAL, "GET /api/server/features: HTTP %ld: %s",
		    r.status, r.status == 200 ? "unreadable reply" : r.msg);
	http_free(&r);
	t = obj_get(f, "trash");
	if (!cJSON_IsBool(t))
		errx(EX_FATAL, "GET /api/server/features: no \"trash\" in the "
		    "reply");
	if (cJSON_IsFalse(t) && !Fflag) {
		if (!nflag)
			errx(EX_USAGE, "the server's trash is disabled: Immich "
			    "would delete the losers for good at its next "
			    "nightly clean-up; enable the trash in the server "
			    "settings, or use -F to delete permanently");
		warnx("the server's trash is disabled: without -n this run "
		    "would refuse (use -F to delete permanently)");
	}
	cJSON_Delete(f);
}

int
main(int argc, char *argv[])
{
	cJSON *rec;
	char extra[128];
	long long v;
	int ch, rv;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((ch = getopt(argc, argv, "a:b:CFnq")) != -1) {
		switch (ch) {
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
	snprintf(extra, sizeof(extra), "%ld %s, %ld already in the trash, "
	    "%ld held back", ntrashed, Fflag ? "deleted" : "trashed",
	    nalready, nheld);
	progress_end(http_requests(), nflag ? "dry run" : extra);
	return status;
}
