/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_RATELIMIT_H
#define IMMICH_RATELIMIT_H

#include <stdint.h>

/*
 * One rate limit shared by every process talking to the same server as
 * the same user: GCRA over a state file under flock(2), plus a cap on
 * requests in flight across processes (slot files held with flock, so a
 * killed process frees its slot).
 *
 * Settings: IMMICH_RATE requests/s (default 10; 0 = unlimited),
 * IMMICH_BURST (5), IMMICH_INFLIGHT (5), IMMICH_RATE_FILE (state file).
 */

/* Read the settings; key names the server and user (e.g. the API base
 * URL).  Exits EX_USAGE on a bad setting or an unsafe state directory. */
/* The folder of the shared state files (rate limit, in-flight slots,
 * progress): $XDG_RUNTIME_DIR/immich-dedupe, else /tmp/immich-dedupe-UID. */
char	*rl_statedir(void);
void	 rl_init(const char *key);
/* Wait for a slot: in flight, then rate.  Call before every attempt. */
void	 rl_acquire(void);
/*
 * For a caller driving several requests at once (http_multi): 1 with an
 * in-flight slot taken (when one is free now) and a rate slot reserved,
 * *go the CLOCK_MONOTONIC time in ns at which the request may be sent;
 * 0 when no slot is free now (nothing taken: try again shortly).  Give
 * the slot back with rl_release after the attempt.
 */
int	 rl_try_acquire(int64_t *go);
/* The in-flight cap (IMMICH_INFLIGHT; 0 for none). */
int	 rl_slots(void);
/* Seconds spent in rl_acquire so far, and the rate (requests/s, 0 for
 * none): for the progress display. */
double	 rl_waited(void);
double	 rl_rate(void);
/* Give the in-flight slot back.  Call after every attempt. */
void	 rl_release(void);
/*
 * One process at a time per server user: an exclusive flock on a file
 * named from name and id (a hash) in /tmp/immich-dedupe-UID, the one
 * place that depends neither on the server's URL as written nor on the
 * login environment (XDG_RUNTIME_DIR, IMMICH_RATE_FILE).  id names the
 * server's user (its id from GET /users/me: a server's user ids are its
 * own).  Held until the process exits.  When another process holds it,
 * says waiting (warnx) and waits.
 */
void	 rl_exclusive(const char *name, const char *id, const char *waiting);

#endif
