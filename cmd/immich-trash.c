/* SPDX-License-Identifier: ISC */
/*
 * immich-trash: move each group's losers to Immich's trash, but only a
 * loser that passes every precondition: backed up and verified (its
 * live-photo video too) with the file still on disk, the group's
 * consolidation confirmed and made for this keeper and loser, no
 * unresolved review flag, keeper and loser members of the group, the
 * loser not the keeper of any record seen in this run, and, asked of
 * the server just before, in bulk (one GET /duplicates per batch, the
 * albums' and named people's members; common/batchread.c): the
 * keeper there and not trashed (a bulk checksum check, then
 * GET /assets/{id}, for one GET /duplicates does not list), and each
 * loser still with the checksum that was backed up, none of the
 * metadata consolidation moves changed since the plan was made, not
 * edited, showing no named person the keeper does not, and in no album
 * consolidation did not see.  Losers already in the trash are
 * reported and not deleted again.  Refuses when the server's trash is
 * off or kept for 0 days, unless -F.  Deletes in batches (DELETE
 * /assets, force false), isolating ids the server refuses, then confirms
 * that the losers are in the trash (one bulk checksum check per batch,
 * common/bulk.c).
 * Adds "trashed" to each record.  Under -n, what earlier batches would
 * have trashed counts as trashed.  The checks made from the record alone,
 * and the comparisons with what the server says, are common/precond.c.
 * Which request proves which precondition: immich(7), Request economy.
 */
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/api.h"
#include "common/asset.h"
#include "common/batchread.h"
#include "common/bulk.h"
#include "common/durable.h"
#include "common/http.h"
#include "common/idset.h"
#include "common/ndjson.h"
#include "common/precond.h"
#include "common/progress.h"
#include "common/ratelimit.h"
#include "common/review.h"
#include "common/stage.h"
#include "common/util.h"

static int Cflag, Fflag, Gflag;
static long batch = 250;
static struct codes accept;	/* -a */

/* A record waiting for its batch of deletes. */
struct pend {
	cJSON	*rec;
	cJSON	*trashed;	/* the record's "trashed" (owned by rec) */
	size_t	 lineno;
	int	 failed;
	struct br_keeper k;	/* its keeper (id owned by rec) on the
				 * server */
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

static void	flush(void);

static int
is_true(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(rec_get(o, key));
}

static void
hold(struct pend *p, const char *id, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Loser id stays: {ok: false, held: code, detail} and the counts. */
static void
held(struct pend *p, const char *id, const char *code, const char *detail)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddFalseToObject(e, "ok");
	cJSON_AddStringToObject(e, "held", code);
	cJSON_AddStringToObject(e, "detail", detail);
	rec_set(p->trashed, id, e);
	if (!p->failed)
		prog.held++;
	p->failed = 1;
	nheld++;
}

/* held(), and a warning. */
static void
hold(struct pend *p, const char *id, const char *code, const char *fmt, ...)
{
	va_list ap;
	char *d, *v;

	va_start(ap, fmt);
	d = xvasprintf(fmt, ap);
	va_end(ap);
	held(p, id, code, d);
	v = xstrvis(d);
	warnx("stdin:%zu: asset %s: held back (%s): %s", p->lineno,
	    id, code, v);
	free(v);
	free(d);
}

/* id found in the trash before this run deleted it (dry: an earlier
 * batch of this dry run would have trashed it). */
static void
already(struct pend *p, const char *id, int dry)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddTrueToObject(e, "ok");
	cJSON_AddTrueToObject(e, "alreadyTrashed");
	if (dry)
		cJSON_AddTrueToObject(e, "dryRun");
	rec_set(p->trashed, id, e);
	nalready++;
}

/* After a DELETE whose outcome is unknown: is id in the trash already? */
static int
deleted(const char *id)
{
	return bulk_trashed(id, Fflag);
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
	pp->k.id = rec_str(rec, "keep");
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

/* The keepers GET /duplicates did not list: one bulk checksum check
 * (not under -G), then each is read (br_keeper) if still unsettled. */
static void
bulk_check(void)
{
	struct br_keeper **ks;
	const char **sums;
	size_t i, n = 0;

	if (Gflag || ncand == 0)
		return;
	ks = xcalloc(ncand, sizeof(*ks));
	sums = xcalloc(ncand, sizeof(*sums));
	for (i = 0; i < ncand; i++) {
		struct pend *p = &pends[cands[i].pend];
		if (p->k.state != 0 || cands[i].state != 0)
			continue;
		ks[n] = &p->k;
		sums[n++] = asset_checksum(rec_asset(p->rec, p->k.id));
	}
	br_keepers_bulk(ks, sums, n, stage_quiet);
	free(ks);
	free(sums);
}

/* The server checks of one loser: sets c->state to 2 (delete) or -1. */
static void
check_loser(cJSON *rec, struct pend *p, struct cand *c)
{
	struct api_err err;
	cJSON *la;
	const char *code;
	char *detail;
	int kind, listed;

	br_keeper(&p->k);
	c->state = -1;
	if (p->k.state < 0) {
		hold(p, c->id, p->k.code, "%s", p->k.detail);
		return;
	}
	/* Listed in GET /duplicates: there, not trashed, as it is now. */
	if ((listed = (la = cJSON_Duplicate(br_listed(c->id), 1)) != NULL))
		kind = 1;
	else
		kind = api_asset(c->id, &la, &err);
	if (kind <= 0) {
		hold(p, c->id, kind == 0 ? "loser-missing" : "error", "%s",
		    err.msg);
		api_err_free(&err);
		return;
	}
	if (is_true(la, "isTrashed")) {
		already(p, c->id, 0);
		cJSON_Delete(la);
		return;
	}
	/* Checksum, live-photo video, metadata: as backed up and planned;
	 * the named people and the albums as consolidation saw them. */
	code = pc_fresh(rec, c->id, la, c->sum, &detail);
	if (code == NULL && !codes_has(&accept, "people") &&
	    !decision_accepts(rec, "people"))
		code = br_people(&p->k, c->id, la, listed, &detail);
	if (code == NULL && c->achk)
		code = br_new_album(c->id, c->albums, &detail);
	cJSON_Delete(la);
	if (code) {
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
		if (cands[i].state != 0 || p->k.state < 0 ||
		    !idset_has(gone, p->k.id))
			continue;
		p->k.state = -1;
		p->k.code = "keeper-trashed";
		free(p->k.detail);
		p->k.detail = xasprintf("the keeper %s would be in the trash "
		    "(this dry run trashed it in an earlier batch)", p->k.id);
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

	if (!idset_has(gone, c->id))
		return 0;
	br_keeper(&p->k);
	c->state = -1;
	if (p->k.state < 0) {
		hold(p, c->id, p->k.code, "%s", p->k.detail);
		return 1;
	}
	already(p, c->id, 1);
	return 1;
}

/* The batch's losers to check and their keepers, read in bulk. */
static void
read_server(void)
{
	struct idset *want = idset_new();
	size_t i, n = 0;
	int albums = 0;

	for (i = 0; i < ncand; i++) {
		if (cands[i].state != 0)
			continue;
		idset_put(want, cands[i].id, NULL);
		idset_put(want, pends[cands[i].pend].k.id, NULL);
		albums |= cands[i].achk;
		n++;
	}
	br_read(want, n, albums, !codes_has(&accept, "people"), stage_quiet);
	idset_free(want);
	for (i = 0; i < npend; i++)
		if (pends[i].k.state == 0 && br_listed(pends[i].k.id))
			pends[i].k.state = 1;
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
	read_server();
	bulk_check();
	if (stage_nflag)
		dry_keepers();
	for (i = 0; i < ncand; i++)
		if (cands[i].state == 0 && !(stage_nflag && dry_trashed(&cands[i])))
			check_loser(pends[cands[i].pend].rec,
			    &pends[cands[i].pend], &cands[i]);
	br_done();
}

/* Record what became of loser c: r is its DELETE's result, confirmed,
 * and code the held code when it is not in the trash. */
static void
outcome(const struct cand *c, const struct bulk_res *r, const char *code)
{
	struct pend *p = &pends[c->pend];
	struct ndjson_in at = { .name = "stdin", .lineno = p->lineno };
	cJSON *e;

	if (r->status < 200 || r->status > 299) {
		held(p, c->id, code ? code : "error", r->msg);
		rec_error(p->rec, &at, c->id, "%s", r->msg);
		return;
	}
	e = cJSON_CreateObject();
	cJSON_AddTrueToObject(e, "ok");
	if (stage_nflag)
		cJSON_AddTrueToObject(e, "dryRun");
	else if (Fflag)
		cJSON_AddTrueToObject(e, "force");
	if (c->cskip)
		cJSON_AddTrueToObject(e, "consolidationSkipped");
	rec_set(p->trashed, c->id, e);
	ntrashed++;
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
		br_keeper_free(&pends[j].k);
		progress_tick();
	}
	npend = 0;
}

/*
 * DESIGN §4.1: every backup the batch's DELETE relies on is on disk
 * before it is sent.  immich-fetch leaves that to a barrier (durable.h):
 * this one, for the files of the losers about to be deleted.
 */
static void
sync_backups(void)
{
	struct durable *d = durable_new();
	size_t i;

	for (i = 0; i < ncand; i++)
		if (cands[i].state == 2)
			durable_add_backup(d, pends[cands[i].pend].rec,
			    cands[i].id);
	durable_sync(d, "trash");
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
	for (i = 0; stage_nflag && i < nd; i++)
		idset_put(gone, ids[i], NULL);
	if (!stage_nflag && nd > 0) {
		sync_backups();
		extra = cJSON_CreateObject();
		cJSON_AddBoolToObject(extra, "force", Fflag);
		for (i = 0; i < nd; i += n) {
			n = nd - i < (size_t)batch ? nd - i : (size_t)batch;
			bulk_ids_once("DELETE", "/assets", extra, ids + i, n,
			    res + i, deleted);
		}
		cJSON_Delete(extra);
		bulk_confirm_trashed(ids, sums, res, code, nd, Gflag, stage_quiet);
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
	rl_exclusive("trash", api_user_id(), "waiting for another "
	    "immich-trash of this user on this server to finish");
}

/*
 * Trash must be on, and keep things for at least a day (trashDays 0
 * empties it at once), unless permanent deletion was asked for.
 */
static void
check_features(void)
{
	const char *why = api_trash_unsafe();

	if (why == NULL || Fflag)
		return;
	if (!stage_nflag)
		errx(EX_USAGE, "%s: Immich would delete the losers for good at "
		    "its next nightly clean-up; enable the trash (and keep it "
		    "for a day or more) in the server settings, or use -F to "
		    "delete permanently", why);
	warnx("%s: without -n this run would refuse (use -F to delete "
	    "permanently)", why);
}

int
main(int argc, char *argv[])
{
	int ch;

	while ((ch = stage_getopt(argc, argv, "a:b:CFGnqV",
	    "[-CFGnqV] [-a code,...] [-b batch]")) != -1) {
		switch (ch) {
		case 'a':
			codes_add(&accept, optarg);
			break;
		case 'b':
			batch = stage_batch(optarg, "losers");
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
		}
	}
	if (argc != optind)
		stage_usage();

	http_init();
	if (!stage_nflag)
		lock_user();
	progress_init(stage_quiet);
	check_features();
	kset = idset_new();
	gone = idset_new();
	if (ndjson_loop(stdin, "stdin", check_record, NULL) != EX_DONE)
		status = EX_SOME;
	flush();
	stage_end(http_requests(), "%s%ld %s, %ld already in the trash, "
	    "%ld held back, %ld backups hashed again", stage_nflag ? "dry run: " : "",
	    ntrashed, stage_nflag ? "would go" : Fflag ? "deleted" : "trashed",
	    nalready, nheld, pc_rehashed());
	return status;
}
