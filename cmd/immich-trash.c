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
 * off or kept for 0 days, unless -F.  Deletes in batches (DELETE
 * /assets, force false), isolating ids the server refuses, then confirms
 * that the losers are in the trash (one bulk checksum check per batch).
 * Adds "trashed" to each record.  Under -n, what earlier batches would
 * have trashed counts as trashed.  The checks made from the record alone,
 * and the comparisons with what the server says, are common/precond.c.
 */
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/api.h"
#include "common/asset.h"
#include "common/bulk.h"
#include "common/http.h"
#include "common/idset.h"
#include "common/merge.h"
#include "common/ndjson.h"
#include "common/precond.h"
#include "common/progress.h"
#include "common/ratelimit.h"
#include "common/review.h"
#include "common/util.h"

static int nflag, qflag, Cflag, Fflag, Gflag;
static long batch = 250;
static struct codes accept;	/* -a */

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

/*
 * kset: every keeper seen in this run, with the group that keeps it: a
 * loser that is some record's keeper is never deleted (two records may
 * name each other's keeper as a loser).  gone: under -n, every loser
 * this dry run would have trashed, so that later batches see it trashed
 * as the real run would.
 */
static struct idset *kset, *gone;

static long ntrashed, nalready, nheld;
static int status = EX_DONE;

static void
usage(void)
{
	fprintf(stderr, "usage: immich-trash [-CFGnqV] [-a code,...] "
	    "[-b batch]\n");
	exit(EX_USAGE);
}

static void	flush(void);

static int
is_true(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(rec_get(o, key));
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
	d = xvasprintf(fmt, ap);
	va_end(ap);
	cJSON_AddFalseToObject(e, "ok");
	cJSON_AddStringToObject(e, "held", code);
	cJSON_AddStringToObject(e, "detail", d);
	rec_set(p->trashed, id, e);
	if (!p->failed)
		prog.held++;
	p->failed = 1;
	v = xstrvis(d);
	warnx("stdin:%zu: asset %s: held back (%s): %s", p->lineno,
	    id, code, v);
	free(v);
	free(d);
	nheld++;
}

/*
 * After a DELETE whose outcome is unknown: is id in the trash already
 * (purged too, under -F)?  Sending it again would restart its 30-day clock.
 */
static int
deleted(const char *id)
{
	struct api_err e;
	cJSON *a;
	int kind = api_asset(id, &a, &e), rv;

	rv = kind > 0 ? is_true(a, "isTrashed") : kind == 0 && Fflag;
	cJSON_Delete(a);
	api_err_free(&e);
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

/* A new pend for rec, which it owns from now on. */
static struct pend *
new_pend(cJSON *rec, size_t lineno)
{
	struct pend *pp;

	if (npend == pendcap) {
		pendcap = pendcap ? pendcap * 2 : 64;
		pends = xrealloc(pends, pendcap * sizeof(*pends));
	}
	pp = &pends[npend++];
	memset(pp, 0, sizeof(*pp));
	pp->rec = rec;
	pp->lineno = lineno;
	pp->keep = rec_str(rec, "keep");
	pp->trashed = cJSON_CreateObject();
	rec_set(rec, "trashed", pp->trashed);
	return pp;
}

/*
 * Check every loser of one record against the record itself (precond.h:
 * backup, verification, file, consolidation, review, keeper) and queue
 * the ones that pass for the server checks and the delete, made with the
 * batch.  The record is emitted with its batch.
 */
static int
check_record(cJSON *rec, const struct ndjson_in *in, void *arg)
{
	struct pend *pp = new_pend(rec, in->lineno);
	const char *dup = rec_str(rec, "duplicateId"), *code, *sum;
	const cJSON *t;
	struct pc_group g;
	char *detail, *group;
	int cskip;

	(void)arg;
	pc_group(&g, rec, (const char *const *)accept.v, accept.n);
	if (!cJSON_IsArray(g.trash)) {
		rec_error(rec, in, NULL, "no \"trash\" list in the record");
		pp->failed = 1;
		goto out;
	}
	/* Any id a record names as its keeper is never deleted in this
	 * run. */
	if (valid_uuid(g.keep)) {
		group = xasprintf("%s (line %zu)", dup ? dup : "(no "
		    "duplicateId)", in->lineno);
		idset_put(kset, g.keep, group);
		free(group);
	}
	cJSON_ArrayForEach(t, g.trash) {
		const char *id = cJSON_GetStringValue(t);

		if (id == NULL || !valid_uuid(id)) {
			rec_error(rec, in, id, "\"trash\" holds something "
			    "that is not an asset id (a lower-case UUID)");
			pp->failed = 1;
			continue;
		}
		if (pc_listed(g.trash, id, t))
			continue;
		prog.assets++;
		if ((code = pc_loser(&g, rec, id, Cflag, &detail, &sum,
		    &cskip)) != NULL)
			hold(pp, id, code, "%s", detail);
		else
			add_cand(id, sum, npend - 1, cskip,
			    rec_get(g.calb, id), !cskip && g.calb != NULL);
		free(detail);
	}
out:
	pc_group_free(&g);
	if (ncand >= (size_t)batch || npend >= (size_t)batch)
		flush();
	return 0;
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
	const char **sums;
	struct bulk_sum *out;
	size_t i;

	if (Gflag || ncand == 0)
		return;
	sums = xcalloc(npend, sizeof(*sums));
	out = xcalloc(npend, sizeof(*out));
	for (i = 0; i < ncand; i++) {
		struct pend *p = &pends[cands[i].pend];
		sums[cands[i].pend] = asset_checksum(rec_asset(p->rec,
		    p->keep));
	}
	if (bulk_checksums(sums, npend, 'k', out, qflag) == 0)
		for (i = 0; i < npend; i++)
			if (out[i].reject && out[i].trashed == 0 &&
			    pends[i].keep &&
			    strcmp(out[i].asset, pends[i].keep) == 0)
				pends[i].kstate = 1;
	free(sums);
	free(out);
}

/* Keep the keeper's people (an empty list when it shows none). */
static void
keep_people(struct pend *p, const cJSON *ka)
{
	const cJSON *kp = rec_get(ka, "people");

	cJSON_Delete(p->kpeople);
	p->kpeople = cJSON_IsArray(kp) ? cJSON_Duplicate(kp, 1) :
	    cJSON_CreateArray();
}

/* The keeper of p, read from the server unless already known. */
static void
check_keeper(struct pend *p)
{
	struct api_err e;
	cJSON *ka;
	int kind;

	if (p->kstate != 0)
		return;
	kind = api_asset(p->keep, &ka, &e);
	p->kstate = -1;
	if (kind == 0) {
		p->kcode = "keeper-missing";
		p->kdetail = xasprintf("the keeper %s is no longer on the "
		    "server (%s)", p->keep, e.msg);
	} else if (kind < 0) {
		p->kcode = "error";
		p->kdetail = xasprintf("keeper %s: %s", p->keep, e.msg);
	} else if (is_true(ka, "isTrashed")) {
		p->kcode = "keeper-trashed";
		p->kdetail = xasprintf("the keeper %s is in the trash",
		    p->keep);
	} else {
		p->kstate = 1;
		keep_people(p, ka);
	}
	api_err_free(&e);
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
	struct api_err e;
	cJSON *ka;

	*detail = NULL;
	if (!pc_named(rec_get(la, "people")) || codes_has(&accept, "people") ||
	    decision_accepts(p->rec, "people"))
		return NULL;
	if (p->kpeople == NULL) {
		if (api_asset(p->keep, &ka, &e) != 1) {
			*detail = xasprintf("keeper %s: %s", p->keep, e.msg);
			api_err_free(&e);
			return "error";
		}
		keep_people(p, ka);
		cJSON_Delete(ka);
	}
	return pc_people(rec_get(la, "people"), p->kpeople, p->keep, detail);
}

/*
 * The loser's albums now (GET /albums?assetId=) against those
 * consolidation saw (and gave the keeper): NULL when it is in no other,
 * else the held code with *detail set.
 */
static const char *
new_album(const struct cand *c, char **detail)
{
	struct api_err e;
	const char *code;
	cJSON *now;

	if ((now = api_albums_of(c->id, &e)) == NULL) {
		*detail = e.msg;
		return "error";
	}
	code = pc_new_album(now, c->albums, detail);
	cJSON_Delete(now);
	return code;
}

/* The server checks of one loser: sets c->state to 2 (delete) or -1. */
static void
check_loser(cJSON *rec, struct pend *p, struct cand *c)
{
	struct api_err err;
	cJSON *la, *e;
	const char *vid, *code, *sum;
	char *detail, why[256];
	int kind;

	check_keeper(p);
	c->state = -1;
	if (p->kstate < 0) {
		hold(p, c->id, p->kcode, "%s", p->kdetail);
		return;
	}
	kind = api_asset(c->id, &la, &err);
	if (kind <= 0) {
		hold(p, c->id, kind == 0 ? "loser-missing" : "error", "%s",
		    err.msg);
		api_err_free(&err);
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
	sum = asset_checksum(la);
	if (sum == NULL || strcmp(sum, c->sum) != 0) {
		hold(p, c->id, "checksum-changed", "the server's checksum is "
		    "now %s, the backup is of %s", sum ? sum : "(none)",
		    c->sum);
		cJSON_Delete(la);
		return;
	}
	/* A live-photo video linked since the backup was made. */
	vid = asset_video(la);
	if (vid && (code = pc_backup(rec, vid, "live-photo video: ",
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
		    !idset_has(gone, p->keep))
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

	if (!idset_has(gone, c->id))
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
	const char **ask = xcalloc(n ? n : 1, sizeof(*ask));
	struct bulk_sum *out = xcalloc(n ? n : 1, sizeof(*out));
	unsigned char *done = xcalloc(n ? n : 1, 1);
	const char *pre = api_prefix();
	struct api_err e;
	size_t i, nask = 0;
	cJSON *a;
	int kind;

	for (i = 0; !Gflag && i < n; i++)
		if (res[i].status >= 200 && res[i].status <= 299) {
			ask[i] = sums[i];
			nask++;
		}
	if (nask > 0 && bulk_checksums(ask, n, 'c', out, qflag) == 0)
		for (i = 0; i < n; i++)
			done[i] = out[i].trashed == 1 &&
			    strcmp(out[i].asset, ids[i]) == 0;
	for (i = 0; i < n; i++) {
		if (done[i] || res[i].status < 200 || res[i].status > 299)
			continue;
		kind = api_asset(ids[i], &a, &e);
		if (kind > 0 && !is_true(a, "isTrashed")) {
			code[i] = "not-trashed";
			res[i].msg = xasprintf("DELETE %s/assets answered "
			    "HTTP %ld, but the asset is not in the trash "
			    "(GET %s/assets/%s: isTrashed false)", pre,
			    res[i].status, pre, ids[i]);
			res[i].status = 0;
		} else if (kind < 0) {
			res[i].msg = xasprintf("DELETE %s/assets answered "
			    "HTTP %ld, but whether the asset is in the trash "
			    "is unknown (%s): run again to see", pre,
			    res[i].status, e.msg);
			res[i].status = 0;
		}
		cJSON_Delete(a);
		api_err_free(&e);
	}
	free(ask);
	free(out);
	free(done);
}

/* The server checks of the batch: each loser to check ends in state 2
 * (to delete) or -1 (held, or already in the trash). */
static void
check_batch(void)
{
	const char *g;
	size_t i;

	/* A loser that is the keeper of a record (this one's or another's,
	 * in this batch or an earlier one) stays. */
	for (i = 0; i < ncand; i++) {
		if ((g = idset_get(kset, cands[i].id)) == NULL)
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
}

/* Record what became of loser c: r is its DELETE's result, confirmed,
 * and code the held code when it is not in the trash. */
static void
outcome(const struct cand *c, const struct bulk_res *r, const char *code)
{
	struct pend *p = &pends[c->pend];
	struct ndjson_in at = { .name = "stdin", .lineno = p->lineno };
	cJSON *e = cJSON_CreateObject();

	if (r->status >= 200 && r->status <= 299) {
		cJSON_AddTrueToObject(e, "ok");
		if (nflag)
			cJSON_AddTrueToObject(e, "dryRun");
		else if (Fflag)
			cJSON_AddTrueToObject(e, "force");
		if (c->cskip)
			cJSON_AddTrueToObject(e, "consolidationSkipped");
		rec_set(p->trashed, c->id, e);
		ntrashed++;
		return;
	}
	cJSON_AddFalseToObject(e, "ok");
	cJSON_AddStringToObject(e, "held", code ? code : "error");
	cJSON_AddStringToObject(e, "detail", r->msg);
	rec_set(p->trashed, c->id, e);
	rec_error(p->rec, &at, c->id, "%s", r->msg);
	if (!p->failed)
		prog.held++;
	p->failed = 1;
	nheld++;
}

/* Write the batch's records, and count the failed ones. */
static void
emit_batch(void)
{
	size_t j;

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

/* Check the batch on the server, delete it, then write the records. */
static void
flush(void)
{
	size_t sz = ncand ? ncand : 1, i, j, n, nd = 0;
	struct bulk_res *res = xcalloc(sz, sizeof(*res));
	const char **ids = xcalloc(sz, sizeof(*ids));
	const char **sums = xcalloc(sz, sizeof(*sums));
	const char **code = xcalloc(sz, sizeof(*code));
	cJSON *extra;

	check_batch();
	for (i = 0; i < ncand; i++)
		if (cands[i].state == 2) {
			sums[nd] = cands[i].sum;
			ids[nd] = cands[i].id;
			res[nd++].status = 204;
		}
	/* What a dry run would trash is trashed for its later batches. */
	for (i = 0; nflag && i < nd; i++)
		idset_put(gone, ids[i], NULL);
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
		if (cands[i].state == 2) {
			outcome(&cands[i], &res[j], code[j]);
			free(res[j++].msg);
		}
		free(cands[i].id);
	}
	free(res);
	free(ids);
	free(sums);
	free(code);
	ncand = 0;
	emit_batch();
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
	cJSON *me = api_server("/users/me");
	const char *id = rec_str(me, "id");

	if (id == NULL || !valid_uuid(id))
		errx(EX_FATAL, "GET %s/users/me: no user id in the reply",
		    api_prefix());
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

	f = api_server("/server/features");
	t = rec_get(f, "trash");
	if (!cJSON_IsBool(t))
		errx(EX_FATAL, "GET %s/server/features: no \"trash\" in the "
		    "reply", api_prefix());
	if (cJSON_IsFalse(t))
		why = "the server's trash is disabled";
	cJSON_Delete(f);
	c = api_server("/server/config");
	t = rec_get(c, "trashDays");
	if (!cJSON_IsNumber(t))
		errx(EX_FATAL, "GET %s/server/config: no \"trashDays\" in "
		    "the reply", api_prefix());
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
	char extra[256];
	long long v;
	int ch;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((ch = getopt(argc, argv, "a:b:CFGnqV")) != -1) {
		switch (ch) {
		case 'a':
			codes_add(&accept, optarg);
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
		default:
			if (!std_option(ch, &qflag))
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
	kset = idset_new();
	gone = idset_new();
	if (ndjson_loop(stdin, "stdin", check_record, NULL) != EX_DONE)
		status = EX_SOME;
	flush();
	ndjson_finish();
	snprintf(extra, sizeof(extra), "%s%ld %s, %ld already in the trash, "
	    "%ld held back, %ld backups hashed again", nflag ? "dry run: " : "",
	    ntrashed, nflag ? "would go" : Fflag ? "deleted" : "trashed",
	    nalready, nheld, pc_rehashed());
	progress_end(http_requests(), extra);
	return status;
}
