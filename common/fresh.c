/* SPDX-License-Identifier: ISC */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/api.h"
#include "common/fresh.h"
#include "common/http.h"
#include "common/jsonsplit.h"
#include "common/ndjson.h"
#include "common/util.h"

#define GROUP_MAX	(64 << 20)	/* one group's bytes, at most */

struct fresh {
	cJSON	*by;		/* {assetId: AssetResponseDto} */
	struct idset *have;
};

struct ctx {
	struct jsplit js;
	const struct idset *want;
	struct fresh *f;
	int	 restarted;
};

static int
on_group(void *arg, const char *p, size_t len)
{
	struct ctx *c = arg;
	cJSON *g = cJSON_ParseWithLength(p, len), *as, *a, *next;
	const char *id;

	as = rec_get(g, "assets");
	for (a = cJSON_IsArray(as) ? as->child : NULL; a; a = next) {
		next = a->next;
		id = rec_str(a, "id");
		if (!valid_uuid(id) || !idset_has(c->want, id) ||
		    idset_put(c->f->have, id, NULL) != 1)
			continue;
		cJSON_AddItemToObject(c->f->by, id,
		    cJSON_DetachItemViaPointer(as, a));
	}
	cJSON_Delete(g);
	return 0;
}

static int
sink_start(void *arg, long long off, long long total)
{
	struct ctx *c = arg;

	(void)off;
	(void)total;
	if (c->js.off > 0) {	/* a restart would repeat groups */
		c->restarted = 1;
		return -1;
	}
	return 0;
}

static int
sink_data(void *arg, const char *p, size_t len)
{
	struct ctx *c = arg;

	return jsplit_feed(&c->js, p, len, on_group, c);
}

struct fresh *
fresh_read(const struct idset *want, int quiet)
{
	struct ctx c = { .want = want };
	struct http_sink sink = { sink_start, sink_data, &c };
	struct http_resp r;
	const char *why = NULL;
	char st[32] = "";
	int rc;

	c.f = xcalloc(1, sizeof(*c.f));
	c.f->by = cJSON_CreateObject();
	c.f->have = idset_new();
	jsplit_init(&c.js, GROUP_MAX);
	memset(&r, 0, sizeof(r));
	rc = http_stream("/duplicates", 0, 0, &sink, &r);
	api_seen(r.status);
	if (c.restarted)
		why = "the reply restarted";
	else if (c.js.err[0])
		why = c.js.err;
	else if (rc == -1)
		why = r.msg;
	else if (r.status < 200 || r.status > 299) {
		snprintf(st, sizeof(st), "HTTP %ld: ", r.status);
		why = r.msg[0] ? r.msg : "refused";
	}
	else if (jsplit_finish(&c.js) == -1)
		why = c.js.err;
	if (why) {
		if (!quiet)
			warnx("GET %s/duplicates: %s%s: reading each asset "
			    "instead", api_prefix(), st, why);
		fresh_free(c.f);
		c.f = NULL;
	}
	http_free(&r);
	jsplit_free(&c.js);
	return c.f;
}

const cJSON *
fresh_get(const struct fresh *f, const char *id)
{
	if (f == NULL || id == NULL || !idset_has(f->have, id))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(f->by, id);
}

void
fresh_free(struct fresh *f)
{
	if (f == NULL)
		return;
	cJSON_Delete(f->by);
	idset_free(f->have);
	free(f);
}
