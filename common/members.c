/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/api.h"
#include "common/idset.h"
#include "common/members.h"
#include "common/ndjson.h"
#include "common/util.h"

#define PAGE	1000		/* POST /search/metadata: size at most */

/* One album or named person, and the assets in it. */
struct set {
	char	*id;
	char	*name;
	char	*updated;	/* album: updatedAt when read */
	double	 count;		/* album: assetCount last seen */
	int	 seen;
	struct idset *ids;
};

struct members {
	struct set *al;
	size_t	 nal;
	int	 albums_ok;
	struct set *pp;
	size_t	 npp;
	int	 people_ok;
};

struct members *
members_new(void)
{
	return xcalloc(1, sizeof(struct members));
}

static void
set_free(struct set *s)
{
	free(s->id);
	free(s->name);
	free(s->updated);
	idset_free(s->ids);
}

/* Every asset POST /search/metadata finds with {key: [id]}, into ids. */
static int
search(const char *key, const char *id, struct idset *ids, char **msg)
{
	cJSON *body, *reply;
	const cJSON *a, *items, *next;
	struct api_err e;
	long page = 1;

	for (;;) {
		body = cJSON_CreateObject();
		cJSON_AddItemToObject(body, key, cJSON_CreateStringArray(&id,
		    1));
		cJSON_AddNumberToObject(body, "size", PAGE);
		cJSON_AddNumberToObject(body, "page", page);
		if (api_call("POST", "/search/metadata", body, &reply,
		    &e) != 0) {
			cJSON_Delete(body);
			*msg = e.msg;
			return -1;
		}
		cJSON_Delete(body);
		items = rec_get(rec_get(reply, "assets"), "items");
		if (!cJSON_IsArray(items)) {
			cJSON_Delete(reply);
			*msg = xasprintf("POST %s/search/metadata: HTTP 200: no "
			    "assets.items in the reply", api_prefix());
			return -1;
		}
		cJSON_ArrayForEach(a, items)
			idset_put(ids, rec_str(a, "id"), NULL);
		next = rec_get(rec_get(reply, "assets"), "nextPage");
		page = cJSON_IsString(next) ? atol(next->valuestring) : 0;
		cJSON_Delete(reply);
		if (page <= 1 || page > 1000000)
			return 0;
	}
}

static struct set *
find(struct set *v, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].id, id) == 0)
			return &v[i];
	return NULL;
}

int
members_albums_read(struct members *m, char **msg)
{
	cJSON *list;
	const cJSON *a, *cnt;
	const char *id, *upd;
	struct api_err e;
	struct set *s;
	size_t i, j;
	double c;

	*msg = NULL;
	m->albums_ok = 0;
	if (api_call("GET", "/albums", NULL, &list, &e) != 0) {
		*msg = e.msg;
		return -1;
	}
	if (!cJSON_IsArray(list)) {
		cJSON_Delete(list);
		*msg = xasprintf("GET %s/albums: HTTP 200: not a list",
		    api_prefix());
		return -1;
	}
	for (i = 0; i < m->nal; i++)
		m->al[i].seen = 0;
	cJSON_ArrayForEach(a, list) {
		if (!valid_uuid(id = rec_str(a, "id")))
			continue;
		upd = rec_str(a, "updatedAt");
		cnt = rec_get(a, "assetCount");
		c = cJSON_IsNumber(cnt) ? cnt->valuedouble : -1;
		if ((s = find(m->al, m->nal, id)) == NULL) {
			m->al = xrealloc(m->al, (m->nal + 1) * sizeof(*s));
			s = &m->al[m->nal++];
			memset(s, 0, sizeof(*s));
			s->id = xstrdup(id);
		} else if (s->updated && upd && strcmp(s->updated, upd) == 0 &&
		    c >= 0 && c <= s->count) {
			/* Not added to since it was read: a lower count is
			 * assets trashed or taken out. */
			s->count = c;
			s->seen = 1;
			continue;
		}
		free(s->name);
		free(s->updated);
		s->name = rec_str(a, "albumName") ?
		    xstrdup(rec_str(a, "albumName")) : NULL;
		s->updated = upd ? xstrdup(upd) : NULL;
		s->count = c;
		s->seen = 1;
		idset_free(s->ids);
		s->ids = idset_new();
		if (search("albumIds", id, s->ids, msg) == -1) {
			free(s->updated);	/* read it again next time */
			s->updated = NULL;
			cJSON_Delete(list);
			return -1;
		}
	}
	cJSON_Delete(list);
	/* Albums gone since. */
	for (i = j = 0; i < m->nal; i++)
		if (m->al[i].seen)
			m->al[j++] = m->al[i];
		else
			set_free(&m->al[i]);
	m->nal = j;
	m->albums_ok = 1;
	return 0;
}

static cJSON *
sets_of(const struct set *v, size_t n, const char *id, const char *namekey)
{
	cJSON *out = cJSON_CreateArray(), *o;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!idset_has(v[i].ids, id))
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", v[i].id);
		if (v[i].name)
			cJSON_AddStringToObject(o, namekey, v[i].name);
		cJSON_AddItemToArray(out, o);
	}
	return out;
}

cJSON *
members_albums(const struct members *m, const char *id)
{
	return m && m->albums_ok ? sets_of(m->al, m->nal, id, "albumName") :
	    NULL;
}

void
members_album_add(struct members *m, const char *aid, const char *id)
{
	struct set *s = find(m->al, m->nal, aid);

	if (s)
		idset_put(s->ids, id, NULL);
}

long
members_people_count(struct members *m, char **msg)
{
	cJSON *reply;
	const cJSON *p;
	struct api_err e;
	const char *name, *id;
	char path[96];
	long page;
	size_t i;

	*msg = NULL;
	m->people_ok = 0;
	for (i = 0; i < m->npp; i++)
		set_free(&m->pp[i]);
	m->npp = 0;
	for (page = 1;; page++) {
		snprintf(path, sizeof(path), "/people?withHidden=true&"
		    "size=%d&page=%ld", PAGE, page);
		if (api_call("GET", path, NULL, &reply, &e) != 0) {
			*msg = e.msg;
			return -1;
		}
		if (!cJSON_IsArray(rec_get(reply, "people"))) {
			cJSON_Delete(reply);
			*msg = xasprintf("GET %s%s: HTTP 200: no people in the "
			    "reply", api_prefix(), path);
			return -1;
		}
		cJSON_ArrayForEach(p, rec_get(reply, "people")) {
			name = rec_str(p, "name");
			if (!valid_uuid(id = rec_str(p, "id")) || name == NULL ||
			    *name == '\0' || find(m->pp, m->npp, id))
				continue;
			m->pp = xrealloc(m->pp, (m->npp + 1) * sizeof(*m->pp));
			memset(&m->pp[m->npp], 0, sizeof(*m->pp));
			m->pp[m->npp].id = xstrdup(id);
			m->pp[m->npp++].name = xstrdup(name);
		}
		p = rec_get(reply, "hasNextPage");
		cJSON_Delete(reply);
		if (!cJSON_IsTrue(p) || page >= 100000)
			break;
	}
	return (long)m->npp;
}

int
members_people_read(struct members *m, char **msg)
{
	size_t i;

	*msg = NULL;
	for (i = 0; i < m->npp; i++) {
		idset_free(m->pp[i].ids);
		m->pp[i].ids = idset_new();
		if (search("personIds", m->pp[i].id, m->pp[i].ids, msg) == -1)
			return -1;
	}
	m->people_ok = 1;
	return 0;
}

cJSON *
members_people(const struct members *m, const char *id)
{
	return m && m->people_ok ? sets_of(m->pp, m->npp, id, "name") : NULL;
}

void
members_free(struct members *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nal; i++)
		set_free(&m->al[i]);
	for (i = 0; i < m->npp; i++)
		set_free(&m->pp[i]);
	free(m->al);
	free(m->pp);
	free(m);
}
