/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_ENV_H
#define IMMICH_ENV_H

/*
 * Settings from the environment; this is the only place that reads them.
 *   IMMICH_INSTANCE_URL	server URL, with or without a trailing /api
 *   IMMICH_API_KEY		the API key, or
 *   IMMICH_API_KEY_FILE	a file whose first line is the API key
 * A missing or invalid setting exits with EX_USAGE and names the variable.
 * When none of the three is set, the Immich CLI's saved login is used:
 * auth.yml (url:, key:) in $IMMICH_CONFIG_DIR, else ~/.config/immich.
 * Warns (once, on stderr) when the key would go over plain http:// to a
 * host that is not loopback, and when the key file is readable by group
 * or others.
 */
struct env {
	char	*api;	/* base URL ending in "/api", no trailing slash */
	char	*key;	/* API key; never printed */
};

const struct env *env_get(void);
/* The auth.yml env_get took the server and key from, or NULL. */
const char *env_login_file(void);

/* Warns on stderr ("WHAT: PATH can be read by others ...") when the file
 * at path, which holds a secret, is readable by its group or by others. */
void	 warn_if_readable(const char *path, const char *what);

/* An integer setting: the default when unset; exits EX_USAGE when invalid. */
long	 env_long(const char *name, long def, long min, long max);
/* A non-negative number setting (may have a fraction), as env_long. */
double	 env_double(const char *name, double def, double min, double max);

#endif
