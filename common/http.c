/* SPDX-License-Identifier: ISC */
/*
 * Immich's REST API over one reused libcurl easy handle: settings,
 * headers, retries with backoff and jitter, Retry-After, resumed
 * downloads, error bodies.  The only file that includes <curl/curl.h>.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "common/env.h"
#include "common/http.h"
#include "common/progress.h"
#include "common/ratelimit.h"
#include "common/util.h"

#ifndef VERSION
#error "VERSION comes from the Makefile"
#endif

#define JSON_MAX	(64L << 20)	/* a buffered 2xx reply */
#define ERRBODY_MAX	(1L << 20)	/* a kept error body */
#define BACKOFF_MAX	60.0		/* seconds */
#define RETRY_AFTER_MAX	300.0		/* seconds */
#define REPLYMSG_MAX	8192		/* an error message before its cut */

enum kind { K_JSON, K_STREAM, K_UPLOAD };

struct req {
	CURL	*e;		/* the handle it is sent with */
	enum kind kind;
	int	 once;		/* retry only what surely was not handled */
	const char *method;
	const char *path;
	const char *json;
	const struct http_sink *sink;
	curl_mime *mime;
	int	 resume;
	long long from;		/* Range start of the next attempt; 0 none */

	/* Per reply (reset on every status line). */
	long	 status;
	char	 reason[64];
	double	 retry_after;	/* seconds; -1 if none */
	long long clen;		/* Content-Length; -1 if none */
	long long cr_start, cr_total;	/* Content-Range; -1 if none */
	int	 encoded;	/* has a Content-Encoding */
	int	 hdone;		/* headers of a final reply seen */

	/* Per attempt. */
	int	 started;	/* sink start() called */
	int	 aborted;	/* the sink said stop */
	int	 toobig;
	int	 badrange;
	long long offset;	/* where the 2xx body starts */
	long long got;		/* 2xx body bytes given to the sink */
	char	*buf;
	size_t	 len, cap;
	char	 errbuf[CURL_ERROR_SIZE];
};

static CURL *h;
static const struct env *env;
static struct curl_slist *hdr_json, *hdr_body, *hdr_empty, *hdr_any;
static long retries, conn_timeout, low_speed_time, low_speed_limit;
static double retry_delay;
static long nrequests;
static unsigned short seed[3];
static const char *basepath;	/* path part of env->api, e.g. "/api" */

/* TLS settings and the extra proxy headers (at the end of this file). */
static void tls_init(void);
static void tls_opts(CURL *);
static void tls_hint(CURLcode, char *, size_t);
static void tls_reply_hint(const struct req *, char *, size_t);
static struct curl_slist *extra_headers(struct curl_slist *);
static size_t redact_extra(char *, size_t);

void
http_init(void)
{
	char *s;
	const char *p;

	if (h != NULL)
		return;
	env = env_get();
	retries = env_long("IMMICH_RETRIES", 5, 0, 100);
	retry_delay = env_double("IMMICH_RETRY_DELAY", 1, 0, 60);
	conn_timeout = env_long("IMMICH_CONNECT_TIMEOUT", 10, 1, 3600);
	low_speed_time = env_long("IMMICH_LOW_SPEED_TIME", 60, 1, 86400);
	low_speed_limit = env_long("IMMICH_LOW_SPEED_LIMIT", 1024, 1,
	    1L << 30);
	tls_init();
	rl_init(env->api);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		errx(EX_FATAL, "cannot initialise libcurl");
	if ((h = curl_easy_init()) == NULL)
		errx(EX_FATAL, "cannot initialise libcurl");

	s = xasprintf("x-api-key: %s", env->key);
	hdr_any = curl_slist_append(NULL, s);
	hdr_any = curl_slist_append(hdr_any, "Accept: */*");
	hdr_json = curl_slist_append(NULL, s);
	hdr_json = curl_slist_append(hdr_json, "Accept: application/json");
	hdr_empty = curl_slist_append(NULL, s);
	hdr_empty = curl_slist_append(hdr_empty, "Accept: application/json");
	hdr_empty = curl_slist_append(hdr_empty, "Content-Type:");
	hdr_body = curl_slist_append(NULL, s);
	hdr_body = curl_slist_append(hdr_body, "Accept: application/json");
	hdr_body = curl_slist_append(hdr_body,
	    "Content-Type: application/json");
	explicit_bzero(s, strlen(s));
	free(s);
	hdr_any = extra_headers(hdr_any);
	hdr_json = extra_headers(hdr_json);
	hdr_empty = extra_headers(hdr_empty);
	hdr_body = extra_headers(hdr_body);
	if (hdr_any == NULL || hdr_json == NULL || hdr_body == NULL ||
	    hdr_empty == NULL)
		errx(EX_FATAL, "out of memory");

	/* "scheme://host[:port]/base/api" → "/base/api", for messages. */
	p = strstr(env->api, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	basepath = p ? p : "";

	seed[0] = (unsigned short)getpid();
	seed[1] = (unsigned short)time(NULL);
	seed[2] = (unsigned short)((unsigned long)time(NULL) >> 16);
}

long
http_requests(void)
{
	return nrequests;
}

void
http_free(struct http_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

/*
 * Text helpers.  Messages are one line of valid UTF-8 with no control
 * bytes, cut at a character boundary.
 */

struct sbuf {
	char	*p;
	size_t	 len, sz;
	int	 full;
};

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned int c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	c = s[0] & (0x7f >> len);
	for (i = 1; i < len; i++)
		c = c << 6 | (s[i] & 0x3f);
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return len;
}

/* Append n bytes of s, control bytes as spaces, bad UTF-8 as '?'. */
static void
sb_addn(struct sbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, l;

	while (i < n && !b->full) {
		l = utf8_len(u + i, n - i);
		if (b->len + (l ? l : 1) + 4 > b->sz) {
			/* Room for "..." and the NUL is kept. */
			memcpy(b->p + b->len, "...", 3);
			b->len += 3;
			b->full = 1;
			break;
		}
		if (l == 0) {
			b->p[b->len++] = '?';
			i++;
		} else if (l == 1) {
			b->p[b->len++] = u[i] < 0x20 || u[i] == 0x7f ?
			    ' ' : (char)u[i];
			i++;
		} else {
			memcpy(b->p + b->len, u + i, l);
			b->len += l;
			i += l;
		}
	}
	b->p[b->len] = '\0';
}

static void
sb_add(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

/* Zod issue path ["ids", 0] → "ids.0". */
static void
add_path(struct sbuf *b, const cJSON *path)
{
	const cJSON *e;
	char num[32];
	int first = 1;

	cJSON_ArrayForEach(e, path) {
		if (!first)
			sb_add(b, ".");
		first = 0;
		if (cJSON_IsString(e))
			sb_add(b, e->valuestring);
		else if (cJSON_IsNumber(e)) {
			snprintf(num, sizeof(num), "%.15g", e->valuedouble);
			sb_add(b, num);
		}
	}
	if (!first)
		sb_add(b, ": ");
}

/* Append a string or the strings of an array joined with "; ". */
static void
add_text(struct sbuf *b, const cJSON *v)
{
	const cJSON *e;
	int first = 1;

	if (cJSON_IsString(v))
		sb_add(b, v->valuestring);
	else if (cJSON_IsArray(v))
		cJSON_ArrayForEach(e, v) {
			if (!cJSON_IsString(e))
				continue;
			if (!first)
				sb_add(b, "; ");
			first = 0;
			sb_add(b, e->valuestring);
		}
}

/* The message of a JSON error body; 0 if there is none. */
static int
json_msg(struct sbuf *b, const char *body, size_t len)
{
	cJSON *o, *v, *errs, *e;
	int n = 0;

	if ((o = cJSON_ParseWithLength(body, len)) == NULL)
		return 0;
	if (cJSON_IsString(o))
		sb_add(b, o->valuestring);
	else if (cJSON_IsObject(o)) {
		v = cJSON_GetObjectItemCaseSensitive(o, "message");
		add_text(b, v);
		errs = cJSON_GetObjectItemCaseSensitive(o, "errors");
		if (cJSON_IsArray(errs))
			cJSON_ArrayForEach(e, errs) {
				v = cJSON_GetObjectItemCaseSensitive(e,
				    "message");
				if (!cJSON_IsString(v))
					continue;
				if (n++ > 0)
					sb_add(b, "; ");
				else if (b->len > 0)
					sb_add(b, ": ");
				add_path(b, cJSON_GetObjectItemCaseSensitive(e,
				    "path"));
				sb_add(b, v->valuestring);
			}
		if (b->len == 0)
			add_text(b, cJSON_GetObjectItemCaseSensitive(o,
			    "error"));
	}
	cJSON_Delete(o);
	return b->len > 0;
}

void
http_errmsg(const char *body, size_t len, char *buf, size_t bufsz)
{
	struct sbuf b = { buf, 0, bufsz, 0 };
	const char *s, *e, *t;
	size_t n;

	if (bufsz == 0)
		return;
	buf[0] = '\0';
	if (bufsz < 8)
		return;
	if (body == NULL)
		return;
	while (len > 0 && strchr(" \t\r\n", *body)) {
		body++;
		len--;
	}
	while (len > 0 && strchr(" \t\r\n", body[len - 1]))
		len--;
	if (len == 0 || json_msg(&b, body, len))
		return;
	b.len = 0;
	b.full = 0;
	buf[0] = '\0';
	/* An HTML page (a proxy's error page): its title. */
	if (*body == '<' && (t = memmem(body, len, "<title>", 7)) != NULL &&
	    (e = memmem(t, len - (t - body), "</title>", 8)) != NULL) {
		s = t + 7;
		n = e - s;
	} else {
		s = body;
		e = memchr(body, '\n', len);
		n = e ? (size_t)(e - body) : len;
	}
	if (b.sz > 204)
		b.sz = 204;	/* about 200 bytes of a raw body */
	sb_addn(&b, s, n);
	while (b.len > 0 && buf[b.len - 1] == ' ')
		buf[--b.len] = '\0';
}

/*
 * Replace the API key wherever it appears in the n bytes at s (a server
 * could echo it), NUL bytes included; returns the new length and keeps a
 * NUL after it.  Done on the raw text, before it is formatted or cut: a
 * key cut in two by a length limit would not be found.
 */
static size_t
redact_mem(char *s, size_t n)
{
	size_t kl = strlen(env->key), m = kl < 3 ? kl : 3, off = 0;
	char *p;

	n = redact_extra(s, n);
	if (kl == 0)
		return n;
	while ((p = memmem(s + off, n - off, env->key, kl)) != NULL) {
		memset(p, '*', m);
		memmove(p + m, p + kl, n - (p + kl - s));
		n -= kl - m;
		off = p + m - s;
	}
	s[n] = '\0';
	return n;
}

static void
redact(char *s)
{
	redact_mem(s, strlen(s));
}

static const char *
reason_of(long status)
{
	static const struct { long code; const char *text; } tab[] = {
		{ 200, "OK" }, { 201, "Created" }, { 204, "No Content" },
		{ 206, "Partial Content" }, { 301, "Moved Permanently" },
		{ 302, "Found" }, { 303, "See Other" },
		{ 307, "Temporary Redirect" }, { 308, "Permanent Redirect" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 408, "Request Timeout" },
		{ 409, "Conflict" }, { 413, "Payload Too Large" },
		{ 416, "Range Not Satisfiable" },
		{ 422, "Unprocessable Entity" },
		{ 429, "Too Many Requests" }, { 500, "Internal Server Error" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].code == status)
			return tab[i].text;
	return "";
}

/* "HTTP 503 Service Unavailable" */
static void
status_text(const struct req *q, char *buf, size_t sz)
{
	const char *rs = q->reason[0] ? q->reason : reason_of(q->status);

	snprintf(buf, sz, "HTTP %ld%s%s", q->status, *rs ? " " : "", rs);
}

/*
 * libcurl callbacks.
 */

static int
buf_add(struct req *q, const char *p, size_t n, size_t max)
{
	size_t want;

	if (q->len + n > max) {
		if (q->status >= 200 && q->status < 300)
			return -1;
		n = max - q->len;	/* an error body: keep its start */
	}
	if (q->len + n + 1 > q->cap) {
		want = q->cap ? q->cap : 4096;
		while (want < q->len + n + 1)
			want *= 2;
		q->buf = xrealloc(q->buf, want);
		q->cap = want;
	}
	memcpy(q->buf + q->len, p, n);
	q->len += n;
	q->buf[q->len] = '\0';
	return 0;
}

/* Headers are done: a 2xx stream starts its sink. */
static int
headers_done(struct req *q)
{
	long long off = 0, total = -1;

	q->hdone = 1;
	if (q->kind != K_STREAM || q->status < 200 || q->status >= 300)
		return 0;
	if (q->status == 206) {
		if (q->cr_start < 0 || q->cr_start != q->from) {
			q->badrange = 1;
			return -1;
		}
		off = q->cr_start;
		total = q->encoded ? -1 : q->cr_total;
	} else if (!q->encoded)
		total = q->clen;
	q->offset = off;
	q->got = 0;
	q->started = 1;
	if (q->sink->start && q->sink->start(q->sink->arg, off, total) != 0) {
		q->aborted = 1;
		return -1;
	}
	return 0;
}

static double
parse_retry_after(const char *v)
{
	long long n;
	time_t t;

	if ((n = parse_num(v)) >= 0)
		return n;
	if ((t = curl_getdate(v, NULL)) == -1)
		return -1;
	return difftime(t, time(NULL));
}

/* The reason phrase of a status line: redacted whole, then made one
 * line of valid UTF-8 and cut. */
static void
set_reason(struct req *q, const char *r, size_t n)
{
	struct sbuf b = { q->reason, 0, sizeof(q->reason), 0 };
	char *t = xmalloc(n + 1);

	memcpy(t, r, n);
	n = redact_mem(t, n);
	sb_addn(&b, t, n);
	while (b.len > 0 && q->reason[b.len - 1] == ' ')
		q->reason[--b.len] = '\0';
	free(t);
}

static size_t
header_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct req *q = arg;
	size_t n = size * nmemb, l = n, vl;
	char line[512], *v;

	while (l > 0 && (p[l - 1] == '\n' || p[l - 1] == '\r'))
		l--;
	if (l >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new reply (after a 100 Continue, or the first). */
		const char *s = memchr(p, ' ', l), *r;
		q->status = 0;
		q->reason[0] = '\0';
		q->retry_after = -1;
		q->clen = q->cr_start = q->cr_total = -1;
		q->encoded = 0;
		q->hdone = 0;
		if (s && l - (s - p) >= 4) {
			q->status = strtol(s + 1, NULL, 10);
			if ((r = memchr(s + 1, ' ', l - (s + 1 - p))) != NULL)
				set_reason(q, r + 1, l - (r + 1 - p));
		}
		return n;
	}
	if (q->hdone)
		return n;	/* trailers */
	if (l == 0) {
		if (q->status >= 200 && headers_done(q) != 0)
			return 0;
		return n;
	}
	if (l >= sizeof(line) || (v = memchr(p, ':', l)) == NULL)
		return n;
	memcpy(line, p, l);
	line[l] = '\0';
	v = line + (v - p);
	*v++ = '\0';
	v += strspn(v, " \t");
	for (vl = strlen(v); vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t');)
		v[--vl] = '\0';
	if (strcasecmp(line, "Retry-After") == 0)
		q->retry_after = parse_retry_after(v);
	else if (strcasecmp(line, "Content-Length") == 0)
		q->clen = parse_num(v);
	else if (strcasecmp(line, "Content-Encoding") == 0)
		q->encoded = strcasecmp(v, "identity") != 0;
	else if (strcasecmp(line, "Content-Range") == 0) {
		long long a, b, t;
		char star;
		if (sscanf(v, "bytes %lld-%lld/%lld", &a, &b, &t) == 3) {
			q->cr_start = a;
			q->cr_total = t;
		} else if (sscanf(v, "bytes %lld-%lld/%c", &a, &b,
		    &star) == 3 && star == '*')
			q->cr_start = a;
	}
	return n;
}

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct req *q = arg;
	size_t n = size * nmemb;
	int ok2xx = q->status >= 200 && q->status < 300;

	if (q->kind == K_STREAM && ok2xx) {
		if (q->sink->data(q->sink->arg, p, n) != 0) {
			q->aborted = 1;
			return 0;
		}
		q->got += n;
		return n;
	}
	if (buf_add(q, p, n, ok2xx ? JSON_MAX : ERRBODY_MAX) != 0) {
		q->toobig = 1;
		return 0;
	}
	return n;
}

/* The request's headers and body (or Range), by its kind. */
static void
set_body(struct req *q, char *range, size_t rangesz)
{
	switch (q->kind) {
	case K_JSON:
		curl_easy_setopt(q->e, CURLOPT_ACCEPT_ENCODING, "");
		if (q->json) {
			curl_easy_setopt(q->e, CURLOPT_HTTPHEADER, hdr_body);
			curl_easy_setopt(q->e, CURLOPT_POSTFIELDSIZE,
			    (long)strlen(q->json));
			curl_easy_setopt(q->e, CURLOPT_POSTFIELDS, q->json);
		} else {
			curl_easy_setopt(q->e, CURLOPT_HTTPHEADER, hdr_json);
			if (strcmp(q->method, "POST") == 0 ||
			    strcmp(q->method, "PUT") == 0 ||
			    strcmp(q->method, "PATCH") == 0) {
				/* An empty body, without curl's form type. */
				curl_easy_setopt(q->e, CURLOPT_HTTPHEADER,
				    hdr_empty);
				curl_easy_setopt(q->e, CURLOPT_POSTFIELDSIZE, 0L);
				curl_easy_setopt(q->e, CURLOPT_POSTFIELDS, "");
			}
		}
		if (strcmp(q->method, "POST") != 0 &&
		    (q->json || strcmp(q->method, "GET") != 0))
			curl_easy_setopt(q->e, CURLOPT_CUSTOMREQUEST, q->method);
		break;
	case K_STREAM:
		curl_easy_setopt(q->e, CURLOPT_HTTPHEADER, hdr_any);
		curl_easy_setopt(q->e, CURLOPT_BUFFERSIZE, 131072L);
		if (q->from > 0) {
			snprintf(range, rangesz, "%lld-", q->from);
			curl_easy_setopt(q->e, CURLOPT_RANGE, range);
		} else if (!q->resume)
			/* Compression would make byte offsets meaningless. */
			curl_easy_setopt(q->e, CURLOPT_ACCEPT_ENCODING, "");
		break;
	case K_UPLOAD:
		curl_easy_setopt(q->e, CURLOPT_HTTPHEADER, hdr_json);
		curl_easy_setopt(q->e, CURLOPT_MIMEPOST, q->mime);
		break;
	}
}

/*
 * Set up an attempt: the handle is reset (its connections stay) and set
 * up for q.
 */
static void
prepare(struct req *q, char *range, size_t rangesz)
{
	CURL *h = q->e;
	char *url;

	q->status = 0;
	q->reason[0] = '\0';
	q->retry_after = -1;
	q->clen = q->cr_start = q->cr_total = -1;
	q->encoded = q->hdone = q->started = q->aborted = 0;
	q->toobig = q->badrange = 0;
	q->got = 0;
	q->len = 0;
	if (q->buf)
		q->buf[0] = '\0';
	q->errbuf[0] = '\0';

	url = xasprintf("%s%s", env->api, q->path);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, q->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "immich-dedupe/" VERSION);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	tls_opts(h);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, conn_timeout);
	/* Slower than low_speed_limit bytes/s for low_speed_time seconds:
	 * cut (there is no total timeout, so a trickle must end here). */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, low_speed_limit);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, low_speed_time);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, q);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, q);
	/* libcurl silently sends a request again when a reused connection
	 * turns out dead with nothing received; a request that must not be
	 * sent twice gets a connection of its own. */
	if (q->once)
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);

	set_body(q, range, rangesz);
	free(url);	/* libcurl keeps a copy */
}

/* One attempt, waiting for its turn in the shared limits. */
static CURLcode
attempt(struct req *q)
{
	struct sigaction ign, old;
	char range[48];
	CURLcode rc;

	prepare(q, range, sizeof(range));
	/*
	 * With CURLOPT_NOSIGNAL libcurl leaves SIGPIPE alone; a write to a
	 * reset connection by a TLS library that does not ask for
	 * MSG_NOSIGNAL would kill the process.  Ignore it for the transfer,
	 * as libcurl itself does without NOSIGNAL.
	 */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	rl_acquire();
	nrequests++;
	sigaction(SIGPIPE, &ign, &old);
	rc = curl_easy_perform(q->e);
	sigaction(SIGPIPE, &old, NULL);
	rl_release();
	progress_tick();	/* the requests count, between records too */
	if (q->status == 0 && rc == CURLE_OK)
		curl_easy_getinfo(q->e, CURLINFO_RESPONSE_CODE, &q->status);
	return rc;
}

/* Transport errors worth another attempt. */
static int
retry_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static int
retry_status(const struct req *q)
{
	switch (q->status) {
	case 408: case 429: case 503:
		return 1;
	case 500: case 502: case 504:
		/* An upload may have been handled: the caller decides. */
		return q->kind != K_UPLOAD;
	default:
		return 0;
	}
}

static void
sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Full jitter in [d/2, d], d = RETRY_DELAY * 2^n capped; or Retry-After. */
static double
backoff(const struct req *q, int n)
{
	double d = retry_delay;

	while (n-- > 0 && d < BACKOFF_MAX)
		d *= 2;
	if (d > BACKOFF_MAX)
		d = BACKOFF_MAX;
	d = d / 2 + erand48(seed) * d / 2;
	if (q->retry_after > 0)
		d = q->retry_after < RETRY_AFTER_MAX ? q->retry_after :
		    RETRY_AFTER_MAX;
	return d;
}

/*
 * The error text of a reply: the server's message, else the reason.  The
 * body is redacted in place first (it may be given back), and the message
 * again before it is cut to sz (an escaped key becomes plain in it).
 */
static void
reply_msg(struct req *q, char *buf, size_t sz)
{
	struct sbuf b = { buf, 0, sz, 0 };
	char *t;

	if (sz == 0)
		return;
	buf[0] = '\0';
	if (q->buf)
		q->len = redact_mem(q->buf, q->len);
	t = xmalloc(REPLYMSG_MAX);
	http_errmsg(q->buf, q->len, t, REPLYMSG_MAX);
	redact(t);
	sb_add(&b, t[0] ? t : q->reason[0] ? q->reason :
	    reason_of(q->status));
	free(t);
	tls_reply_hint(q, buf, sz);
}

static void
fatal_reply(struct req *q)
{
	char msg[512], loc[256] = "";
	const char *hint = "", *l = NULL;

	reply_msg(q, msg, sizeof(msg));
	if (q->status == 401)
		hint = " (check IMMICH_API_KEY)";
	else if (q->status == 403)
		hint = " (the API key lacks this permission)";
	if (q->status >= 300 && q->status < 400) {
		char st[96];
		curl_easy_getinfo(q->e, CURLINFO_REDIRECT_URL, &l);
		if (l) {
			struct sbuf b = { loc, 0, sizeof(loc), 0 };
			char *t = xasprintf("%.*s", (int)strcspn(l, "?#"), l);
			redact(t);
			sb_add(&b, " to ");
			sb_add(&b, t);
			free(t);
		}
		status_text(q, st, sizeof(st));
		errx(EX_FATAL, "%s %s%s: %s: the server redirects%s; set "
		    "IMMICH_INSTANCE_URL to the address it redirects to "
		    "(redirects are not followed, so that the API key is "
		    "never sent elsewhere)", q->method, basepath, q->path, st,
		    loc);
	}
	errx(EX_FATAL, "%s %s%s: HTTP %ld: %s%s", q->method, basepath, q->path,
	    q->status, msg, hint);
}

/* Cut an incomplete UTF-8 sequence left at the end by a truncation. */
static void
utf8_trim(char *s)
{
	size_t n = strlen(s), i = n, need;

	while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0 || (unsigned char)s[i - 1] < 0xc0)
		return;
	i--;
	need = (unsigned char)s[i] >= 0xf0 ? 4 :
	    (unsigned char)s[i] >= 0xe0 ? 3 : 2;
	if (n - i < need)
		s[i] = '\0';
}

/* The reply's body to the caller; an error body redacted. */
static void
give_back(struct req *q, struct http_resp *r)
{
	if (q->buf && (q->status < 200 || q->status >= 300))
		q->len = redact_mem(q->buf, q->len);
	r->status = q->status;
	r->body = q->buf;
	r->len = q->len;
	if (r->body == NULL) {
		r->body = xstrdup("");
		r->len = 0;
	}
	q->buf = NULL;
}

/* An attempt the caller or a check cut short: never retried. */
static void
cut_short(struct req *q, struct http_resp *r)
{
	if (q->aborted)
		snprintf(r->msg, sizeof(r->msg), "aborted by caller");
	else if (q->badrange)
		snprintf(r->msg, sizeof(r->msg), "the reply's Content-Range "
		    "does not start at byte %lld", q->from);
	else
		snprintf(r->msg, sizeof(r->msg), "the reply is larger than "
		    "%ld MiB", JSON_MAX >> 20);
	r->status = q->status;
	free(q->buf);
	q->buf = NULL;
}

/* What a transport error was (into what) and whether to try again; a
 * cut stream to resume moves its Range on. */
static int
transport_error(struct req *q, CURLcode rc, char *what, size_t whatsz)
{
	char cut[640];
	int retry;

	snprintf(what, whatsz, "%s", q->errbuf[0] ? q->errbuf :
	    curl_easy_strerror(rc));
	tls_hint(rc, what, whatsz);
	redact(what);
	retry = retry_curl(rc);
	if (q->kind == K_UPLOAD && q->status >= 200)
		retry = 0;	/* a reply came */
	if (q->once && rc != CURLE_COULDNT_CONNECT)
		retry = 0;	/* it may have been handled */
	if (q->started) {
		snprintf(cut, sizeof(cut), "transfer cut at byte %lld: %s",
		    q->offset + q->got, what);
		memcpy(what, cut, whatsz - 1);
		what[whatsz - 1] = '\0';
		if (!q->resume)
			retry = 0;
		else
			q->from = q->offset + q->got;
	}
	return retry;
}

/*
 * What became of an attempt (the n-th, from 0): 0 a final reply, -1 no
 * usable one (r filled in as for request), 1 to be tried again after
 * *delay seconds (announced on stderr).
 */
static int
settle(struct req *q, CURLcode rc, int n, struct http_resp *r,
    double *delay)
{
	char what[600], msg[512];
	int retry;

	if (q->aborted || q->badrange || q->toobig) {
		cut_short(q, r);
		return -1;
	}
	if (rc != CURLE_OK) {
		retry = transport_error(q, rc, what, sizeof(what));
	} else {
		if (q->status == 401 || q->status == 403 ||
		    (q->status >= 300 && q->status < 400))
			fatal_reply(q);
		if (q->once || !retry_status(q)) {
			if (q->status < 200 || q->status >= 300) {
				reply_msg(q, r->msg, sizeof(r->msg));
			}
			give_back(q, r);
			return 0;
		}
		status_text(q, what, sizeof(what));
		reply_msg(q, msg, sizeof(msg));
		if (strcmp(msg, q->reason[0] ? q->reason :
		    reason_of(q->status)) != 0) {
			size_t l = strlen(what);
			snprintf(what + l, sizeof(what) - l, ": %s",
			    msg);
		}
		retry = 1;
	}
	utf8_trim(what);
	if (!retry || n >= retries) {
		if (retry)
			snprintf(r->msg, sizeof(r->msg),
			    "%s (gave up after %d attempt%s)", what,
			    n + 1, n > 0 ? "s" : "");
		else
			snprintf(r->msg, sizeof(r->msg), "%s", what);
		utf8_trim(r->msg);
		r->status = q->status;
		if (q->kind != K_STREAM || !q->started)
			give_back(q, r);
		free(q->buf);
		q->buf = NULL;
		return -1;
	}
	*delay = backoff(q, n);
	warnx("%s %s%s: %s, %s in %.*f s (attempt %d of %ld)",
	    q->method, basepath, q->path, what,
	    q->started && q->resume ? "resuming" : "retrying",
	    *delay < 1 ? 2 : 1, *delay, n + 2, retries + 1);
	return 1;
}

static int
request(struct req *q, struct http_resp *r)
{
	CURLcode rc;
	double d;
	int n, s;

	if (h == NULL)
		errx(EX_FATAL, "http_init was not called");
	memset(r, 0, sizeof(*r));
	q->e = h;
	for (n = 0;; n++) {
		rc = attempt(q);
		if ((s = settle(q, rc, n, r, &d)) != 1)
			return s;
		sleep_s(d);
	}
}

static int
json_req(const char *method, const char *path, const char *json, int once,
    struct http_resp *r)
{
	struct req q;

	memset(&q, 0, sizeof(q));
	q.kind = K_JSON;
	q.once = once;
	q.method = method;
	q.path = path;
	q.json = json;
	return request(&q, r);
}

int
http_json(const char *method, const char *path, const char *json,
    struct http_resp *r)
{
	return json_req(method, path, json, 0, r);
}

int
http_json_once(const char *method, const char *path, const char *json,
    struct http_resp *r)
{
	return json_req(method, path, json, 1, r);
}

int
http_stream(const char *path, long long from, int resume,
    const struct http_sink *sink, struct http_resp *r)
{
	struct req q;

	memset(&q, 0, sizeof(q));
	q.kind = K_STREAM;
	q.method = "GET";
	q.path = path;
	q.sink = sink;
	q.from = from > 0 ? from : 0;
	q.resume = resume;
	return request(&q, r);
}

int
http_upload(const char *path, const char *const *fields,
    const char *filefield, const char *filepath, const char *filename,
    struct http_resp *r)
{
	struct req q;
	struct stat st;
	curl_mimepart *part;
	const char *eq;
	char *name;
	int rv;

	if (h == NULL)
		errx(EX_FATAL, "http_init was not called");
	errno = 0;
	if (stat(filepath, &st) == -1 || !S_ISREG(st.st_mode) ||
	    access(filepath, R_OK) == -1) {
		memset(r, 0, sizeof(*r));
		snprintf(r->msg, sizeof(r->msg), "%s: %s", filepath,
		    errno ? strerror(errno) : "not a regular file");
		return -1;
	}
	memset(&q, 0, sizeof(q));
	q.kind = K_UPLOAD;
	q.method = "POST";
	q.path = path;
	if ((q.mime = curl_mime_init(h)) == NULL)
		errx(EX_FATAL, "out of memory");
	for (; fields && *fields; fields++) {
		if ((eq = strchr(*fields, '=')) == NULL)
			errx(EX_FATAL, "http_upload: field without '=': %s",
			    *fields);
		name = xasprintf("%.*s", (int)(eq - *fields), *fields);
		part = curl_mime_addpart(q.mime);
		curl_mime_name(part, name);
		curl_mime_data(part, eq + 1, CURL_ZERO_TERMINATED);
		free(name);
	}
	part = curl_mime_addpart(q.mime);
	curl_mime_name(part, filefield);
	if (curl_mime_filedata(part, filepath) != CURLE_OK)
		errx(EX_FATAL, "out of memory");
	curl_mime_filename(part, filename);
	curl_mime_type(part, "application/octet-stream");
	rv = request(&q, r);
	curl_mime_free(q.mime);
	return rv;
}

/*
 * Streamed GETs side by side (http.h: http_multi).  A get is queued,
 * then active: waiting for its slots (an in-flight slot free now and its
 * turn in the rate, rl_try_acquire), sent (on a handle of the multi),
 * and, after a retryable failure, waiting out its backoff before it asks
 * for slots again.  Every attempt holds its in-flight slot from the
 * moment it is given until it ends, as a request of http_stream does.
 */
enum mstate { M_SLOT, M_GO, M_RUN };

struct mget {
	struct mget *next;
	struct req q;
	char	*path;
	struct http_sink sink;
	void	(*done)(void *, int, struct http_resp *);
	void	*arg;
	struct http_resp r;
	enum mstate state;
	int	 n;		/* attempts ended */
	int64_t	 at;		/* not before (M_SLOT), send at (M_GO) */
	char	 range[48];
};

struct http_multi {
	CURLM	*m;
	int	 max;
	struct mget *qhead, **qtailp;	/* queued */
	struct mget **act;	/* active, at most max */
	int	 nact;
	CURL	**idle;		/* handles not in use */
	int	 nidle;
	size_t	 npend;		/* queued and active */
};

static int64_t
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct http_multi *
http_multi_new(int max)
{
	struct http_multi *hm;

	if (h == NULL)
		errx(EX_FATAL, "http_init was not called");
	if (rl_slots() > 0 && max > rl_slots())
		max = rl_slots();
	if (max < 1)
		max = 1;
	if (max > HTTP_MULTI_MAX)
		max = HTTP_MULTI_MAX;
	hm = xcalloc(1, sizeof(*hm));
	if ((hm->m = curl_multi_init()) == NULL)
		errx(EX_FATAL, "cannot initialise libcurl");
	hm->max = max;
	hm->qtailp = &hm->qhead;
	hm->act = xcalloc(max, sizeof(*hm->act));
	hm->idle = xcalloc(max, sizeof(*hm->idle));
	return hm;
}

void
http_multi_add(struct http_multi *hm, const char *path,
    const struct http_sink *sink,
    void (*done)(void *, int, struct http_resp *), void *arg)
{
	struct mget *g = xcalloc(1, sizeof(*g));

	g->path = xstrdup(path);
	g->sink = *sink;
	g->done = done;
	g->arg = arg;
	g->q.kind = K_STREAM;
	g->q.method = "GET";
	g->q.path = g->path;
	g->q.sink = &g->sink;
	*hm->qtailp = g;
	hm->qtailp = &g->next;
	hm->npend++;
}

size_t
http_multi_pending(const struct http_multi *hm)
{
	return hm->npend;
}

static void
finish(struct http_multi *hm, struct mget *g, int rc)
{
	hm->npend--;
	g->done(g->arg, rc, &g->r);
	free(g->q.buf);
	free(g->path);
	free(g);
}

void
http_multi_cancel(struct http_multi *hm)
{
	struct mget *g;

	while ((g = hm->qhead) != NULL) {
		if ((hm->qhead = g->next) == NULL)
			hm->qtailp = &hm->qhead;
		snprintf(g->r.msg, sizeof(g->r.msg), "not sent");
		finish(hm, g, -2);
	}
}

/* Send the active get i (its slots are held). */
static void
send_one(struct http_multi *hm, struct mget *g)
{
	CURL *e;

	if (hm->nidle > 0)
		e = hm->idle[--hm->nidle];
	else if ((e = curl_easy_init()) == NULL)
		errx(EX_FATAL, "cannot initialise libcurl");
	g->q.e = e;
	prepare(&g->q, g->range, sizeof(g->range));
	nrequests++;
	if (curl_multi_add_handle(hm->m, e) != CURLM_OK)
		errx(EX_FATAL, "curl_multi_add_handle failed");
	g->state = M_RUN;
}

/* An attempt ended: settle it; the get is finished or waits again. */
static void
ended(struct http_multi *hm, int i, CURLcode rc)
{
	struct mget *g = hm->act[i];
	double d;
	int s;

	curl_multi_remove_handle(hm->m, g->q.e);
	rl_release();
	progress_tick();
	if (g->q.status == 0 && rc == CURLE_OK)
		curl_easy_getinfo(g->q.e, CURLINFO_RESPONSE_CODE,
		    &g->q.status);
	s = settle(&g->q, rc, g->n++, &g->r, &d);
	hm->idle[hm->nidle++] = g->q.e;
	g->q.e = NULL;
	if (s == 1) {
		g->state = M_SLOT;
		g->at = mono() + (int64_t)(d * 1e9);
		return;
	}
	hm->act[i] = hm->act[--hm->nact];
	finish(hm, g, s);
}

void
http_multi_run(struct http_multi *hm, size_t until)
{
	struct sigaction ign, old;
	struct CURLMsg *msg;
	struct mget *g;
	int64_t now, next, go;
	int i, running, left, noslot;
	long ms;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);	/* as in attempt() */
	while (hm->npend > until) {
		while (hm->nact < hm->max && (g = hm->qhead) != NULL) {
			if ((hm->qhead = g->next) == NULL)
				hm->qtailp = &hm->qhead;
			g->state = M_SLOT;
			g->at = 0;
			hm->act[hm->nact++] = g;
		}
		now = mono();
		next = now + 1000000000LL;
		noslot = 0;
		for (i = 0; i < hm->nact; i++) {
			g = hm->act[i];
			if (g->state == M_SLOT && g->at <= now && !noslot) {
				if (rl_try_acquire(&go)) {
					g->state = M_GO;
					g->at = go;
				} else
					noslot = 1;
			}
			if (g->state == M_GO && g->at <= now)
				send_one(hm, g);
			if (g->state != M_RUN && g->at > now && g->at < next)
				next = g->at;
		}
		if (noslot && next > now + 5000000)
			next = now + 5000000;	/* a slot may free: 5 ms */
		ms = (long)((next - now + 999999) / 1000000);
		curl_multi_poll(hm->m, NULL, 0, ms > 0 ? (int)ms : 0, NULL);
		curl_multi_perform(hm->m, &running);
		while ((msg = curl_multi_info_read(hm->m, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			for (i = 0; i < hm->nact; i++)
				if (hm->act[i]->state == M_RUN &&
				    hm->act[i]->q.e == msg->easy_handle)
					break;
			if (i < hm->nact)
				ended(hm, i, msg->data.result);
		}
	}
	sigaction(SIGPIPE, &old, NULL);
}

void
http_multi_free(struct http_multi *hm)
{
	if (hm == NULL)
		return;
	http_multi_cancel(hm);
	http_multi_run(hm, 0);
	while (hm->nidle > 0)
		curl_easy_cleanup(hm->idle[--hm->nidle]);
	curl_multi_cleanup(hm->m);
	free(hm->act);
	free(hm->idle);
	free(hm);
}

/*
 * A home server's TLS: a CA file of our own (IMMICH_CA_FILE), else the
 * variables the curl tool honours (CURL_CA_BUNDLE; else SSL_CERT_DIR and
 * SSL_CERT_FILE), else the system's CAs; a client certificate and key for
 * mutual TLS.  Verification is always on.
 */
static const char *ca_file, *ca_file_var, *ca_dir, *client_cert, *client_key;

/* The value of a file setting, checked readable; NULL when unset. */
static const char *
file_setting(const char *name, int dir)
{
	const char *v = getenv(name);
	struct stat st;

	if (v == NULL || *v == '\0')
		return NULL;
	if (stat(v, &st) == -1 || access(v, R_OK) == -1)
		err(EX_USAGE, "%s: %s", name, v);
	if (dir ? !S_ISDIR(st.st_mode) : S_ISDIR(st.st_mode))
		errx(EX_USAGE, "%s: %s: %s", name, v, dir ?
		    "not a directory" : "is a directory");
	return v;
}

static void
tls_init(void)
{
	static const char *const order[] = { "IMMICH_CA_FILE",
	    "CURL_CA_BUNDLE" };
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]) && !ca_file; i++)
		if ((ca_file = file_setting(order[i], 0)) != NULL)
			ca_file_var = order[i];
	if (ca_file == NULL) {
		ca_dir = file_setting("SSL_CERT_DIR", 1);
		if ((ca_file = file_setting("SSL_CERT_FILE", 0)) != NULL)
			ca_file_var = "SSL_CERT_FILE";
	}
	client_cert = file_setting("IMMICH_CLIENT_CERT", 0);
	client_key = file_setting("IMMICH_CLIENT_KEY", 0);
	if (client_key && !client_cert)
		errx(EX_USAGE, "IMMICH_CLIENT_KEY is set without "
		    "IMMICH_CLIENT_CERT");
	if (client_key)
		warn_if_readable(client_key, "IMMICH_CLIENT_KEY");
	else if (client_cert)	/* the key is in the same file */
		warn_if_readable(client_cert, "IMMICH_CLIENT_CERT");
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* After every curl_easy_reset (h shadows the main handle: any handle). */
static void
tls_opts(CURL *h)
{
	if (ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
	if (ca_dir)
		curl_easy_setopt(h, CURLOPT_CAPATH, ca_dir);
	if (client_cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, client_cert);
		if (ends_with(client_cert, ".p12") ||
		    ends_with(client_cert, ".pfx"))
			curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "P12");
	}
	if (client_key)
		curl_easy_setopt(h, CURLOPT_SSLKEY, client_key);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
}

/* What to do about a TLS failure, appended to its message. */
static void
tls_hint(CURLcode rc, char *what, size_t sz)
{
	size_t l = strlen(what);
	char ca[512];

	if (ca_file)
		snprintf(ca, sizeof(ca), "%s (%s)", ca_file_var, ca_file);
	if (rc == CURLE_PEER_FAILED_VERIFICATION &&
	    (strstr(what, "subject name") || strstr(what, "host name")))
		snprintf(what + l, sz - l, " (the certificate is for another "
		    "name: put the name it was issued for in "
		    "IMMICH_INSTANCE_URL)");
	else if (rc == CURLE_PEER_FAILED_VERIFICATION && ca_file)
		snprintf(what + l, sz - l, " (the server's certificate is not "
		    "signed by the CA in %s)", ca);
	else if (rc == CURLE_PEER_FAILED_VERIFICATION)
		snprintf(what + l, sz - l, " (if the server's certificate "
		    "is from your own CA, set IMMICH_CA_FILE to that CA's "
		    "certificate)");
	else if (rc == CURLE_SSL_CACERT_BADFILE)
		snprintf(what + l, sz - l, " (%s does not hold a PEM "
		    "certificate)", ca_file ? ca : "the CA file");
	else if (rc == CURLE_SSL_CERTPROBLEM)
		snprintf(what + l, sz - l, " (check IMMICH_CLIENT_CERT and "
		    "IMMICH_CLIENT_KEY)");
	else if (!client_cert && (strstr(what, "certificate required") ||
	    strstr(what, "alert handshake failure")))
		snprintf(what + l, sz - l, " (the server may want a client "
		    "certificate: set IMMICH_CLIENT_CERT and IMMICH_CLIENT_KEY)");
}

/* nginx answers 400 when mutual TLS wants a certificate it did not get. */
static void
tls_reply_hint(const struct req *q, char *buf, size_t sz)
{
	size_t l = strlen(buf);

	if (q->status == 400 && strstr(buf, "SSL certificate") != NULL)
		snprintf(buf + l, sz - l, client_cert ? " (check "
		    "IMMICH_CLIENT_CERT and IMMICH_CLIENT_KEY)" : " (the "
		    "server wants a client certificate: set "
		    "IMMICH_CLIENT_CERT and IMMICH_CLIENT_KEY)");
}

/*
 * Extra headers for a reverse proxy (an access token, say), one
 * "Name: value" a line in the file IMMICH_HEADERS_FILE; blank lines and
 * lines starting with '#' are skipped.  Their values are secrets: never in
 * a message, and redacted from the server's replies like the key.
 */
static char **xh_lines, **xh_values;
static size_t xh_n;

static void
xh_load(void)
{
	static const char *const refused[] = { "x-api-key", "host",
	    "content-length", "content-type", "transfer-encoding", "range",
	    "accept", "accept-encoding", "connection", "expect" };
	static int done;
	const char *path;
	char *line = NULL, *v;
	size_t cap = 0, i, lineno = 0, n;
	ssize_t len;
	FILE *fp;

	if (done)
		return;
	done = 1;
	if ((path = file_setting("IMMICH_HEADERS_FILE", 0)) == NULL)
		return;
	if ((fp = fopen(path, "r")) == NULL)
		err(EX_USAGE, "IMMICH_HEADERS_FILE: %s", path);
	warn_if_readable(path, "IMMICH_HEADERS_FILE");
	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		while (len > 0 && strchr("\r\n \t", line[len - 1]))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		n = strspn(line, "!#$%&'*+-.^_`|~0123456789"
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
		if (n == 0 || line[n] != ':')
			errx(EX_USAGE, "IMMICH_HEADERS_FILE: %s: line %zu: "
			    "not a header (Name: value)", path, lineno);
		line[n] = '\0';
		for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
			if (strcasecmp(line, refused[i]) == 0)
				errx(EX_USAGE, "IMMICH_HEADERS_FILE: %s: line "
				    "%zu: %s is set by the tools themselves",
				    path, lineno, line);
		v = line + n + 1;
		v += strspn(v, " \t");
		if (*v == '\0')
			errx(EX_USAGE, "IMMICH_HEADERS_FILE: %s: line %zu: "
			    "%s has no value", path, lineno, line);
		for (const char *p = v; *p; p++)
			if (((unsigned char)*p < ' ' && *p != '\t') ||
			    *p == 0x7f)
				errx(EX_USAGE, "IMMICH_HEADERS_FILE: %s: line "
				    "%zu: %s: the value contains control "
				    "characters", path, lineno, line);
		xh_lines = xrealloc(xh_lines, (xh_n + 1) * sizeof(*xh_lines));
		xh_values = xrealloc(xh_values,
		    (xh_n + 1) * sizeof(*xh_values));
		xh_lines[xh_n] = xasprintf("%s: %s", line, v);
		xh_values[xh_n] = xstrdup(v);
		xh_n++;
		explicit_bzero(line, cap);
	}
	if (ferror(fp))
		err(EX_USAGE, "IMMICH_HEADERS_FILE: %s", path);
	free(line);
	fclose(fp);
}

static struct curl_slist *
extra_headers(struct curl_slist *l)
{
	size_t i;

	xh_load();
	for (i = 0; i < xh_n && l != NULL; i++)
		l = curl_slist_append(l, xh_lines[i]);
	return l;
}

/*
 * A header value of 4 or more bytes becomes "***" wherever it appears in
 * the n bytes at s; returns the new length and keeps a NUL after it.
 */
static size_t
redact_extra(char *s, size_t n)
{
	size_t i, vl, off;
	char *p;

	for (i = 0; i < xh_n; i++) {
		if ((vl = strlen(xh_values[i])) < 4)
			continue;
		off = 0;
		while ((p = memmem(s + off, n - off, xh_values[i], vl)) !=
		    NULL) {
			memcpy(p, "***", 3);
			memmove(p + 3, p + vl, n - (p + vl - s));
			n -= vl - 3;
			off = p + 3 - s;
		}
		s[n] = '\0';
	}
	return n;
}
