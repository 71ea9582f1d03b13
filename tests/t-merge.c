/* SPDX-License-Identifier: ISC */
/*
 * t-merge: a test driver for merge_loser_changed() in common/merge.c (not
 * installed).  Reads lines of [SNAPSHOT, FRESH] (two AssetResponseDto, or
 * anything else to test bad input) and prints, per line, "same" or
 * "changed: REASON".  A line that is not a JSON array of two prints
 * "bad line".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/merge.h"
#include "common/util.h"

int
main(void)
{
	char *line = NULL, why[200];
	size_t cap = 0;
	cJSON *j;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (getline(&line, &cap, stdin) != -1) {
		j = cJSON_Parse(line);
		if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) != 2)
			puts("bad line");
		else if (merge_loser_changed(cJSON_GetArrayItem(j, 0),
		    cJSON_GetArrayItem(j, 1), why, sizeof(why)))
			printf("changed: %s\n", why);
		else
			puts("same");
		cJSON_Delete(j);
	}
	free(line);
	return EX_DONE;
}
