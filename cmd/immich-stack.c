/* SPDX-License-Identifier: ISC */
/*
 * immich-stack: Immich's "Stack" answer to a duplicate group.  Stacks
 * each group it reads, the keeper as the primary (POST /stacks, the
 * keeper first, then the losers of "trash"), after immich-consolidate
 * confirmed that the keeper carries the group's metadata; trashes
 * nothing.  Adds "stacked": {id, primary, assets, confirmed}.
 *
 * It works from what the server says now: the keeper (GET /assets/{keep})
 * and each loser (GET /assets/{id}) are read first; a member in the trash,
 * gone, or in another stack is not stacked.  A keeper that is already the
 * primary of a stack holding exactly the group (an earlier run, killed
 * before it wrote its record) is recognised (GET /stacks/{id}) and not
 * stacked again.  POST /stacks is sent once (never repeated on an unclear
 * outcome: the server would merge the first stack into a second one);
 * when its reply is lost, GET /stacks?primaryAssetId= says whether it was
 * made.  The stack is confirmed from the server's reply (the stack as
 * the server stored it: primary and members).  Immich keeps the members'
 * duplicateId: stacked assets are left out of its duplicate list, and the
 * group is back in it if the stack is ever deleted (immich-restore).
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/api.h"
#include "common/env.h"
#include "common/http.h"
#include "common/ndjson.h"
#include "common/progress.h"
#include "common/reccall.h"
#include "common/stage.h"
#include "common/util.h"

static long nstacked, nfound;
static const struct ndjson_in *cur;

/*
 * Whether the stack s (StackResponseDto) is exactly the group: its
 * primary the keeper, its members (those not in the trash) the n ids.
 * 1 yes; 0 no, with why set.
 */
static int
same_stack(const cJSON *s, const char *const *ids, int n, const char **why)
{
	const cJSON *a, *members = cJSON_GetObjectItemCaseSensitive(s,
	    "assets");
	int i;

	*why = NULL;
	if (!valid_uuid(rec_str(s, "id")) || !cJSON_IsArray(members)) {
		*why = "the reply is not a stack";
		return 0;
	}
	if (rec_str(s, "primaryAssetId") == NULL ||
	    strcmp(rec_str(s, "primaryAssetId"), ids[0]) != 0) {
		*why = "its primary is another asset";
		return 0;
	}
	cJSON_ArrayForEach(a, members) {
		for (i = 0; i < n; i++)
			if (rec_str(a, "id") && strcmp(rec_str(a, "id"),
			    ids[i]) == 0)
				break;
		if (i == n) {
			*why = "it holds an asset that is not of the group";
			return 0;
		}
	}
	for (i = 0; i < n; i++)
		if (!rec_has_id(members, ids[i])) {
			*why = "a member of the group is not in it";
			return 0;
		}
	return 1;
}

static void
result(cJSON *rec, const char *id, const char *const *ids, int n,
    int confirmed, int found)
{
	cJSON *s = cJSON_CreateObject();

	if (id)
		cJSON_AddStringToObject(s, "id", id);
	cJSON_AddStringToObject(s, "primary", ids[0]);
	cJSON_AddItemToObject(s, "assets", cJSON_CreateStringArray(ids, n));
	if (stage_nflag)
		cJSON_AddTrueToObject(s, "dryRun");
	if (found)
		cJSON_AddTrueToObject(s, "found");
	cJSON_AddBoolToObject(s, "confirmed", confirmed);
	rec_set(rec, "stacked", s);
}

static void
skipped(cJSON *rec, const char *why)
{
	cJSON *s = cJSON_CreateObject();

	cJSON_AddStringToObject(s, "skipped", why);
	rec_set(rec, "stacked", s);
}

/*
 * The plan's group: keep and trash, both among the group's assets.
 * Fills ids (keeper first, each loser once); 0, or -1 (said on the
 * record).
 */
static int
plan_ids(cJSON *rec, const char **ids, int *n)
{
	const cJSON *trash, *t;
	const char *keep;
	int i;

	keep = rec_str(rec, "keep");
	trash = cJSON_GetObjectItemCaseSensitive(rec, "trash");
	if (!valid_uuid(keep) || !cJSON_IsArray(trash)) {
		rec_error(rec, cur, NULL, "no valid \"keep\" id (a lower-case "
		    "UUID) and \"trash\" list; not a plan record");
		return -1;
	}
	if (rec_asset(rec, keep) == NULL) {
		rec_error(rec, cur, keep, "the keeper is not one of the "
		    "group's assets");
		return -1;
	}
	ids[0] = keep;
	*n = 1;
	cJSON_ArrayForEach(t, trash) {
		if (!cJSON_IsString(t) || !valid_uuid(t->valuestring)) {
			rec_error(rec, cur, NULL, "\"trash\" holds something "
			    "that is not an asset id (a lower-case UUID)");
			return -1;
		}
		if (strcmp(t->valuestring, keep) == 0) {
			rec_error(rec, cur, keep, "the keeper is also in "
			    "\"trash\"");
			return -1;
		}
		if (rec_asset(rec, t->valuestring) == NULL) {
			rec_error(rec, cur, t->valuestring, "in \"trash\" but "
			    "not one of the group's assets");
			return -1;
		}
		for (i = 1; i < *n; i++)
			if (strcmp(ids[i], t->valuestring) == 0)
				break;
		if (i == *n)
			ids[(*n)++] = t->valuestring;
	}
	if (*n < 2) {
		rec_error(rec, cur, keep, "\"trash\" is empty: nothing to "
		    "stack the keeper with");
		return -1;
	}
	return 0;
}

/* The primary must carry the group's metadata: consolidation confirmed
 * for this keeper and these losers (ids[0] the keeper, n of them). */
static int
consolidated_for(cJSON *rec, const char **ids, int n)
{
	const cJSON *c, *losers;
	const char *keep = ids[0], *ckeep;
	int i;

	c = cJSON_GetObjectItemCaseSensitive(rec, "consolidated");
	if (!cJSON_IsObject(c) || !cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(c, "confirmed")) ||
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "dryRun"))) {
		rec_error(rec, cur, keep, "consolidation %s: not stacked "
		    "(run immich-consolidate first)", !cJSON_IsObject(c) ?
		    "not done" : rec_str(c, "skipped") ? "skipped" :
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c,
		    "dryRun")) ? "only a dry run" : "not confirmed");
		skipped(rec, "consolidation");
		prog.held++;
		return -1;
	}
	ckeep = rec_str(c, "keep");
	losers = cJSON_GetObjectItemCaseSensitive(c, "losers");
	if (ckeep && strcmp(ckeep, keep) != 0) {
		rec_error(rec, cur, keep, "consolidated for keeper %s, not "
		    "this one: not stacked", ckeep);
		skipped(rec, "consolidation");
		prog.held++;
		return -1;
	}
	if (losers) {
		for (i = 1; i < n; i++)
			if (!rec_has_str(losers, ids[i]))
				break;
		if (i < n || !cJSON_IsArray(losers) ||
		    cJSON_GetArraySize(losers) != n - 1) {
			rec_error(rec, cur, keep, "consolidated for other "
			    "losers than \"trash\" now lists: not stacked");
			skipped(rec, "consolidation");
			prog.held++;
			return -1;
		}
	}
	return 0;
}

/* What the record must hold: a plan whose consolidation
 * immich-consolidate confirmed for this keeper and these losers. */
static int
check_record(cJSON *rec, const char **ids, int *n)
{
	if (plan_ids(rec, ids, n) < 0)
		return -1;
	return consolidated_for(rec, ids, *n);
}

/*
 * The keeper's stack, if it is the primary of one that is exactly the
 * group: 1 (*sid its id); 0 not in a stack; -1 in another stack or an
 * error (on the record).
 */
static int
keeper_stack(cJSON *rec, const cJSON *k, const char *const *ids, int n,
    char *sid)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(k, "stack");
	const char *why;
	cJSON *st;
	char *path;
	int rv;

	if (s == NULL || cJSON_IsNull(s))
		return 0;
	if (!valid_uuid(rec_str(s, "id"))) {
		rec_error(rec, cur, ids[0], "the keeper's \"stack\" has no "
		    "id");
		return -1;
	}
	if (rec_str(s, "primaryAssetId") == NULL ||
	    strcmp(rec_str(s, "primaryAssetId"), ids[0]) != 0) {
		rec_error(rec, cur, ids[0], "the keeper is already in stack "
		    "%s, under %s: not stacked", rec_str(s, "id"),
		    rec_str(s, "primaryAssetId") ? rec_str(s,
		    "primaryAssetId") : "another asset");
		return -1;
	}
	path = xasprintf("/stacks/%s", rec_str(s, "id"));
	st = rc_call(rec, cur, ids[0], "GET", path, NULL);
	free(path);
	if (st == NULL)
		return -1;
	if ((rv = same_stack(st, ids, n, &why)) == 1)
		snprintf(sid, 37, "%s", rec_str(st, "id"));
	else
		rec_error(rec, cur, ids[0], "the keeper is already the "
		    "primary of stack %s, and %s: not stacked",
		    rec_str(s, "id"), why);
	cJSON_Delete(st);
	return rv == 1 ? 1 : -1;
}

/* The asset a as the server has it now is fit to be stacked. */
static int
fit(cJSON *rec, const cJSON *a, const char *id, const char *role)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(a, "stack");

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "isTrashed"))) {
		rec_error(rec, cur, id, "the %s is in the trash: not stacked",
		    role);
		return 0;
	}
	if (s && !cJSON_IsNull(s)) {
		rec_error(rec, cur, id, "the %s is already in stack %s: not "
		    "stacked", role, rec_str(s, "id") ? rec_str(s, "id") :
		    "(no id)");
		return 0;
	}
	return 1;
}

/*
 * POST /stacks went out but its outcome is unclear (no reply, or a 5xx
 * or 429 not sent again): is the keeper now the primary of a stack that
 * is exactly the group?  1 yes (*sid), 0 no, -1 cannot tell.
 */
static int
made_after_all(cJSON *rec, const char *const *ids, int n, char *sid)
{
	const char *why;
	cJSON *l, *s;
	char *path;
	int rv = 0;

	path = xasprintf("/stacks?primaryAssetId=%s", ids[0]);
	l = rc_call(rec, cur, ids[0], "GET", path, NULL);
	free(path);
	if (!cJSON_IsArray(l)) {
		cJSON_Delete(l);
		return -1;
	}
	cJSON_ArrayForEach(s, l)
		if (same_stack(s, ids, n, &why)) {
			snprintf(sid, 37, "%s", rec_str(s, "id"));
			rv = 1;
			break;
		}
	cJSON_Delete(l);
	return rv;
}

/* POST /stacks, sent once, keeper first; the stack made confirmed from
 * the reply, or (no usable reply) looked for.  1 when stacked. */
static int
make_stack(cJSON *rec, const char **ids, int n)
{
	cJSON *body, *reply = NULL;
	struct api_err e;
	const char *why;
	char sid[37];
	int rv, ok = 0;

	body = cJSON_CreateObject();
	cJSON_AddItemToObject(body, "assetIds", cJSON_CreateStringArray(ids,
	    n));
	rv = api_call_once("POST", "/stacks", body, &reply, &e);
	cJSON_Delete(body);
	if (rv != 0 && (e.status == 0 || e.status == 408 || e.status == 429 ||
	    e.status >= 500)) {
		/* It may have been made: ask before saying it was not. */
		if ((rv = made_after_all(rec, ids, n, sid)) == 1) {
			warnx("%s:%zu: %s; the stack was made all the same",
			    cur->name, cur->lineno, e.msg);
			result(rec, sid, ids, n, 1, 0);
			nstacked++;
			ok = 1;
		} else {
			rec_error(rec, cur, ids[0], "%s%s", e.msg, rv == 0 ?
			    "; not stacked" : "");
			result(rec, NULL, ids, n, 0, 0);
		}
		api_err_free(&e);
		return ok;
	}
	if (rc_settle(rec, cur, ids[0], rv, &e) < 0) {
		result(rec, NULL, ids, n, 0, 0);
		return 0;
	}
	if (same_stack(reply, ids, n, &why)) {
		result(rec, rec_str(reply, "id"), ids, n, 1, 0);
		nstacked++;
		ok = 1;
	} else {
		rec_error(rec, cur, ids[0], "POST %s/stacks: the stack made is "
		    "not the group: %s", api_prefix(), why);
		result(rec, valid_uuid(rec_str(reply, "id")) ?
		    rec_str(reply, "id") : NULL, ids, n, 0, 0);
	}
	cJSON_Delete(reply);
	return ok;
}

/* One group; 0 when done, -1 when it failed or was held back. */
static int
stack(cJSON *rec)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, "trash");
	const char **ids;
	cJSON *a;
	char sid[37];
	int i, n, rv, ok = 0;

	ids = xcalloc(cJSON_GetArraySize(t) + 1, sizeof(*ids));
	if (check_record(rec, ids, &n) < 0)
		goto out;
	prog.assets += n;
	/* The keeper now: not trashed, and in no stack but this one. */
	if ((a = rc_asset(rec, cur, ids[0], ids[0])) == NULL)
		goto out;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "isTrashed"))) {
		rec_error(rec, cur, ids[0], "the keeper is in the trash: not "
		    "stacked");
		cJSON_Delete(a);
		goto out;
	}
	rv = keeper_stack(rec, a, ids, n, sid);
	cJSON_Delete(a);
	if (rv == 1) {
		result(rec, sid, ids, n, !stage_nflag, 1);
		nfound++;
		ok = 1;
		goto out;
	}
	if (rv < 0)
		goto out;
	for (i = 1; i < n; i++) {
		if ((a = rc_asset(rec, cur, ids[i], ids[i])) == NULL)
			goto out;
		rv = fit(rec, a, ids[i], "loser");
		cJSON_Delete(a);
		if (!rv)
			goto out;
	}
	if (stage_nflag) {
		result(rec, NULL, ids, n, 0, 0);
		ok = 1;
		goto out;
	}
	ok = make_stack(rec, ids, n);
out:
	free(ids);
	return ok ? 0 : -1;
}

static int
do_record(cJSON *rec, const struct ndjson_in *in)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(rec, "stacked");
	int rv = 0;

	cur = in;
	/* Stacked and confirmed by an earlier run: nothing to do. */
	if (!(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "confirmed")) &&
	    valid_uuid(rec_str(s, "id")) &&
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "dryRun"))))
		rv = stack(rec);
	return rv;
}

int
main(int argc, char *argv[])
{
	int status;

	while (stage_getopt(argc, argv, "nqV", "[-nqV]") != -1)
		continue;	/* all its options are stage_getopt's */
	if (optind != argc)
		stage_usage();
	http_init();
	status = stage_filter(do_record);
	stage_end(http_requests(), "%ld stacked, %ld found stacked%s",
	    nstacked, nfound, stage_nflag ? ", dry run" : "");
	return status;
}
