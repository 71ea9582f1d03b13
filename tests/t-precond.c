/* SPDX-License-Identifier: ISC */
/*
 * t-precond: a test driver for common/precond.c (not installed).  Reads
 * lines of {"rec": RECORD, "id": LOSER, "C": bool, "accept": [codes]}
 * and prints, per line, what immich-trash would do with the loser from
 * the record alone: "go SUM" (with " cskip" when consolidation was
 * skipped under C) or "CODE: DETAIL".  Lines {"lpeople": [...],
 * "kpeople": [...]} and {"now": [...], "seen": [...]} check a loser's
 * people against the keeper's (pc_people, when pc_named) and its albums
 * against consolidation's (pc_new_album): "go" or "CODE: DETAIL".  A
 * line that is none of these prints "bad line".  Last, "rehashed N".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ndjson.h"
#include "common/precond.h"
#include "common/util.h"

int
main(void)
{
	char *line = NULL, *detail;
	const char *acc[16], *code, *sum, *id;
	const cJSON *a;
	size_t cap = 0, n;
	struct pc_group g;
	cJSON *j;
	int cskip;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (getline(&line, &cap, stdin) != -1) {
		j = cJSON_Parse(line);
		id = rec_str(j, "id");
		if (rec_get(j, "lpeople") || rec_get(j, "now")) {
			code = rec_get(j, "now") ? pc_new_album(rec_get(j,
			    "now"), rec_get(j, "seen"), &detail) :
			    !pc_named(rec_get(j, "lpeople")) ? (detail = NULL) :
			    pc_people(rec_get(j, "lpeople"), rec_get(j,
			    "kpeople"), "K", &detail);
			if (code)
				printf("%s: %s\n", code, detail);
			else
				puts("go");
			free(detail);
			cJSON_Delete(j);
			continue;
		}
		if (!cJSON_IsObject(j) || id == NULL) {
			puts("bad line");
			cJSON_Delete(j);
			continue;
		}
		n = 0;
		cJSON_ArrayForEach(a, rec_get(j, "accept"))
			if (cJSON_IsString(a) && n < 16)
				acc[n++] = a->valuestring;
		pc_group(&g, rec_get(j, "rec"), acc, n);
		code = pc_loser(&g, rec_get(j, "rec"), id,
		    cJSON_IsTrue(rec_get(j, "C")), &detail, &sum, &cskip);
		if (code)
			printf("%s: %s\n", code, detail);
		else
			printf("go %s%s\n", sum, cskip ? " cskip" : "");
		free(detail);
		pc_group_free(&g);
		cJSON_Delete(j);
	}
	printf("rehashed %ld\n", pc_rehashed());
	free(line);
	return EX_DONE;
}
