/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>

#include "common/api.h"
#include "common/batchread.h"
#include "common/bulk.h"
#include "common/fresh.h"
#include "common/members.h"
#include "common/ndjson.h"
#include "common/precond.h"
#include "common/util.h"

static struct fresh *fr;	/* this batch's GET /duplicates */
static struct members *mem;	/* albums and people, for the run */
static char *albmsg, *pplmsg;	/* why they could not be read */
/* -1 no one is named (nothing to check), 0 read each loser, 1 mem */
static int people = -1;

void
br_read(const struct idset *want, size_t nlosers, int albums, int ppl,
    int quiet)
{
	long np;

	if (mem == NULL)
		mem = members_new();
	fresh_free(fr);
	fr = nlosers > 0 ? fresh_read(want, quiet) : NULL;
	free(albmsg);
	albmsg = NULL;
	if (albums && members_albums_read(mem, &albmsg) == -1 && !albmsg)
		albmsg = xstrdup("albums not read");
	free(pplmsg);
	pplmsg = NULL;
	people = -1;
	if (nlosers == 0 || !ppl)
		return;
	/* Per named person, or per loser, whichever asks less. */
	if ((np = members_people_count(mem, &pplmsg)) > 0 &&
	    (size_t)np > nlosers)
		people = 0;
	else if (np > 0) {
		people = 1;
		if (members_people_read(mem, &pplmsg) == -1 && !pplmsg)
			pplmsg = xstrdup("people not read");
	} else if (np < 0)
		people = 0;	/* held "error" below, pplmsg set */
}

void
br_done(void)
{
	fresh_free(fr);
	fr = NULL;
}

const cJSON *
br_listed(const char *id)
{
	return fresh_get(fr, id);
}

/* Keep the keeper's people (an empty list when it shows none). */
static void
keep_people(struct br_keeper *k, const cJSON *ka)
{
	const cJSON *kp = rec_get(ka, "people");

	cJSON_Delete(k->people);
	k->people = cJSON_IsArray(kp) ? cJSON_Duplicate(kp, 1) :
	    cJSON_CreateArray();
}

void
br_keepers_bulk(struct br_keeper *const *ks, const char *const *sums,
    size_t n, int quiet)
{
	struct bulk_sum *out;
	size_t i, m = 0;

	for (i = 0; i < n; i++)
		m += sums[i] != NULL;
	if (m == 0)
		return;
	out = xcalloc(n, sizeof(*out));
	if (bulk_checksums(sums, n, 'k', out, quiet) == 0)
		for (i = 0; i < n; i++)
			if (out[i].reject && out[i].trashed == 0 &&
			    strcmp(out[i].asset, ks[i]->id) == 0)
				ks[i]->state = 1;
	free(out);
}

void
br_keeper(struct br_keeper *k)
{
	struct api_err e;
	cJSON *ka;
	int kind;

	if (k->state != 0)
		return;
	if (br_listed(k->id)) {
		k->state = 1;
		return;
	}
	kind = api_asset(k->id, &ka, &e);
	k->state = -1;
	if (kind == 0) {
		k->code = "keeper-missing";
		k->detail = xasprintf("the keeper %s is no longer on the "
		    "server (%s)", k->id, e.msg);
	} else if (kind < 0) {
		k->code = "error";
		k->detail = xasprintf("keeper %s: %s", k->id, e.msg);
	} else if (cJSON_IsTrue(rec_get(ka, "isTrashed"))) {
		k->code = "keeper-trashed";
		k->detail = xasprintf("the keeper %s is in the trash", k->id);
	} else {
		k->state = 1;
		keep_people(k, ka);
	}
	api_err_free(&e);
	cJSON_Delete(ka);
}

void
br_keeper_free(struct br_keeper *k)
{
	free(k->detail);
	cJSON_Delete(k->people);
	k->detail = NULL;
	k->people = NULL;
}

const char *
br_people(struct br_keeper *k, const char *id, const cJSON *la, int listed,
    char **detail)
{
	struct api_err e;
	cJSON *ka, *own = NULL, *lp, *kp;
	const char *code = NULL;

	*detail = NULL;
	if (people < 0)
		return NULL;
	if (pplmsg) {
		*detail = xstrdup(pplmsg);
		return "error";
	}
	if (people == 1) {
		lp = members_people(mem, id);
		kp = members_people(mem, k->id);
		code = pc_people(lp, kp, k->id, detail);
		cJSON_Delete(lp);
		cJSON_Delete(kp);
		return code;
	}
	if (listed) {		/* its people not read yet */
		if (api_asset(id, &own, &e) != 1) {
			*detail = xasprintf("%s", e.msg);
			api_err_free(&e);
			return "error";
		}
		la = own;
	}
	if (pc_named(rec_get(la, "people")) && k->people == NULL) {
		if (api_asset(k->id, &ka, &e) != 1) {
			*detail = xasprintf("keeper %s: %s", k->id, e.msg);
			api_err_free(&e);
			code = "error";
		} else {
			keep_people(k, ka);
			cJSON_Delete(ka);
		}
	}
	if (code == NULL && pc_named(rec_get(la, "people")))
		code = pc_people(rec_get(la, "people"), k->people, k->id,
		    detail);
	cJSON_Delete(own);
	return code;
}

const char *
br_new_album(const char *id, const cJSON *seen, char **detail)
{
	const char *code;
	cJSON *now;

	if (albmsg || (now = members_albums(mem, id)) == NULL) {
		*detail = xstrdup(albmsg ? albmsg : "albums not read");
		return "error";
	}
	code = pc_new_album(now, seen, detail);
	cJSON_Delete(now);
	return code;
}
