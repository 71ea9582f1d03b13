/* SPDX-License-Identifier: ISC */
/*
 * immich-dupes: the planning stage.  Reads the server's duplicate groups
 * (GET /api/duplicates, or a saved response with -f) and writes one plan
 * record per group: the group's keys as sent, then keep, trash, why and
 * review.  Nothing on the server changes.
 *
 * The response is one JSON array that can be hundreds of MB with no
 * pagination, so it is split as it streams in (jsonsplit.h) and each
 * group is parsed, planned and written on its own: memory is bounded by
 * the largest group.  The keeper is chosen by an ordered rule list
 * (rules.h): each rule keeps the best of the remaining candidates, ties
 * go to the next rule, and the lowest id settles what is left.  review
 * (review.h) lists every reason not to act on the group automatically.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/api.h"
#include "common/env.h"
#include "common/http.h"
#include "common/idset.h"
#include "common/jsonsplit.h"
#include "common/ndjson.h"
#include "common/progress.h"
#include "common/stage.h"
#include "common/review.h"
#include "common/rules.h"
#include "common/util.h"

#define GROUP_MAX	((size_t)256 << 20)	/* largest group accepted */

static struct rules rules;
static const char *src;		/* "GET /api/duplicates" or the file name */
static char fatal[800];		/* why the stream stopped, if it did */

/*
 * Every asset id seen so far (idset.h: 16 bytes and a pointer each): an
 * asset in two groups (which the server cannot send) would let a keeper
 * of one group be a loser of another.
 */
static struct idset *seen;

static void __attribute__((format(printf, 2, 3)))
group_error(long idx, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warnx("%s: group %ld: %s; skipped", src, idx, msg);
	prog.failed++;
}

/*
 * The group's assets, checked: an object with a duplicateId and an
 * array of objects whose ids are distinct UUIDs.  NULL after an error.
 */
static cJSON **
check_group(const cJSON *g, long idx, int *np)
{
	const cJSON *assets, *a, *id;
	const char *did;
	cJSON **v;
	int n = 0, j;

	if (!cJSON_IsObject(g)) {
		group_error(idx, "not a JSON object");
		return NULL;
	}
	id = cJSON_GetObjectItemCaseSensitive(g, "duplicateId");
	if (!cJSON_IsString(id) || !valid_uuid(id->valuestring)) {
		group_error(idx, "no valid duplicateId");
		return NULL;
	}
	did = id->valuestring;
	assets = cJSON_GetObjectItemCaseSensitive(g, "assets");
	if (!cJSON_IsArray(assets)) {
		group_error(idx, "duplicateId %s: no assets array", did);
		return NULL;
	}
	v = xcalloc(cJSON_GetArraySize(assets) + 1, sizeof(*v));
	cJSON_ArrayForEach(a, assets) {
		const char *aid = rec_str(a, "id");

		if (!cJSON_IsObject(a) || !valid_uuid(aid)) {
			group_error(idx, "duplicateId %s: asset %d has no "
			    "valid id", did, n + 1);
			free(v);
			return NULL;
		}
		for (j = 0; j < n; j++)
			if (strcasecmp(rec_str(v[j], "id"), aid) == 0) {
				group_error(idx, "duplicateId %s: asset %s is "
				    "listed twice", did, aid);
				free(v);
				return NULL;
			}
		if (idset_has(seen, aid)) {
			group_error(idx, "duplicateId %s: asset %s is also in "
			    "an earlier group", did, aid);
			free(v);
			return NULL;
		}
		v[n++] = (cJSON *)a;
	}
	for (j = 0; j < n; j++)
		idset_put(seen, rec_str(v[j], "id"), NULL);
	prog.assets += n;
	*np = n;
	return v;
}

/* Move key from g to the end of rec; NULL value if g lacks it. */
static void
move(cJSON *rec, cJSON *g, const char *key, int empty_array)
{
	cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(g, key);

	if (v == NULL)
		v = empty_array ? cJSON_CreateArray() : cJSON_CreateNull();
	cJSON_AddItemToObject(rec, key, v);
}

static int
ours(const char *key)
{
	static const char *const k[] = { "duplicateId", "assets",
	    "suggestedKeepAssetIds", "keep", "trash", "why", "review", NULL };
	int i;

	for (i = 0; k[i]; i++)
		if (strcmp(key, k[i]) == 0)
			return 1;
	return 0;
}

static void
plan(cJSON *g, cJSON **a, int n)
{
	cJSON *rec = cJSON_CreateObject(), *trash, *review, *x;
	const char *why = "id";
	int keep = -1, i;

	if (n > 0)
		keep = rules_pick(&rules, a, n,
		    cJSON_GetObjectItemCaseSensitive(g,
		    "suggestedKeepAssetIds"), &why);
	trash = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		if (i != keep)
			cJSON_AddItemToArray(trash, cJSON_CreateString(
			    rec_str(a[i], "id")));
	review = cJSON_CreateArray();
	review_group(review, a, n, keep);

	move(rec, g, "duplicateId", 0);
	move(rec, g, "assets", 0);
	move(rec, g, "suggestedKeepAssetIds", 1);
	/* a[] points into assets, which now belongs to rec: still valid. */
	if (keep >= 0)
		cJSON_AddStringToObject(rec, "keep", rec_str(a[keep], "id"));
	else
		cJSON_AddNullToObject(rec, "keep");
	cJSON_AddItemToObject(rec, "trash", trash);
	cJSON_AddStringToObject(rec, "why", why);
	cJSON_AddItemToObject(rec, "review", review);
	while ((x = g->child) != NULL) {
		cJSON_DetachItemViaPointer(g, x);
		if (x->string && !ours(x->string))
			cJSON_AddItemToObject(rec, x->string, x);
		else
			cJSON_Delete(x);
	}
	ndjson_emit(rec);
	cJSON_Delete(rec);
}

static int
on_group(void *arg, const char *p, size_t len)
{
	struct jsplit *js = arg;
	const char *end = NULL;
	long idx = js->count + 1;
	cJSON *g, **a;
	int n;

	g = cJSON_ParseWithLengthOpts(p, len, &end, 0);
	if (g == NULL || end != p + len) {
		end = g ? end : cJSON_GetErrorPtr();
		snprintf(fatal, sizeof(fatal), "group %ld: invalid JSON at "
		    "byte %td of the group", idx,
		    end && end >= p && end <= p + len ? end - p + 1 : 0);
		cJSON_Delete(g);
		return -1;
	}
	prog.records++;
	if ((a = check_group(g, idx, &n)) != NULL) {
		plan(g, a, n);
		free(a);
	}
	cJSON_Delete(g);
	progress_tick();
	return 0;
}

static void
stop(struct jsplit *js)
{
	if (fatal[0])
		;
	else if (strcmp(js->err, "truncated") == 0)
		snprintf(fatal, sizeof(fatal), "response truncated after %ld "
		    "groups", js->count);
	else if (js->count == 0)
		snprintf(fatal, sizeof(fatal), "%s", js->err);
	else
		snprintf(fatal, sizeof(fatal), "%s (after %ld groups)",
		    js->err, js->count);
	stage_end(http_requests(), NULL);
	errx(EX_FATAL, "%s: %s", src, fatal);
}

static void
from_file(const char *path, struct jsplit *js)
{
	static char buf[1 << 17];
	ssize_t r;
	int fd;

	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
		src = "stdin";
	} else if ((fd = open(path, O_RDONLY)) == -1)
		err(EX_USAGE, "%s", path);
	else
		src = path;
	for (;;) {
		r = read(fd, buf, sizeof(buf));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			err(EX_FATAL, "%s: read error", src);
		if (r == 0)
			break;
		prog.bytes += r;
		if (jsplit_feed(js, buf, r, on_group, js) == -1)
			stop(js);
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (jsplit_finish(js) == -1)
		stop(js);
}

static int
sink_start(void *arg, long long off, long long total)
{
	struct jsplit *js = arg;

	(void)off;
	if (js->off > 0) {	/* a restart would repeat groups */
		snprintf(fatal, sizeof(fatal), "the response restarted after "
		    "%ld groups", js->count);
		return -1;
	}
	prog.total_bytes = total > 0 ? total : 0;
	return 0;
}

static int
sink_data(void *arg, const char *p, size_t len)
{
	struct jsplit *js = arg;

	prog.bytes += len;
	return jsplit_feed(js, p, len, on_group, js);
}

static void
from_server(struct jsplit *js)
{
	struct http_sink sink = { sink_start, sink_data, js };
	struct http_resp r;
	int rc;

	env_get();
	http_init();
	src = xasprintf("GET %s/duplicates", api_prefix());
	rc = http_stream("/duplicates", 0, 0, &sink, &r);
	if (js->err[0] || fatal[0])
		stop(js);
	if (rc == -1) {
		if (js->off > 0)
			snprintf(fatal, sizeof(fatal), "response truncated "
			    "after %ld groups: %s", js->count, r.msg);
		else
			snprintf(fatal, sizeof(fatal), "%s", r.msg);
		http_free(&r);
		stop(js);
	}
	if (r.status < 200 || r.status >= 300) {
		snprintf(fatal, sizeof(fatal), "HTTP %ld: %s", r.status,
		    r.msg);
		http_free(&r);
		stop(js);
	}
	http_free(&r);
	if (jsplit_finish(js) == -1)
		stop(js);
}

int
main(int argc, char *argv[])
{
	const char *file = NULL, *spec = RULES_DEFAULT;
	struct jsplit js;
	char msg[512];
	char *synopsis;
	int ch;

	synopsis = xasprintf("[-qV] [-f file] [-r rules]\nrules: %s\n"
	    "default: -r %s", rules_names(), RULES_DEFAULT);
	while ((ch = stage_getopt(argc, argv, "f:qr:V", synopsis)) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'r':
			spec = optarg;
			break;
		}
	}
	if (optind != argc)
		stage_usage();
	if (rules_parse(spec, &rules, msg, sizeof(msg)) == -1) {
		warnx("-r: %s", msg);
		stage_usage();
	}
	progress_init(stage_quiet);
	seen = idset_new();
	jsplit_init(&js, GROUP_MAX);
	if (file)
		from_file(file, &js);
	else
		from_server(&js);
	jsplit_free(&js);
	ndjson_finish();
	progress_end(http_requests(), NULL);
	return prog.failed ? EX_SOME : EX_DONE;
}
