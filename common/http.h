/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_HTTP_H
#define IMMICH_HTTP_H

#include <stddef.h>

/*
 * Immich's REST API over libcurl.  Paths are relative to the API base
 * (env.h), e.g. "/assets/ID".  Every attempt, retries included, goes
 * through the shared rate limit (ratelimit.h).  Retried with exponential
 * backoff and full jitter (a wait in [d/2, d], d = IMMICH_RETRY_DELAY *
 * 2^retry, at most 60 s): connection errors, 408, 429, 500, 502, 503,
 * 504, waiting as long as Retry-After says instead (seconds or HTTP date,
 * at most 300 s).  Each retry is announced on stderr.  401 and 403 end
 * the run at once (EX_FATAL) quoting the server's message; so does a
 * redirect (3xx), which is never followed, so that the key cannot be
 * sent to another host.  The API key is sent as the x-api-key header and
 * never appears in any message (a server that echoes it is masked).
 *
 * Settings (environment): IMMICH_RETRIES (default 5, 0..100),
 * IMMICH_RETRY_DELAY seconds (1; fractions allowed), IMMICH_CONNECT_TIMEOUT
 * seconds (10), IMMICH_LOW_SPEED_LIMIT bytes/s (1024) and
 * IMMICH_LOW_SPEED_TIME seconds (60): a transfer slower than the limit for
 * that long is cut and retried.  No total timeout.
 */

struct http_resp {
	long	 status;	/* HTTP status of the last reply; 0 if none */
	char	*body;		/* NUL-terminated reply body (for streams,
				 * only a non-2xx body); may be NULL on -1 */
	size_t	 len;
	char	 msg[512];	/* error text: the server's message (one line),
				 * or the transport error; "" on success */
};

/* Body sinks for streamed replies.  Return 0 to go on, -1 to abort (the
 * request then returns -1 with msg "aborted by caller", not retried).
 * Called only from inside http_stream: never write stdout from them. */
struct http_sink {
	/* Called when a 2xx reply starts, and again on every restart: the
	 * offset its body starts at (the Range start on 206, 0 on 200) and
	 * the total size if known (-1 if not).  Offset 0 after data was
	 * given means the server ignored the Range: start again from 0. */
	int	(*start)(void *arg, long long offset, long long total);
	int	(*data)(void *arg, const char *buf, size_t len);
	void	*arg;
};

/* Reads the settings (exits EX_USAGE on a bad one) and sets up libcurl
 * and the rate limit.  Call once before any request. */
void	 http_init(void);
/*
 * A request with an optional JSON body (NULL for none).  Returns 0 when
 * the server gave a final reply (any status; see r->status; r->msg holds
 * the server's message when it is not 2xx), -1 when no usable reply came
 * after all retries (r->msg says why; r->status is the last status, 0 if
 * none) or a 2xx reply was over 64 MiB.  Caller frees r->body with
 * http_free.
 */
int	 http_json(const char *method, const char *path, const char *json,
	    struct http_resp *r);
/*
 * The same, for a request that must not be sent twice (DELETE /assets:
 * deleting a trashed asset again restarts its 30-day clock).  Retried only
 * when the connection could not be made; any other failure, or a status
 * that http_json would retry, is returned for the caller to find out what
 * happened before trying again.
 */
int	 http_json_once(const char *method, const char *path,
	    const char *json, struct http_resp *r);
/*
 * GET path streaming a 2xx body into sink.  from > 0 asks for a Range
 * from that byte.  A transfer cut mid-body is resumed with a Range from
 * the bytes received (same retry budget) when resume is set (the sink's
 * start() is called again with the new offset), else it returns -1.
 * Non-2xx bodies are kept in r->body/r->msg.  Compressed replies are
 * accepted only when from == 0 and !resume (then start() gets total -1).
 */
int	 http_stream(const char *path, long long from, int resume,
	    const struct http_sink *sink, struct http_resp *r);
/*
 * Many streamed GETs side by side (libcurl multi), for small files
 * (immich-review's thumbnails).  Each attempt takes an in-flight slot
 * and its turn in the rate like any request (ratelimit.h), without
 * blocking the transfers already running; at most max run at once in
 * this process, never more than the shared in-flight cap
 * (IMMICH_INFLIGHT: 1 sends them one at a time), nor HTTP_MULTI_MAX.
 * Retries, backoff and the fatal replies are http_stream's (from 0, no
 * resume).  A get added is sent, in the order added, from inside
 * http_multi_run, which returns once at most until gets are left
 * (queued or under way); each ends with done(arg, rc, r) called from
 * there: rc and r as http_stream gives them (done frees r with
 * http_free), or rc -2 for a get that http_multi_cancel took off the
 * queue before it was sent.  Make no other request while gets are under
 * way: it could wait for an in-flight slot they hold.
 */
#define HTTP_MULTI_MAX	16
struct http_multi;
struct http_multi *http_multi_new(int max);
void	 http_multi_add(struct http_multi *, const char *path,
	    const struct http_sink *sink,
	    void (*done)(void *arg, int rc, struct http_resp *r), void *arg);
void	 http_multi_run(struct http_multi *, size_t until);
size_t	 http_multi_pending(const struct http_multi *);
/* Every get not yet sent ends (rc -2); those under way go on. */
void	 http_multi_cancel(struct http_multi *);
/* Cancel what is queued, finish what is under way, free. */
void	 http_multi_free(struct http_multi *);

/*
 * multipart/form-data POST.  fields is a NULL-terminated array of
 * "name=value" strings (split at the first '='), sent in order; the file
 * is sent last as the part named filefield with the given file name.
 * Retried only when no reply came (connection errors) and on 408, 429 and
 * 503, which say the upload was not handled; 500, 502 and 504 are
 * returned (0) for the caller to decide.  -1 if filepath is unreadable.
 */
int	 http_upload(const char *path, const char *const *fields,
	    const char *filefield, const char *filepath, const char *filename,
	    struct http_resp *r);
void	 http_free(struct http_resp *);

/* How many HTTP requests (attempts) this process has made. */
long	 http_requests(void);

/* The server's error message from an error body: Immich 3.x {message},
 * {message: "Validation failed", errors: [{path, message}]} as
 * "Validation failed: ids.0: Invalid UUID; ...", 2.x {message: string |
 * string[] (joined with "; "), error, statusCode}; else the first line of
 * the body (an HTML page's title), about 200 bytes at most.  Writes one
 * line of valid UTF-8 without control bytes into buf ("" for an empty
 * body). */
void	 http_errmsg(const char *body, size_t len, char *buf, size_t bufsz);

#endif
