/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_PAGE_H
#define IMMICH_PAGE_H

#include <stdio.h>

#include <cjson/cJSON.h>

/*
 * The review page of immich-review(1), written as records arrive: the
 * head (inline style and script, allowed by hash in a
 * Content-Security-Policy that forbids everything else), then one JSON
 * entry per record, in chunks of 100 (each a <script type=
 * "application/json"> and a call the page's script takes it in with),
 * and the foot.  The script builds the cards from the data, 100 to a
 * page, with DOM methods only, so no text from a record is ever markup;
 * and a browser reads data much faster than markup (10,000 groups: 10 MB
 * instead of 22 MB, first cards in 0.3 s, all read in 1.4 s; see
 * tests/bench/review.sh).  Nothing is kept between cards but counts.
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
