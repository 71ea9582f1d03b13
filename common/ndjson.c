/* SPDX-License-Identifier: ISC */
#include <err.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/ndjson.h"
#include "common/progress.h"
#include "common/util.h"

void
ndjson_init(void)
{
	static cJSON_Hooks hooks = { xmalloc, free };

	cJSON_InitHooks(&hooks);
}

void
ndjson_open(struct ndjson_in *in, FILE *fp, const char *name)
{
	memset(in, 0, sizeof(*in));
	in->fp = fp;
	in->name = name;
}

int
ndjson_next(struct ndjson_in *in, cJSON **out)
{
	const char *end = NULL;
	ssize_t n;
	cJSON *o;

	*out = NULL;
	for (;;) {
		errno = 0;
		n = getline(&in->line, &in->cap, in->fp);
		if (n < 0) {
			if (ferror(in->fp))
				err(EX_FATAL, "%s: read error", in->name);
			return 0;
		}
		in->lineno++;
		while (n > 0 && (in->line[n - 1] == '\n' ||
		    in->line[n - 1] == '\r'))
			in->line[--n] = '\0';
		if (strspn(in->line, " \t") != (size_t)n)
			break;
		if ((size_t)n != strlen(in->line))
			break;
	}
	if ((size_t)n != strlen(in->line)) {
		warnx("%s:%zu: NUL byte in line", in->name, in->lineno);
		return -1;
	}
	o = cJSON_ParseWithLengthOpts(in->line, n, &end, 0);
	if (o == NULL) {
		end = cJSON_GetErrorPtr();
		warnx("%s:%zu: invalid JSON at byte %td%s", in->name,
		    in->lineno, end ? end - in->line + 1 : 0,
		    end && *end == '\0' ? " (truncated line?)" : "");
		return -1;
	}
	end += strspn(end, " \t");
	if (*end != '\0') {
		warnx("%s:%zu: trailing data after the JSON value at byte %td",
		    in->name, in->lineno, end - in->line + 1);
		cJSON_Delete(o);
		return -1;
	}
	if (!cJSON_IsObject(o)) {
		warnx("%s:%zu: not a JSON object", in->name, in->lineno);
		cJSON_Delete(o);
		return -1;
	}
	*out = o;
	return 1;
}

void
ndjson_close(struct ndjson_in *in)
{
	free(in->line);
	in->line = NULL;
	in->cap = 0;
}

int
ndjson_loop(FILE *fp, const char *name,
    int (*fn)(cJSON *, const struct ndjson_in *, void *), void *arg)
{
	struct ndjson_in in;
	cJSON *rec;
	int rv, status = EX_DONE;

	ndjson_open(&in, fp, name);
	while ((rv = ndjson_next(&in, &rec)) != 0) {
		prog.records++;
		if (rv < 0 || fn(rec, &in, arg) < 0) {
			prog.failed++;
			status = EX_SOME;
		}
		progress_tick();
	}
	ndjson_close(&in);
	return status;
}

static void
write_failed(void)
{
	if (errno == EPIPE) {
		/* The reader went away: end as a filter killed by SIGPIPE. */
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
		_exit(EX_FATAL);
	}
	err(EX_FATAL, "write error");
}

/*
 * cJSON 1.7.15 prints a number with 15 significant digits whenever they
 * come within one epsilon of it, which changes the last digit of about
 * one full-precision GPS coordinate in six.  In a copy, numbers become
 * raw text with the fewest digits (15 to 17) that read back as the same
 * double, so a value passes through a stage unchanged.
 */
static void
exact_numbers(cJSON *o)
{
	char buf[40];
	int prec;

	for (; o != NULL; o = o->next) {
		if (o->child)
			exact_numbers(o->child);
		if (!cJSON_IsNumber(o) || !isfinite(o->valuedouble))
			continue;
		for (prec = 15; prec < 17; prec++) {
			snprintf(buf, sizeof(buf), "%.*g", prec, o->valuedouble);
			if (strtod(buf, NULL) == o->valuedouble)
				break;
		}
		if (prec == 17)
			snprintf(buf, sizeof(buf), "%.17g", o->valuedouble);
		o->valuestring = xstrdup(buf);
		o->type = (o->type & ~0xff) | cJSON_Raw;
	}
}

void
ndjson_emit(const cJSON *o)
{
	cJSON *c = cJSON_Duplicate(o, 1);
	char *s;

	if (c == NULL)
		errx(EX_FATAL, "out of memory");
	exact_numbers(c);
	s = cJSON_PrintUnformatted(c);
	cJSON_Delete(c);
	if (s == NULL)
		errx(EX_FATAL, "out of memory");
	if (fputs(s, stdout) == EOF || putchar('\n') == EOF)
		write_failed();
	free(s);
}

void
ndjson_finish(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		write_failed();
}

cJSON *
rec_get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

const char *
rec_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

long long
rec_num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 ?
	    (long long)v->valuedouble : -1;
}

cJSON *
rec_asset(const cJSON *rec, const char *id)
{
	const cJSON *assets = cJSON_GetObjectItemCaseSensitive(rec, "assets");
	cJSON *a;

	if (id == NULL || !cJSON_IsArray(assets))
		return NULL;
	cJSON_ArrayForEach(a, assets) {
		const char *aid = rec_str(a, "id");
		if (aid && strcmp(aid, id) == 0)
			return a;
	}
	return NULL;
}

int
rec_has_id(const cJSON *list, const char *id)
{
	const cJSON *x;
	const char *xid;

	if (!cJSON_IsArray(list) || id == NULL)
		return 0;
	cJSON_ArrayForEach(x, list)
		if ((xid = rec_str(x, "id")) && strcmp(xid, id) == 0)
			return 1;
	return 0;
}

int
rec_has_str(const cJSON *list, const char *s)
{
	const cJSON *x;

	if (list == NULL || s == NULL)
		return 0;
	cJSON_ArrayForEach(x, list)
		if (cJSON_IsString(x) && strcmp(x->valuestring, s) == 0)
			return 1;
	return 0;
}

void
rec_set(cJSON *obj, const char *key, cJSON *val)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val);
	else
		cJSON_AddItemToObject(obj, key, val);
}

void
rec_error(cJSON *rec, const struct ndjson_in *in, const char *asset,
    const char *fmt, ...)
{
	cJSON *errs = cJSON_GetObjectItemCaseSensitive(rec, "errors");
	cJSON *e;
	va_list ap;
	char *msg, *vis;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (!cJSON_IsArray(errs)) {
		errs = cJSON_CreateArray();
		rec_set(rec, "errors", errs);
	}
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "stage", program_invocation_short_name);
	if (asset)
		cJSON_AddStringToObject(e, "asset", asset);
	else
		cJSON_AddNullToObject(e, "asset");
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddItemToArray(errs, e);
	/* The record keeps the message as it is; the terminal gets it with
	 * its control characters (from a server's names) shown. */
	vis = xstrvis(msg);
	free(msg);
	msg = vis;
	if (in && asset)
		warnx("%s:%zu: asset %s: %s", in->name, in->lineno, asset, msg);
	else if (in)
		warnx("%s:%zu: %s", in->name, in->lineno, msg);
	else if (asset)
		warnx("asset %s: %s", asset, msg);
	else
		warnx("%s", msg);
	free(msg);
}

int
valid_uuid(const char *s)
{
	static const int dash[] = { 8, 13, 18, 23 };
	size_t i, d = 0;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (d < 4 && (int)i == dash[d]) {
			if (s[i] != '-')
				return 0;
			d++;
		} else if (!strchr("0123456789abcdef", s[i]) || !s[i])
			return 0;
	}
	return 1;
}
