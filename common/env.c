/* SPDX-License-Identifier: ISC */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/env.h"
#include "common/util.h"

static struct env env;
static int loaded;

static char *
load_url(void)
{
	const char *v = getenv("IMMICH_INSTANCE_URL");
	char *u;
	size_t n;

	if (v == NULL || *v == '\0')
		errx(EX_USAGE, "IMMICH_INSTANCE_URL is not set: set it to your "
		    "server's address, e.g. https://photos.example.org");
	if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
		errx(EX_USAGE, "IMMICH_INSTANCE_URL must start with http:// "
		    "or https://");
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			errx(EX_USAGE, "IMMICH_INSTANCE_URL contains white "
			    "space or control characters");
	u = xstrdup(v);
	n = strlen(u);
	while (n > 0 && u[n - 1] == '/')
		u[--n] = '\0';
	if (n >= 4 && strcmp(u + n - 4, "/api") == 0)
		return u;
	free(u);
	u = xasprintf("%.*s/api", (int)n, v);
	return u;
}

static char *
read_key_file(const char *path)
{
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if ((fp = fopen(path, "r")) == NULL)
		err(EX_USAGE, "IMMICH_API_KEY_FILE: %s", path);
	n = getline(&line, &cap, fp);
	fclose(fp);
	if (n < 0)
		errx(EX_USAGE, "IMMICH_API_KEY_FILE: %s: file is empty", path);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
	    line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	return line;
}

static char *
load_key(void)
{
	const char *k = getenv("IMMICH_API_KEY");
	const char *f = getenv("IMMICH_API_KEY_FILE");
	char *key;

	if (k && *k && f && *f)
		errx(EX_USAGE, "both IMMICH_API_KEY and IMMICH_API_KEY_FILE "
		    "are set: set only one");
	if (f && *f)
		key = read_key_file(f);
	else if (k && *k)
		key = xstrdup(k);
	else
		errx(EX_USAGE, "IMMICH_API_KEY is not set: create an API key "
		    "in Immich (Account Settings > API Keys) and set "
		    "IMMICH_API_KEY, or IMMICH_API_KEY_FILE to a file holding it");
	if (*key == '\0')
		errx(EX_USAGE, "%s: the API key is empty",
		    f && *f ? "IMMICH_API_KEY_FILE" : "IMMICH_API_KEY");
	for (const char *p = key; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			errx(EX_USAGE, "%s: the API key contains control "
			    "characters", f && *f ? "IMMICH_API_KEY_FILE" :
			    "IMMICH_API_KEY");
	return key;
}

const struct env *
env_get(void)
{
	if (!loaded) {
		env.api = load_url();
		env.key = load_key();
		loaded = 1;
	}
	return &env;
}

long
env_long(const char *name, long def, long min, long max)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end != '\0' || n < min || n > max)
		errx(EX_USAGE, "%s: '%s' is not a whole number from %ld to %ld",
		    name, v, min, max);
	return n;
}

double
env_double(const char *name, double def, double min, double max)
{
	const char *v = getenv(name);
	char *end;
	double d;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	d = strtod(v, &end);
	if (errno || *end != '\0' || !(d >= min && d <= max))
		errx(EX_USAGE, "%s: '%s' is not a number from %g to %g",
		    name, v, min, max);
	return d;
}
