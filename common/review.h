/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_REVIEW_H
#define IMMICH_REVIEW_H

#include <cjson/cJSON.h>

/*
 * Reasons not to resolve a duplicate group automatically (immich-dupes
 * "review" key): appends {code, asset, detail} objects to review for the
 * n assets of a group whose keeper is a[keep] (keep is -1 for an empty
 * group).  Codes and when they fire are documented in immich-dupes(1).
 */
void	 review_group(cJSON *review, cJSON *const *a, int n, int keep);

#endif
