/* SPDX-License-Identifier: ISC */
/*
 * immich-dismiss: Immich's "Keep all" answer to a duplicate group: takes
 * each group it reads off Immich's duplicate list, touching no asset
 * (DELETE /duplicates {ids}, the bulk request of the web page's global
 * "Keep all": the server sets every member's duplicateId to null and
 * changes nothing else).  Adds "dismissed": {duplicateId, assets,
 * confirmed}.
 *
 * Groups go in batches (-b).  The server refuses a whole batch (400) when
 * one group is unknown to it (no member outside the trash carries the
 * id: dismissed already, or never the user's): the batch is split in
 * halves until the refused groups are alone (common/bulk.c), and the
 * others are dismissed.  Then each member of each group is read back
 * (GET /assets/{id}): the group is confirmed when no member carries its
 * duplicateId any more.  A refused group whose members carry it no
 * more was dismissed before (an earlier run killed before it wrote its
 * record): it is confirmed, marked "found", and not dismissed again.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/api.h"
#include "common/bulk.h"
#include "common/env.h"
#include "common/http.h"
#include "common/ndjson.h"
#include "common/progress.h"
#include "common/stage.h"
#include "common/util.h"

static long batch = 250, ndismissed, nfound;
static int anyfailed;

/* A record waiting for its batch. */
struct pend {
	cJSON	*rec;
	size_t	 lineno;
	const char *gid;	/* its duplicateId (owned by rec); NULL: the
				 * record is passed on as it is */
	int	 failed;
};

static struct pend *pends;
static size_t npend;

static void
emit_all(void)
{
	size_t i;

	for (i = 0; i < npend; i++) {
		ndjson_emit(pends[i].rec);
		cJSON_Delete(pends[i].rec);
	}
	npend = 0;
}

/*
 * After a read: still no answer, or only 429/502/503/504, after every
 * retry: the next groups would fare no better: record it, pass the
 * batch on, stop (EX_FATAL).  Any other failure is recorded.  0 when rv
 * was 0.
 */
static int
settle(struct pend *p, const char *asset, int rv, struct api_err *e)
{
	struct ndjson_in at = { .name = "stdin", .lineno = p->lineno };

	if (rv < 0 && (e->status == 0 || e->status == 429 ||
	    e->status >= 502)) {
		rec_error(p->rec, &at, asset, "%s", e->msg);
		emit_all();
		ndjson_finish();
		progress_end(http_requests(), NULL);
		errx(EX_FATAL, "%.*s: server unreachable, stopping",
		    (int)strcspn(e->msg, ":"), e->msg);
	}
	if (rv != 0 && e->msg)
		rec_error(p->rec, &at, asset, "%s", e->msg);
	api_err_free(e);
	return rv == 0 ? 0 : -1;
}

static void
result(struct pend *p, int confirmed, int found)
{
	const cJSON *a;
	cJSON *d = cJSON_CreateObject(), *ids;

	cJSON_AddStringToObject(d, "duplicateId", p->gid);
	ids = cJSON_AddArrayToObject(d, "assets");
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(p->rec,
	    "assets"))
		cJSON_AddItemToArray(ids, cJSON_CreateString(rec_str(a,
		    "id")));
	if (stage_nflag)
		cJSON_AddTrueToObject(d, "dryRun");
	if (found)
		cJSON_AddTrueToObject(d, "found");
	cJSON_AddBoolToObject(d, "confirmed", confirmed);
	rec_set(p->rec, "dismissed", d);
}

/*
 * Read every member back: 1 when none carries the group's id any more,
 * 0 when one still does (said on the record when say), -1 on an error.
 * A member no longer on the server is not in any list.
 */
static int
gone(struct pend *p, int say)
{
	struct ndjson_in at = { .name = "stdin", .lineno = p->lineno };
	const cJSON *a;
	const char *id, *d;
	struct api_err e;
	cJSON *x;
	int rv;

	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(p->rec,
	    "assets")) {
		id = rec_str(a, "id");
		rv = api_asset(id, &x, &e);
		if (rv == 0) {
			api_err_free(&e);
			continue;
		}
		if (settle(p, id, rv == 1 ? 0 : -1, &e) < 0)
			return -1;
		d = rec_str(x, "duplicateId");
		rv = d && strcmp(d, p->gid) == 0;
		cJSON_Delete(x);
		if (rv) {
			if (say)
				rec_error(p->rec, &at, id, "still carries "
				    "duplicateId %s after DELETE %s/duplicates",
				    p->gid, api_prefix());
			return 0;
		}
	}
	return 1;
}

static void
flush(void)
{
	struct ndjson_in at = { .name = "stdin" };
	const char **ids;
	struct bulk_res *res;
	size_t i, n = 0;
	int rv;

	ids = xcalloc(npend + 1, sizeof(*ids));
	res = xcalloc(npend + 1, sizeof(*res));
	for (i = 0; i < npend; i++)
		if (pends[i].gid && !pends[i].failed)
			ids[n++] = pends[i].gid;
	if (n > 0 && !stage_nflag)
		bulk_ids("DELETE", "/duplicates", NULL, ids, n, res);
	n = 0;
	for (i = 0; i < npend; i++) {
		struct pend *p = &pends[i];
		struct bulk_res *r;

		if (p->gid == NULL || p->failed)
			continue;
		r = &res[n++];
		at.lineno = p->lineno;
		if (stage_nflag) {
			result(p, 0, 0);
			continue;
		}
		if (r->status >= 200 && r->status <= 299) {
			if ((rv = gone(p, 1)) == 1)
				ndismissed++;
			result(p, rv == 1, 0);
			p->failed = rv != 1;
			continue;
		}
		if (r->status == 0 || r->status == 429 || r->status >= 502) {
			struct api_err e = { r->status, r->msg };

			r->msg = NULL;
			settle(p, NULL, -1, &e);
		}
		/* Refused: dismissed already, or not a group of the user. */
		if (r->status == 400 && (rv = gone(p, 0)) == 1) {
			nfound++;
			result(p, 1, 1);
			continue;
		}
		if (r->msg)
			rec_error(p->rec, &at, NULL, "%s%s", r->msg,
			    r->status == 400 ? " (no member outside the "
			    "trash carries this duplicateId)" : "");
		result(p, 0, 0);
		p->failed = 1;
	}
	/* ndjson_loop counted none of them failed: count them here. */
	for (i = 0; i < npend; i++)
		if (pends[i].failed) {
			prog.failed++;
			anyfailed = 1;
		}
	for (i = 0; i < n; i++)
		free(res[i].msg);
	free(res);
	free(ids);
	emit_all();
}

/*
 * Whether the record says its group got another answer: stacked
 * (immich-stack), or a loser trashed (immich-trash).  Dismissing it then
 * would clear the duplicateId that brings the group back when the stack
 * or the trash is undone.
 */
static const char *
answered(const cJSON *rec)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(rec, "stacked");
	const cJSON *t;

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "confirmed")) &&
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "dryRun")))
		return "stacked";
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(rec,
	    "trashed"))
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "ok")) &&
		    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t,
		    "dryRun")))
			return "resolved (a loser trashed)";
	return NULL;
}

/* A record into the batch; its checks made. */
static int
add(cJSON *rec, const struct ndjson_in *in, void *arg)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(rec, "dismissed");
	const cJSON *assets = cJSON_GetObjectItemCaseSensitive(rec, "assets");
	const cJSON *a;
	const char *other;
	struct pend *p;

	(void)arg;
	pends[npend].rec = rec;
	pends[npend].lineno = in->lineno;
	pends[npend].gid = NULL;
	pends[npend].failed = 0;
	p = &pends[npend++];
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "confirmed")) &&
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "dryRun")))
		;	/* dismissed by an earlier run */
	else if (!valid_uuid(rec_str(rec, "duplicateId"))) {
		rec_error(rec, in, NULL, "no valid \"duplicateId\" (a "
		    "lower-case UUID); not a duplicate group record");
		p->failed = 1;
	} else if ((other = answered(rec)) != NULL) {
		rec_error(rec, in, NULL, "the group was %s already: not "
		    "dismissed (one answer per group)", other);
		p->failed = 1;
	} else if (!cJSON_IsArray(assets) || cJSON_GetArraySize(assets) == 0) {
		rec_error(rec, in, NULL, "no \"assets\" list: the group's "
		    "members cannot be checked");
		p->failed = 1;
	} else {
		p->gid = rec_str(rec, "duplicateId");
		cJSON_ArrayForEach(a, assets)
			if (!valid_uuid(rec_str(a, "id"))) {
				rec_error(rec, in, NULL, "\"assets\" holds a "
				    "member without a valid id");
				p->failed = 1;
				break;
			}
		if (!p->failed)
			prog.assets += cJSON_GetArraySize(assets);
	}
	if (npend == (size_t)batch)
		flush();
	return 0;
}

int
main(int argc, char *argv[])
{
	int status;

	/* -b is the only option stage_getopt returns. */
	while (stage_getopt(argc, argv, "b:nqV", "[-nqV] [-b size]") != -1)
		batch = stage_batch(optarg, "groups");
	if (optind != argc)
		stage_usage();
	http_init();
	pends = xcalloc(batch, sizeof(*pends));
	status = stage_loop(add, NULL);
	if (npend > 0)
		flush();
	if (anyfailed)
		status = EX_SOME;
	stage_end(http_requests(), "%ld dismissed, %ld found dismissed%s",
	    ndismissed, nfound, stage_nflag ? ", dry run" : "");
	return status;
}
