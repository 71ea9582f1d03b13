/* SPDX-License-Identifier: ISC */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include "common/env.h"
#include "common/util.h"

static struct env env;
static int loaded;
static char *login_file;	/* the auth.yml the settings came from */

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
warn_if_cleartext(const char *url, const char *what)
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
		warnx("%s is plain http:// to %s, not this "
		    "machine: the API key travels unencrypted; use https://",
		    what, host);
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
	warn_if_cleartext(v, "IMMICH_INSTANCE_URL");
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

/*
 * The Immich CLI's saved login ("immich login URL KEY"): auth.yml in
 * $IMMICH_CONFIG_DIR, else ~/.config/immich, with "url:" and "key:".
 */
static char *
login_path(void)
{
	const char *d = getenv("IMMICH_CONFIG_DIR"), *home;

	if (d != NULL && *d != '\0')
		return xasprintf("%s/auth.yml", d);
	if ((home = getenv("HOME")) == NULL || *home == '\0')
		return NULL;
	return xasprintf("%s/.config/immich/auth.yml", home);
}

/* The scalar value of top-level key name in a YAML mapping, or NULL. */
static const char *
yaml_get(yaml_document_t *doc, const char *name, const char *path)
{
	yaml_node_t *root = yaml_document_get_root_node(doc), *k, *v;
	yaml_node_pair_t *p;

	if (root == NULL || root->type != YAML_MAPPING_NODE)
		errx(EX_USAGE, "%s: not a YAML mapping of url: and key:", path);
	for (p = root->data.mapping.pairs.start;
	    p < root->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(doc, p->key);
		v = yaml_document_get_node(doc, p->value);
		if (k == NULL || k->type != YAML_SCALAR_NODE ||
		    strcmp((char *)k->data.scalar.value, name) != 0)
			continue;
		if (v == NULL || v->type != YAML_SCALAR_NODE)
			errx(EX_USAGE, "%s: %s: not a plain value", path,
			    name);
		return (const char *)v->data.scalar.value;
	}
	return NULL;
}

/* The API base URL from a login file's url (checked as IMMICH_INSTANCE_URL). */
static char *
login_url(const char *v, const char *path)
{
	size_t n;

	if (v == NULL || *v == '\0')
		errx(EX_USAGE, "%s: no url: (run immich login URL KEY, or "
		    "set IMMICH_INSTANCE_URL and IMMICH_API_KEY)", path);
	if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
		errx(EX_USAGE, "%s: url: must start with http:// or https://",
		    path);
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			errx(EX_USAGE, "%s: url: contains white space or "
			    "control characters", path);
	{
		char *what = xasprintf("%s: url:", path);
		warn_if_cleartext(v, what);
		free(what);
	}
	n = strlen(v);
	while (n > 0 && v[n - 1] == '/')
		n--;
	if (n >= 4 && strncmp(v + n - 4, "/api", 4) == 0)
		return xasprintf("%.*s", (int)n, v);
	return xasprintf("%.*s/api", (int)n, v);
}

static char *
login_key(const char *k, const char *path)
{
	if (k == NULL || *k == '\0')
		errx(EX_USAGE, "%s: no key: (run immich login URL KEY, or "
		    "set IMMICH_INSTANCE_URL and IMMICH_API_KEY)", path);
	for (const char *p = k; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			errx(EX_USAGE, "%s: key: contains control characters",
			    path);
	return xstrdup(k);
}

/*
 * When none of IMMICH_INSTANCE_URL, IMMICH_API_KEY, IMMICH_API_KEY_FILE
 * is set and auth.yml exists: the server and key from it.  1 if used.
 */
static int
load_login(void)
{
	static const char *vars[] = { "IMMICH_INSTANCE_URL",
	    "IMMICH_API_KEY", "IMMICH_API_KEY_FILE" };
	yaml_parser_t parser;
	yaml_document_t doc;
	const char *v;
	char *path;
	FILE *fp;
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if ((v = getenv(vars[i])) != NULL && *v != '\0')
			return 0;
	if ((path = login_path()) == NULL)
		return 0;
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR) {
			free(path);
			return 0;
		}
		err(EX_USAGE, "%s", path);
	}
	warn_if_readable(path, "the Immich CLI's login");
	if (!yaml_parser_initialize(&parser))
		errx(EX_FATAL, "out of memory");
	yaml_parser_set_input_file(&parser, fp);
	if (!yaml_parser_load(&parser, &doc))
		errx(EX_USAGE, "%s: line %lu: %s", path,
		    (unsigned long)parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "not valid YAML");
	env.api = login_url(yaml_get(&doc, "url", path), path);
	env.key = login_key(yaml_get(&doc, "key", path), path);
	/* The key is in libyaml's buffers too: wipe it there. */
	for (i = 0; doc.nodes.start + i < doc.nodes.top; i++)
		if (doc.nodes.start[i].type == YAML_SCALAR_NODE)
			explicit_bzero(doc.nodes.start[i].data.scalar.value,
			    doc.nodes.start[i].data.scalar.length);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(fp);
	login_file = path;
	return 1;
}

const char *
env_login_file(void)
{
	return login_file;
}

const struct env *
env_get(void)
{
	if (!loaded) {
		if (!load_login()) {
			env.api = load_url();
			env.key = load_key();
		}
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
