/* SPDX-License-Identifier: ISC */
/*
 * immich-restore: undo a run.  For each record: dissolves the stack
 * immich-stack made, restores the assets the record says were trashed
 * (or the ids given as operands) from Immich's trash and checks that
 * each is out of it, or uploads one that is gone from the server again
 * from its backup (common/reupload.c); takes back the metadata
 * immich-consolidate added to the keeper (unless -k), and puts the
 * group's duplicateId back on its members (common/undo.c).  Losers that
 * were in the trash before immich-trash ran (alreadyTrashed) are left
 * there unless -a.  Adds "restored" to each record, and "undone" when
 * it undid more than the trash.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/api.h"
#include "common/bulk.h"
#include "common/http.h"
#include "common/ndjson.h"
#include "common/progress.h"
#include "common/reupload.h"
#include "common/stage.h"
#include "common/undo.h"
#include "common/util.h"

static int aflag, kflag;
static const struct ndjson_in *cur;	/* NULL for operands */
static long nrestored, nuploaded, nfailed;

static void
result_fail(cJSON *rec, cJSON *restored, const char *id, const char *msg)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddFalseToObject(e, "ok");
	cJSON_AddStringToObject(e, "detail", msg);
	rec_set(restored, id, e);
	rec_error(rec, cur, id, "%s", msg);
	nfailed++;
}

/* The outcome of one id after POST /trash/restore/assets (rmsg: what
 * that said of it, or NULL): 1 when the record failed. */
static int
restore_one(cJSON *rec, cJSON *restored, const char *id, const char *rmsg)
{
	struct api_err err;
	cJSON *a, *e;
	char *msg;
	int k, ok, nerr, failed = 0;

	k = api_asset(id, &a, &err);
	if (k == 1 && !cJSON_IsTrue(rec_get(a, "isTrashed"))) {
		e = cJSON_CreateObject();
		cJSON_AddTrueToObject(e, "ok");
		cJSON_AddStringToObject(e, "how", "trash");
		rec_set(restored, id, e);
		nrestored++;
	} else if (k == 1) {
		msg = xasprintf("still in the trash after POST "
		    "%s/trash/restore/assets%s%s", api_prefix(),
		    rmsg ? ": " : "", rmsg ? rmsg : "");
		result_fail(rec, restored, id, msg);
		free(msg);
		failed = 1;
	} else if (k < 0) {
		result_fail(rec, restored, id, err.msg);
		failed = 1;
	} else {
		nerr = cJSON_GetArraySize(rec_get(rec, "errors"));
		e = reupload_asset(rec, cur, id, &ok);
		rec_set(restored, id, e);
		/* Its live-photo video not restored: an error in the
		 * record, which counts as failed. */
		if (cJSON_GetArraySize(rec_get(rec, "errors")) > nerr)
			failed = 1;
		if (!ok) {
			rec_error(rec, cur, id, "%s", rec_str(e, "detail"));
			nfailed++;
			failed = 1;
		} else {
			nuploaded++;
			if (cJSON_IsNumber(rec_get(e, "metadataFailed")))
				failed = 1;
		}
	}
	cJSON_Delete(a);
	api_err_free(&err);
	return failed;
}

/* Restore ids (from one record) and record the outcome of each in
 * restored. */
static int
restore(cJSON *rec, cJSON *restored, const char **ids, size_t n)
{
	struct bulk_res *res;
	size_t i;
	int failed = 0;

	if (n == 0)
		return 0;
	res = xcalloc(n, sizeof(*res));
	bulk_ids("POST", "/trash/restore/assets", NULL, ids, n, res);
	for (i = 0; i < n; i++) {
		prog.assets++;
		if (restore_one(rec, restored, ids[i], res[i].msg))
			failed = 1;
		free(res[i].msg);
		progress_tick();
	}
	free(res);
	return failed;
}

/*
 * The ids immich-trash trashed, from the record's "trashed", but those
 * done restored already.  A malformed
 * "trashed" or entry is an error of the record (*bad set), never skipped
 * in silence: an asset it names may be in the trash.
 */
static const char **
trashed_ids(cJSON *rec, const cJSON *done, size_t *n, int *bad)
{
	const cJSON *t = rec_get(rec, "trashed"), *e, *ok;
	const char **ids;

	*n = 0;
	*bad = 0;
	ids = xcalloc(cJSON_GetArraySize(t) + 1, sizeof(*ids));
	if (t == NULL)
		return ids;
	if (!cJSON_IsObject(t)) {
		rec_error(rec, cur, NULL, "\"trashed\" is not an object of "
		    "results by asset id");
		*bad = 1;
		return ids;
	}
	cJSON_ArrayForEach(e, t) {
		ok = rec_get(e, "ok");
		if (!valid_uuid(e->string) || !cJSON_IsObject(e) ||
		    !cJSON_IsBool(ok)) {
			rec_error(rec, cur, valid_uuid(e->string) ? e->string :
			    NULL, "\"trashed\" entry %s%.40s%s is not a "
			    "result with a true or false \"ok\"",
			    valid_uuid(e->string) ? "" : "\"",
			    valid_uuid(e->string) ? "" : e->string,
			    valid_uuid(e->string) ? "" : "\"");
			*bad = 1;
			continue;
		}
		if (cJSON_IsTrue(ok) && !cJSON_IsTrue(rec_get(e, "dryRun")) &&
		    (aflag || !cJSON_IsTrue(rec_get(e, "alreadyTrashed"))) &&
		    rec_get(done, e->string) == NULL)
			ids[(*n)++] = e->string;
	}
	return ids;
}

/*
 * A record restore wrote before (run again on its own output): each asset
 * it brought back is not restored again (someone may have trashed it
 * since), its entry is kept; the rest is done again from what the server
 * says now.
 */
static void
carry_over(const cJSON *old, cJSON *restored)
{
	const cJSON *e;
	const char *how;

	cJSON_ArrayForEach(e, old) {
		how = rec_str(e, "how");
		if (valid_uuid(e->string) && cJSON_IsTrue(rec_get(e, "ok")) &&
		    how && (strcmp(how, "trash") == 0 ||
		    strcmp(how, "upload") == 0 || strcmp(how, "exists") == 0))
			rec_set(restored, e->string, cJSON_Duplicate(e, 1));
	}
}

/* One record: its stack dissolved, what its "trashed" names restored,
 * its keeper's metadata taken back, its group put back together. */
static int
do_record(cJSON *rec, const struct ndjson_in *in)
{
	struct undo u = { rec, in, cJSON_CreateObject(), cJSON_CreateObject(),
	    kflag };
	const char **ids;
	size_t n;
	int bad, failed;

	cur = in;
	carry_over(rec_get(rec, "restored"), u.restored);
	rec_set(rec, "restored", u.restored);
	ids = trashed_ids(rec, u.restored, &n, &bad);
	failed = undo_stack(&u) < 0;
	failed |= restore(rec, u.restored, ids, n) || bad;
	failed |= undo_keeper(&u) < 0;
	failed |= undo_group(&u) < 0;
	if (u.undone->child)
		rec_set(rec, "undone", u.undone);
	else {
		cJSON_DeleteItemFromObjectCaseSensitive(rec, "undone");
		cJSON_Delete(u.undone);
	}
	free(ids);
	return failed ? -1 : 0;
}

int
main(int argc, char *argv[])
{
	cJSON *rec;
	int ch, i, status = EX_DONE;

	while ((ch = stage_getopt(argc, argv, "akqV",
	    "[-akqV] [id ...]")) != -1) {
		switch (ch) {
		case 'a':
			aflag = 1;
			break;
		case 'k':
			kflag = 1;
			break;
		}
	}
	argc -= optind;
	argv += optind;
	stage_ids(argc, argv);

	http_init();
	if (argc == 0)
		status = stage_filter(do_record);
	else
		progress_init(stage_quiet);
	/* Ids as operands: a record made for each. */
	for (i = 0; i < argc; i++) {
		const char *id[1] = { argv[i] };
		cJSON *restored = cJSON_CreateObject();
		rec = cJSON_CreateObject();
		cJSON_AddStringToObject(rec, "id", argv[i]);
		rec_set(rec, "restored", restored);
		prog.records++;
		if (restore(rec, restored, id, 1)) {
			status = EX_SOME;
			prog.failed++;
		}
		ndjson_emit(rec);
		cJSON_Delete(rec);
	}
	stage_end(http_requests(), "%ld restored from the trash, %ld "
	    "uploaded again, %ld not restored", nrestored, nuploaded, nfailed);
	return status;
}
