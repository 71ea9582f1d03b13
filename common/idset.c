/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>

#include "common/idset.h"
#include "common/util.h"

struct slot {
	unsigned char key[16];
	char	*val;		/* NULL: an empty slot */
};

struct idset {
	struct slot *v;
	size_t	 n, cap;
};

static const unsigned char nil[16];
static char none[] = "";

/* The 16 bytes of a UUID; -1 if s is not one (or is the nil UUID). */
static int
key_of(const char *s, unsigned char out[16])
{
	int i = 0, hi = -1, d;

	for (; *s; s++) {
		if (*s == '-')
			continue;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			d = (*s | 0x20) - 'a' + 10;
		else
			return -1;
		if (i == 16)
			return -1;
		if (hi < 0)
			hi = d;
		else {
			out[i++] = hi << 4 | d;
			hi = -1;
		}
	}
	if (i != 16 || hi >= 0 || memcmp(out, nil, 16) == 0)
		return -1;
	return 0;
}

/* The slot of key: where it is, or the empty one where it would go. */
static size_t
slot_of(const struct slot *v, size_t cap, const unsigned char key[16])
{
	size_t h = 0, i;

	for (i = 0; i < 16; i++)
		h = h * 31 + key[i];
	for (h &= cap - 1;; h = (h + 1) & (cap - 1))
		if (v[h].val == NULL || memcmp(v[h].key, key, 16) == 0)
			return h;
}

struct idset *
idset_new(void)
{
	return xcalloc(1, sizeof(struct idset));
}

const char *
idset_get(const struct idset *s, const char *uuid)
{
	unsigned char k[16];

	if (s == NULL || s->cap == 0 || uuid == NULL || key_of(uuid, k) < 0)
		return NULL;
	return s->v[slot_of(s->v, s->cap, k)].val;
}

int
idset_has(const struct idset *s, const char *uuid)
{
	return idset_get(s, uuid) != NULL;
}

int
idset_put(struct idset *s, const char *uuid, const char *val)
{
	struct slot *old = s->v;
	unsigned char k[16];
	size_t i, oldcap = s->cap;

	if (uuid == NULL || key_of(uuid, k) < 0)
		return -1;
	if (idset_has(s, uuid))
		return 0;
	if (2 * (s->n + 1) > s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->v = xcalloc(s->cap, sizeof(*s->v));
		for (i = 0; i < oldcap; i++)
			if (old[i].val != NULL)
				s->v[slot_of(s->v, s->cap, old[i].key)] =
				    old[i];
		free(old);
	}
	i = slot_of(s->v, s->cap, k);
	memcpy(s->v[i].key, k, 16);
	s->v[i].val = val ? xstrdup(val) : none;
	s->n++;
	return 1;
}

size_t
idset_count(const struct idset *s)
{
	return s ? s->n : 0;
}

void
idset_free(struct idset *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->cap; i++)
		if (s->v[i].val != none)
			free(s->v[i].val);
	free(s->v);
	free(s);
}
