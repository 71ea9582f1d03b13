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

/* The review codes a person allows (-a code,...), as a list that grows. */
struct codes {
	char	**v;
	size_t	 n;
};
/* Add the codes of a comma-separated list (empty items skipped). */
void	 codes_add(struct codes *, const char *list);
/* 1 when code (may be NULL) is among them. */
int	 codes_has(const struct codes *, const char *code);
/*
 * The record's decision (immich-decide(1), "decision": {action, keep,
 * accept}): 1 when code is in its accept list, the codes a person saw on
 * the review page and resolved the group despite, which count as given
 * with -a for this record only.  decision_action: its action ("resolve",
 * "stack", "dismiss"), or NULL when the record has no decision.
 */
int	 decision_accepts(const cJSON *rec, const char *code);
const char *decision_action(const cJSON *rec);

#endif
