/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_PAGE_H
#define IMMICH_PAGE_H

#include <stdio.h>

#include <cjson/cJSON.h>

/*
 * The review page of immich-review(1), written as records arrive: the
 * head (inline style and script, allowed by hash in a
 * Content-Security-Policy that forbids everything else), one <article>
 * per record, and the foot.  Nothing is kept between cards but counts.
 * Every string from a record is escaped (html.h).
 */
struct page_ctx {
	/* 1 when thumbs/ID.jpg exists beside the page. */
	int		 (*has_thumb)(void *arg, const char *id);
	/* The asset's albums (AlbumResponseDto[]), or NULL when unknown. */
	const cJSON	*(*albums)(void *arg, const char *id);
	void		*arg;
};

struct page_stats {
	long	 groups;
	long	 held;		/* groups with review reasons */
	long	 assets;
	long	 errors;	/* groups with errors from a stage */
};

void	 page_head(FILE *);
void	 page_card(FILE *, const cJSON *rec, const struct page_ctx *,
	    struct page_stats *);
void	 page_foot(FILE *, const struct page_stats *);

#endif
