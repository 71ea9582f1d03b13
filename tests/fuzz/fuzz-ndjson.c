/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the record reader (ndjson_next) on a memory FILE, and
 * the record helpers on what it returns.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/ndjson.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ndjson_in in;
	cJSON *rec, *trash, *id;
	FILE *fp;
	int rv;

	if (size == 0)
		return 0;
	if ((fp = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	ndjson_open(&in, fp, "fuzz");
	while ((rv = ndjson_next(&in, &rec)) != 0) {
		if (rv < 0)
			continue;
		(void)rec_str(rec, "keep");
		(void)valid_uuid(rec_str(rec, "keep"));
		trash = cJSON_GetObjectItemCaseSensitive(rec, "trash");
		cJSON_ArrayForEach(id, trash)
			if (cJSON_IsString(id))
				(void)rec_asset(rec, id->valuestring);
		rec_set(rec, "fuzzed", cJSON_CreateTrue());
		cJSON_Delete(rec);
	}
	ndjson_close(&in);
	fclose(fp);
	return 0;
}
