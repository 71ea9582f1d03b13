/* SPDX-License-Identifier: ISC */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/env.h"
#include "common/util.h"

static struct env env;
static int loaded;

/* Whether host (a name or an address, IPv6 without brackets) is this
 * machine: localhost, *.localhost, 127.0.0.0/8, ::1 (or ::ffff:127.x). */
static int
loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	size_t n = strlen(host);

	if (n > 0 && host[n - 1] == '.')
		n--;		/* a fully qualified "localhost." */
	if ((n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	    (n > 10 && strncasecmp(host + n - 10, ".localhost", 10) == 0))
		return 1;
	if (inet_aton(host, &a4))
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

/* A plain http:// URL to another machine sends the key in clear text. */
static void
warn_if_cleartext(const char *url)
{
	const char *a, *at, *e;
	size_t n;
	char *host;

	if (strncasecmp(url, "http://", 7) != 0)
		return;
	a = url + 7;
	n = strcspn(a, "/?#");
	for (at = a; (e = memchr(at, '@', n - (at - a))) != NULL; at = e + 1)
		;	/* after any user info */
	if (*at == '[') {
		e = memchr(at, ']', n - (at - a));
		host = xasprintf("%.*s", e ? (int)(e - at - 1) : 0, at + 1);
	} else
		host = xasprintf("%.*s", (int)strcspn(at, ":/?#"), at);
	if (!loopback(host))
		warnx("IMMICH_INSTANCE_URL is plain http:// to %s, not this "
		    "machine: the API key travels unencrypted; use https://",
		    host);
	free(host);
}

void
warn_if_readable(const char *path, const char *what)
{
	struct stat st;

	if (stat(path, &st) == -1 || !(st.st_mode & (S_IRGRP | S_IROTH)))
		return;
	warnx("%s: %s can be read by %s (mode %03o): chmod 600 it to keep "
	    "the API key private", what, path, st.st_mode & S_IROTH ?
	    "others" : "its group", (unsigned)(st.st_mode & 0777));
}

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
	warn_if_cleartext(v);
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
	warn_if_readable(path, "IMMICH_API_KEY_FILE");
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
