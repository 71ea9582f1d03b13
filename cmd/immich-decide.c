/* SPDX-License-Identifier: ISC */
/*
 * immich-decide: applies the decisions a person made on the review page
 * (immich-review(1), exported as decisions.ndjson) to the plan on stdin.
 * A decided group gets its keeper and losers as chosen, "why": "decided",
 * its review codes computed again for that keeper, and a "decision" key
 * ({action, keep, accept}) that the later stages read: immich-consolidate
 * and immich-trash take decision.accept as if given with -a for that
 * record; only "resolve" is trashed, "stack" is for immich-stack,
 * "dismiss" for immich-dismiss.  A decision made on a group that has
 * changed since (other members, other checksums, other review codes) is
 * refused for that group.  No network: it works offline.
 */

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/asset.h"
#include "common/ndjson.h"
#include "common/progress.h"
#include "common/review.h"
#include "common/stage.h"
#include "common/util.h"

struct dec {
	const char	*did;		/* duplicateId */
	const char	*action;	/* resolve, stack, dismiss, skip */
	const char	*keep;		/* NULL: none */
	const cJSON	*accept;	/* [codes] */
	const cJSON	*assets;	/* [{id, checksum}] */
	cJSON		*line;		/* the decision, owned */
	size_t		 lineno;
	int		 used;
};

static struct dec *decs;
static size_t ndecs;
static const char *dfile;
static long napplied, nrefused, nskipped;

static int
is_action(const char *a)
{
	return a && (strcmp(a, "resolve") == 0 || strcmp(a, "stack") == 0 ||
	    strcmp(a, "dismiss") == 0 || strcmp(a, "skip") == 0);
}

/* Why decision line d is not one, or NULL. */
static const char *
bad_decision(const cJSON *d)
{
	const cJSON *k = rec_get(d, "keep"), *x;
	const char *a = rec_str(d, "action");

	if (!cJSON_IsObject(d))
		return "not a JSON object";
	if (rec_str(d, "duplicateId") == NULL)
		return "no \"duplicateId\"";
	if (!is_action(a))
		return "\"action\" is not one of resolve, stack, dismiss, skip";
	if (k && !cJSON_IsNull(k) && !valid_uuid(rec_str(d, "keep")))
		return "\"keep\" is not an asset id (a lower-case UUID)";
	if ((k == NULL || cJSON_IsNull(k)) && (strcmp(a, "resolve") == 0 ||
	    strcmp(a, "stack") == 0))
		return "no \"keep\": resolve and stack need a keeper";
	if (!cJSON_IsArray(rec_get(d, "accept")))
		return "\"accept\" is not a list of review codes";
	cJSON_ArrayForEach(x, rec_get(d, "accept"))
		if (!cJSON_IsString(x))
			return "\"accept\" holds something that is not a code";
	if (!cJSON_IsArray(rec_get(d, "assets")) ||
	    cJSON_GetArraySize(rec_get(d, "assets")) == 0)
		return "\"assets\" is not a list of the group's assets";
	cJSON_ArrayForEach(x, rec_get(d, "assets"))
		if (!valid_uuid(rec_str(x, "id")) ||
		    rec_str(x, "checksum") == NULL)
			return "\"assets\" holds an entry without \"id\" (a "
			    "lower-case UUID) and \"checksum\"";
	return NULL;
}

static int
by_did(const void *x, const void *y)
{
	const struct dec *a = x, *b = y;
	int c = strcmp(a->did, b->did);

	return c ? c : (a->lineno > b->lineno) - (a->lineno < b->lineno);
}

/* Reads the decisions file; a bad line is named and left out: 1, else 0. */
static int
read_decisions(const char *path)
{
	struct ndjson_in in;
	FILE *fp;
	cJSON *d;
	const char *why;
	size_t i, j, cap = 0;
	int r, bad = 0;

	if ((fp = fopen(path, "r")) == NULL)
		err(EX_USAGE, "%s", path);
	ndjson_open(&in, fp, path);
	while ((r = ndjson_next(&in, &d)) != 0) {
		if (r < 0) {
			bad = 1;
			continue;
		}
		if ((why = bad_decision(d)) != NULL) {
			warnx("%s:%zu: not a decision: %s; left out", path,
			    in.lineno, why);
			cJSON_Delete(d);
			bad = 1;
			continue;
		}
		if (ndecs == cap)
			decs = xrealloc(decs, (cap = cap ? 2 * cap : 64) *
			    sizeof(*decs));
		decs[ndecs].line = d;
		decs[ndecs].did = rec_str(d, "duplicateId");
		decs[ndecs].action = rec_str(d, "action");
		decs[ndecs].keep = rec_str(d, "keep");
		decs[ndecs].accept = rec_get(d, "accept");
		decs[ndecs].assets = rec_get(d, "assets");
		decs[ndecs].lineno = in.lineno;
		decs[ndecs].used = 0;
		ndecs++;
	}
	ndjson_close(&in);
	if (ferror(fp))
		err(EX_USAGE, "%s", path);
	fclose(fp);
	if (ndecs)
		qsort(decs, ndecs, sizeof(*decs), by_did);
	/* Two decisions for one group: neither is applied. */
	for (i = 0; i < ndecs; i = j) {
		for (j = i + 1; j < ndecs && strcmp(decs[i].did,
		    decs[j].did) == 0; j++) {
			/* The id as the file has it, control characters
			 * shown (the file is a download). */
			char *vis = xstrvis(decs[i].did);

			warnx("%s:%zu: a second decision for group %s (the "
			    "first is on line %zu): neither is applied", path,
			    decs[j].lineno, vis, decs[i].lineno);
			free(vis);
			decs[j].used = decs[i].used = -1;
			bad = 1;
		}
	}
	return bad;
}

static int
by_did_only(const void *x, const void *y)
{
	return strcmp(((const struct dec *)x)->did,
	    ((const struct dec *)y)->did);
}

/* The decision for group did (any of them when there are two: those
 * are all marked unusable). */
static struct dec *
find(const char *did)
{
	struct dec key = { 0 };

	if (did == NULL || ndecs == 0)
		return NULL;
	key.did = did;
	return bsearch(&key, decs, ndecs, sizeof(*decs), by_did_only);
}

/* Whether the review list (objects with a code) flags code. */
static int
review_has(const cJSON *review, const char *code)
{
	const cJSON *x;
	const char *c;

	cJSON_ArrayForEach(x, review)
		if ((c = rec_str(x, "code")) && code && strcmp(c, code) == 0)
			return 1;
	return 0;
}

/*
 * Whether the group of rec is still the group the page showed: the same
 * members with the same checksums, the same review codes.  NULL, or why
 * not (malloc'd).
 */
static char *
stale(const cJSON *rec, const struct dec *d)
{
	const cJSON *assets = rec_get(rec, "assets"), *a, *x;
	const cJSON *review = rec_get(rec, "review");
	const char *id, *sum, *c;
	int n = 0;

	cJSON_ArrayForEach(x, d->assets) {
		id = rec_str(x, "id");
		if ((a = rec_asset(rec, id)) == NULL)
			return xasprintf("asset %s was on the page but is not "
			    "in the group now", id);
		sum = asset_checksum(a);
		if (sum == NULL || strcmp(sum, rec_str(x, "checksum")) != 0)
			return xasprintf("asset %s has checksum %s now, %s on "
			    "the page", id, sum ? sum : "(none)",
			    rec_str(x, "checksum"));
	}
	cJSON_ArrayForEach(a, assets) {
		if (!cJSON_IsObject(a))
			continue;
		n++;
		id = rec_str(a, "id");
		if (!rec_has_id(d->assets, id))
			return xasprintf("asset %s is in the group now but was "
			    "not on the page", id ? id : "(no id)");
	}
	if (n != cJSON_GetArraySize(d->assets))
		return xasprintf("the group has %d assets now, the page "
		    "showed %d", n, cJSON_GetArraySize(d->assets));
	if (review && !cJSON_IsNull(review) && !cJSON_IsArray(review))
		return xstrdup("the record's \"review\" is not a list");
	cJSON_ArrayForEach(x, review) {
		c = rec_str(x, "code");
		if (c == NULL || !rec_has_str(d->accept, c))
			return xasprintf("review code %s was not on the "
			    "screen when the decision was made", c ? c :
			    "(none)");
	}
	cJSON_ArrayForEach(x, d->accept)
		if (!review_has(review, x->valuestring))
			return xasprintf("review code %s was on the screen but "
			    "is not flagged now", x->valuestring);
	if (d->keep && rec_asset(rec, d->keep) == NULL)
		return xasprintf("the keeper %s is not one of the group's "
		    "assets", d->keep);
	return NULL;
}

/* The record's group with keeper keep: keep, trash, why, review. */
static void
set_keeper(cJSON *rec, const char *keep, int keep_all)
{
	const cJSON *assets = rec_get(rec, "assets"), *x;
	cJSON **a, *trash = cJSON_CreateArray(), *review;
	int n = 0, k = -1, cap = cJSON_GetArraySize(assets);
	const char *id;

	a = xcalloc(cap + 1, sizeof(*a));
	cJSON_ArrayForEach(x, assets) {
		if (!cJSON_IsObject(x) || n >= cap)
			continue;
		id = rec_str(x, "id");
		if (k < 0 && id && keep && strcmp(id, keep) == 0)
			k = n;
		else if (id && !keep_all)
			cJSON_AddItemToArray(trash, cJSON_CreateString(id));
		a[n++] = (cJSON *)x;
	}
	rec_set(rec, "keep", keep ? cJSON_CreateString(keep) :
	    cJSON_CreateNull());
	rec_set(rec, "trash", trash);
	rec_set(rec, "why", cJSON_CreateString("decided"));
	if (k >= 0) {
		review = cJSON_CreateArray();
		review_group(review, a, n, k);
		rec_set(rec, "review", review);
	}
	free(a);
}

/*
 * One plan record against its decision.  Over 80 lines on purpose: the
 * refusals (stale group, codes not shown) and the answer applied read
 * in the order a person would check them, each a few lines.
 */
static int
decide_record(cJSON *rec, const struct ndjson_in *in)
{
	const cJSON *old = rec_get(rec, "decision"), *x;
	struct dec *d;
	cJSON *dec, *acc, *nw;
	const char *keep, *pkeep = rec_str(rec, "keep"), *c;
	char *why, *news = NULL;
	int rv = 0;

	d = find(rec_str(rec, "duplicateId"));
	if (d == NULL || d->used < 0 || strcmp(d->action, "skip") == 0) {
		if (d && d->used >= 0) {
			d->used = 1;
			nskipped++;
		}
		goto out;
	}
	d->used = 1;
	/* Applied already (immich-decide run twice). */
	if (cJSON_IsObject(old) && rec_str(old, "action") &&
	    strcmp(rec_str(old, "action"), d->action) == 0 &&
	    ((d->keep == NULL && rec_str(old, "keep") == NULL) ||
	    (d->keep && rec_str(old, "keep") &&
	    strcmp(d->keep, rec_str(old, "keep")) == 0)))
		goto out;
	if ((why = stale(rec, d)) != NULL) {
		rec_error(rec, in, NULL, "decision (%s:%zu) refused: the group "
		    "changed since the page was made: %s; make the page "
		    "again and decide again", dfile, d->lineno, why);
		free(why);
		nrefused++;
		rv = -1;
		goto out;
	}
	keep = d->keep ? d->keep : pkeep;
	if (keep && rec_asset(rec, keep) == NULL)
		keep = NULL;
	if (keep == NULL || pkeep == NULL || strcmp(keep, pkeep) != 0 ||
	    strcmp(d->action, "dismiss") == 0) {
		/* keep may point into rec's "keep": copy it first. */
		char *k = keep ? xstrdup(keep) : NULL;

		set_keeper(rec, k, strcmp(d->action, "dismiss") == 0);
		free(k);
	} else
		rec_set(rec, "why", cJSON_CreateString("decided"));
	/* Accepted: the codes on the screen that the review still finds
	 * (with another keeper some may be gone); a code it finds now that
	 * was not on the screen is not accepted. */
	dec = cJSON_CreateObject();
	cJSON_AddStringToObject(dec, "action", d->action);
	if (rec_str(rec, "keep"))
		cJSON_AddStringToObject(dec, "keep", rec_str(rec, "keep"));
	else
		cJSON_AddNullToObject(dec, "keep");
	acc = cJSON_AddArrayToObject(dec, "accept");
	nw = cJSON_CreateArray();
	cJSON_ArrayForEach(x, rec_get(rec, "review")) {
		if ((c = rec_str(x, "code")) == NULL)
			continue;
		if (rec_has_str(d->accept, c)) {
			if (!rec_has_str(acc, c))
				cJSON_AddItemToArray(acc,
				    cJSON_CreateString(c));
		} else if (!rec_has_str(nw, c)) {
			cJSON_AddItemToArray(nw, cJSON_CreateString(c));
			xappend(&news, ", ", c);
		}
	}
	rec_set(rec, "decision", dec);
	napplied++;
	if (news) {
		rec_error(rec, in, NULL, "decision (%s:%zu): with the keeper "
		    "chosen (%s) the review finds %s, not on the screen when "
		    "the decision was made: not accepted, the group stays "
		    "held for review (make the page again to see %s)", dfile,
		    d->lineno, rec_str(rec, "keep"), news,
		    cJSON_GetArraySize(nw) == 1 ? "it" : "them");
		free(news);
		rv = -1;
	}
	cJSON_Delete(nw);
out:
	return rv;
}

int
main(int argc, char *argv[])
{
	size_t i;
	long unused = 0;
	int status, bad;

	while (stage_getopt(argc, argv, "qV", "[-qV] decisions") != -1)
		continue;	/* all its options are stage_getopt's */
	if (optind != argc - 1)
		stage_usage();
	dfile = argv[optind];
	bad = read_decisions(dfile);
	status = stage_filter(decide_record);
	for (i = 0; i < ndecs; i++)
		unused += decs[i].used == 0;
	if (unused)
		warnx("%s: %ld decision%s for groups not in the plan: not "
		    "applied", dfile, unused, unused == 1 ? "" : "s");
	stage_end(0, "%ld decided, %ld skipped, %ld refused", napplied,
	    nskipped, nrefused);
	for (i = 0; i < ndecs; i++)
		cJSON_Delete(decs[i].line);
	free(decs);
	return bad && status == EX_DONE ? EX_SOME : status;
}
