/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_HTTP_H
#define IMMICH_HTTP_H

#include <stddef.h>

/*
 * Immich's REST API over libcurl.  Paths are relative to the API base
 * (env.h), e.g. "/assets/ID".  Every attempt, retries included, goes
 * through the shared rate limit (ratelimit.h).  Retried with exponential
 * backoff and jitter: connection errors, 408, 429, 500, 502, 503, 504,
 * honouring Retry-After (seconds or HTTP date).  401 and 403 end the run
 * at once (EX_FATAL) quoting the server's message.  The API key is sent
 * as the x-api-key header and never appears in any message.
 *
 * Settings (environment): IMMICH_RETRIES (default 5),
 * IMMICH_CONNECT_TIMEOUT seconds (10), IMMICH_LOW_SPEED_TIME seconds
 * (60; a transfer slower than 1 byte/s for that long is cut and retried).
 */

struct http_resp {
	long	 status;	/* HTTP status; 0 when no reply after retries */
	char	*body;		/* NUL-terminated reply body (not for streams) */
	size_t	 len;
	char	 msg[512];	/* error text: the server's message, or the
				 * transport error; "" on success */
};

/* Body sinks for streamed replies.  Return 0 to go on, -1 to abort. */
struct http_sink {
	/* Called when a 2xx reply starts: the offset its body starts at
	 * (the Range start on 206, 0 on 200) and the total size if known
	 * (-1 if not).  On 200 after a Range request, restart from 0. */
	int	(*start)(void *arg, long long offset, long long total);
	int	(*data)(void *arg, const char *buf, size_t len);
	void	*arg;
};

void	 http_init(void);
/*
 * A request with an optional JSON body (NULL for none).  Returns 0 when
 * the server gave a final reply (any status; see r->status), -1 when no
 * reply came after all retries (r->msg says why).  Caller frees r->body
 * with http_free.
 */
int	 http_json(const char *method, const char *path, const char *json,
	    struct http_resp *r);
/*
 * GET path streaming a 2xx body into sink.  from > 0 asks for a Range
 * from that byte.  A transfer cut mid-body is resumed with Range when
 * resume is set (the sink's start() is called again with the new
 * offset), else it fails.  Non-2xx bodies are kept in r->body/r->msg.
 */
int	 http_stream(const char *path, long long from, int resume,
	    const struct http_sink *sink, struct http_resp *r);
/* multipart/form-data POST; fields are name=value pairs, file is sent as
 * the part named filefield with the given file name.  For uploads. */
int	 http_upload(const char *path, const char *const *fields,
	    const char *filefield, const char *filepath, const char *filename,
	    struct http_resp *r);
void	 http_free(struct http_resp *);

/* How many HTTP requests (attempts) this process has made. */
long	 http_requests(void);

/* The server's error message from an error body: Immich 3.x {message},
 * {message, errors}, 2.x {message: string|string[], error, statusCode}.
 * Writes a one-line text into buf. */
void	 http_errmsg(const char *body, size_t len, char *buf, size_t bufsz);

#endif
