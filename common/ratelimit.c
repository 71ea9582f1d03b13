/* SPDX-License-Identifier: ISC */
/*
 * One rate limit shared by every process that talks to the same server
 * as the same user, and a cap on requests in flight across them.
 *
 * Rate: GCRA (the generic cell rate algorithm, as in the governor crate).
 * The state file holds one line,
 *
 *	immich-rl 1 <boot id> <theoretical arrival time, ns>
 *
 * on CLOCK_MONOTONIC, which every process on the machine shares; the boot
 * id tells a value from another boot.  With interval T = 1/rate and
 * tolerance tau = (burst - 1) T, a request at time now may go at
 * max(tat, now) - tau; it reserves that slot by writing max(tat, now) + T.
 * The file is locked (flock LOCK_EX) only to read and write that line: a
 * process reserves, unlocks, and only then sleeps until its slot, so
 * waiters queue in the order they came and no one sleeps holding the lock.
 * Over any t seconds at most burst + rate * t requests are let through.
 *
 * A process reserves only when its slot is at most RL_QUEUE intervals
 * away (else it sleeps unlocked and looks again), so a valid file never
 * holds a time more than tau + (RL_QUEUE + 1) T ahead of now.  Anything
 * further ahead, from another boot, or unreadable is reset, never waited
 * on.  Processes sharing a file should use the same settings; the one
 * with the faster rate may otherwise reset the others' reservations.
 *
 * In flight: slot files <state>.slot.0 .. N-1.  Holding a slot is holding
 * flock(LOCK_EX) on it; the kernel drops the lock when a process dies, so
 * a killed process frees its slot at once.  A process looking for a slot
 * first takes <state>.queue (blocking), so only one looks at a time and a
 * process that gives a slot back and wants another queues behind those
 * already waiting instead of taking it straight back.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/env.h"
#include "common/fsutil.h"
#include "common/ratelimit.h"
#include "common/util.h"

#define RL_MAGIC	"immich-rl 1"
#define RL_QUEUE	32	/* most intervals a reservation may be ahead */
#define RL_MAXSLOTS	256
#define RL_HELD		16	/* nested rl_acquire calls per process */
#define NS		1000000000LL

static int	 inited;
static int64_t	 interval;	/* T, ns; 0 = unlimited */
static int64_t	 tau;		/* (burst - 1) T */
static int	 statefd = -1;
static ssize_t	 statelen;	/* bytes read from it last */
static char	*statepath;	/* for messages */
static char	 bootid[40] = "-";
static int	*slotfd;
static int	 queuefd = -1;
static int	 nslots;
static int	 held[RL_HELD];
static int	 nheld;
static int	 nover;		/* nested past RL_HELD: no slot taken */
static uint64_t	 rng;
static int64_t	 waited;	/* ns spent in rl_acquire, for the progress */

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static void
sleep_until(int64_t t)
{
	struct timespec ts;

	ts.tv_sec = t / NS;
	ts.tv_nsec = t % NS;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

static uint64_t
rnd(void)
{
	/* xorshift64*: slot order and jitter, not security. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static void
lock(int fd, int op)
{
	while (flock(fd, op) == -1)
		if (errno != EINTR)
			err(EX_FATAL, "rate limit: flock %s", statepath);
}

static void
read_bootid(void)
{
	FILE *fp;
	char buf[64];
	size_t n;

	if ((fp = fopen("/proc/sys/kernel/random/boot_id", "re")) == NULL)
		return;
	if (fgets(buf, sizeof(buf), fp) != NULL) {
		n = strcspn(buf, " \t\r\n");
		if (n > 0 && n < sizeof(bootid)) {
			memcpy(bootid, buf, n);
			bootid[n] = '\0';
		}
	}
	fclose(fp);
}

/*
 * dir, made 0700 if missing: ours alone, or refused.  Returns an
 * O_DIRECTORY descriptor, so the checked directory is the one the files
 * are opened in.
 */
static int
open_owndir(const char *dir)
{
	struct stat st;
	int fd;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		err(EX_USAGE, "rate limit state directory %s", dir);
	if (lstat(dir, &st) == -1)
		err(EX_USAGE, "rate limit state directory %s", dir);
	if (S_ISLNK(st.st_mode))
		errx(EX_USAGE, "rate limit state directory %s is a symbolic "
		    "link: not following it; remove it, or set "
		    "IMMICH_RATE_FILE", dir);
	if (!S_ISDIR(st.st_mode))
		errx(EX_USAGE, "rate limit state directory %s is not a "
		    "directory: remove it, or set IMMICH_RATE_FILE", dir);
	if ((fd = fs_owndir(AT_FDCWD, dir, FS_PRIVATE, &st)) == -1)
		err(EX_USAGE, "rate limit state directory %s", dir);
	if (fd == FS_NOTOURS)
		errx(EX_USAGE, "rate limit state directory %s is owned by "
		    "uid %u, not by you (uid %u): remove it, or set "
		    "IMMICH_RATE_FILE", dir, (unsigned)st.st_uid,
		    (unsigned)geteuid());
	if (fd == FS_SHARED)
		errx(EX_USAGE, "rate limit state directory %s is writable by "
		    "others: chmod 700 it, or set IMMICH_RATE_FILE", dir);
	return fd;
}

/* The directory that does not depend on the login environment. */
static char *
fixed_dir(void)
{
	return xasprintf("/tmp/immich-dedupe-%u", (unsigned)geteuid());
}

char *
rl_statedir(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (xdg != NULL && *xdg == '/')
		return xasprintf("%s/immich-dedupe", xdg);
	return fixed_dir();
}

/* The state directory when IMMICH_RATE_FILE is not set. */
static int
open_statedir(char **dirp)
{
	*dirp = rl_statedir();
	return open_owndir(*dirp);
}

/* A hex name from a tag and two strings: a hash, so neither is stored. */
static char *
hashed_name(const char *tag, const char *a, const char *b)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	char hex[33];
	EVP_MD_CTX *ctx;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(ctx, tag, strlen(tag) + 1) ||
	    !EVP_DigestUpdate(ctx, a, strlen(a) + 1) ||
	    !EVP_DigestUpdate(ctx, b, strlen(b)) ||
	    !EVP_DigestFinal_ex(ctx, md, &mdlen))
		errx(EX_FATAL, "rate limit: SHA-256 failed");
	EVP_MD_CTX_free(ctx);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return xstrdup(hex);
}

/* File name for this server and user: a hash, so the key is never stored. */
static char *
state_name(const char *key)
{
	char *h = hashed_name("immich-rl", key, env_get()->key);
	char *name = xasprintf("%s.rate", h);

	free(h);
	return name;
}

/*
 * Where this server's and user's state files go: IMMICH_RATE_FILE, or a
 * hashed name in the state directory.  Returns the directory fd to open
 * them at (AT_FDCWD for IMMICH_RATE_FILE), *base the name there, *shown
 * the whole path for messages.
 */
static int
state_base(const char *key, char **base, char **shown)
{
	const char *rf = getenv("IMMICH_RATE_FILE");
	char *dir;
	int dirfd;

	if (rf != NULL && *rf != '\0') {
		*base = xstrdup(rf);
		*shown = xstrdup(rf);
		return AT_FDCWD;
	}
	dirfd = open_statedir(&dir);
	*base = state_name(key);
	*shown = xasprintf("%s/%s", dir, *base);
	free(dir);
	return dirfd;
}

static int
open_file(int dirfd, const char *name, const char *shown)
{
	struct stat st;
	int fd;

	if ((fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		if (errno == ELOOP)
			errx(EX_USAGE, "rate limit state %s is a symbolic "
			    "link: not following it", shown);
		err(EX_USAGE, "rate limit state %s", shown);
	}
	if (fstat(fd, &st) == -1)
		err(EX_USAGE, "rate limit state %s", shown);
	if (!S_ISREG(st.st_mode))
		errx(EX_USAGE, "rate limit state %s is not a regular file",
		    shown);
	return fd;
}

/*
 * A file the person named (IMMICH_RATE_FILE) is rewritten only when it is
 * empty or a state file: anything else there (a plan named by mistake) is
 * theirs, refused rather than reset.
 */
static void
check_named(int fd, const char *shown)
{
	char buf[sizeof(RL_MAGIC)];
	ssize_t n;

	if ((n = pread(fd, buf, sizeof(buf), 0)) == -1)
		err(EX_USAGE, "rate limit state %s", shown);
	if (n > 0 && (n < (ssize_t)sizeof(buf) ||
	    memcmp(buf, RL_MAGIC " ", sizeof(buf)) != 0))
		errx(EX_USAGE, "IMMICH_RATE_FILE %s is not a rate limit state "
		    "file (it does not begin with \"" RL_MAGIC "\"): not "
		    "overwriting it; name a new file, or remove it", shown);
}

void
rl_init(const char *key)
{
	double rate;
	long burst, inflight;
	char *base, *name, *shown;
	int dirfd;

	if (inited)
		return;
	inited = 1;
	rate = env_double("IMMICH_RATE", 10, 0, 1e9);
	burst = env_long("IMMICH_BURST", 5, 1, 1000000);
	inflight = env_long("IMMICH_INFLIGHT", 5, 0, RL_MAXSLOTS);
	rng = (uint64_t)mono_ns() ^ ((uint64_t)getpid() << 32) ^
	    0x9e3779b97f4a7c15ULL;
	if (rng == 0)
		rng = 1;
	if (rate > 0 && rate < 0.001)
		errx(EX_USAGE, "IMMICH_RATE: '%g' is too slow: give at least "
		    "0.001 requests per second, or 0 for no limit", rate);
	if (rate > 0) {
		interval = (int64_t)(1e9 / rate + 0.5);
		if (interval < 1)
			interval = 1;
		tau = (burst - 1) * interval;
	}
	if (interval == 0 && inflight == 0)
		return;		/* nothing shared: touch no file */

	dirfd = state_base(key, &base, &statepath);
	if (interval > 0) {
		read_bootid();
		statefd = open_file(dirfd, base, statepath);
		if (dirfd == AT_FDCWD)
			check_named(statefd, statepath);
	}
	if (inflight > 0) {
		slotfd = xcalloc(inflight, sizeof(*slotfd));
		for (nslots = 0; nslots < inflight; nslots++) {
			name = xasprintf("%s.slot.%d", base, nslots);
			shown = xasprintf("%s.slot.%d", statepath, nslots);
			slotfd[nslots] = open_file(dirfd, name, shown);
			free(name);
			free(shown);
		}
		name = xasprintf("%s.queue", base);
		shown = xasprintf("%s.queue", statepath);
		queuefd = open_file(dirfd, name, shown);
		free(name);
		free(shown);
	}
	if (dirfd != AT_FDCWD)
		close(dirfd);
	free(base);
}

/* Take one in-flight slot: try each slot file, from a random one. */
static void
acquire_slot(void)
{
	int64_t backoff = 2000000;	/* 2 ms, doubling to 20 ms */
	int start, i, s;

	lock(queuefd, LOCK_EX);
	for (;;) {
		start = (int)(rnd() % (uint64_t)nslots);
		for (i = 0; i < nslots; i++) {
			s = (start + i) % nslots;
			if (flock(slotfd[s], LOCK_EX | LOCK_NB) == 0) {
				held[nheld++] = s;
				lock(queuefd, LOCK_UN);
				return;
			}
			if (errno != EWOULDBLOCK && errno != EINTR)
				err(EX_FATAL, "rate limit: flock %s.slot.%d",
				    statepath, s);
		}
		/* All busy: a slot frees when its holder is done or dies. */
		sleep_until(mono_ns() + backoff / 2 +
		    (int64_t)(rnd() % (uint64_t)backoff));
		if (backoff < 20000000)
			backoff *= 2;
	}
}

/*
 * Parse the state line.  Returns the stored time, or -1 when the file is
 * empty, garbled or from another boot (*why says which, for a warning).
 */
static int64_t
read_tat(const char **why)
{
	char buf[128], *p, *q;
	int64_t v = 0;
	ssize_t n;

	*why = NULL;
	n = pread(statefd, buf, sizeof(buf) - 1, 0);
	if (n == -1)
		err(EX_FATAL, "rate limit state %s", statepath);
	statelen = n;
	if (n == 0)
		return -1;	/* new file */
	buf[n] = '\0';
	*why = "garbled";
	if (strncmp(buf, RL_MAGIC " ", sizeof(RL_MAGIC)) != 0)
		return -1;
	p = buf + sizeof(RL_MAGIC);
	if ((q = strchr(p, ' ')) == NULL || q == p || q - p >= 40)
		return -1;
	*q++ = '\0';
	if (*q < '0' || *q > '9')
		return -1;
	for (; *q >= '0' && *q <= '9'; q++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*q - '0');
	}
	if (strcmp(q, "\n") != 0)
		return -1;
	*why = NULL;
	if (strcmp(p, bootid) != 0)
		return -1;	/* another boot: its times mean nothing now */
	return v;
}

static void
write_tat(int64_t tat)
{
	char buf[128];
	int n;

	n = snprintf(buf, sizeof(buf), RL_MAGIC " %s %020" PRId64 "\n",
	    bootid, tat);
	if (pwrite(statefd, buf, n, 0) != n)
		err(EX_FATAL, "rate limit state %s: write", statepath);
	/* Only a garbled, longer file has anything past the line. */
	if (statelen > n && ftruncate(statefd, n) == -1)
		err(EX_FATAL, "rate limit state %s: truncate", statepath);
}

/*
 * Under the state file's lock: the theoretical arrival time, or now when
 * it is in the past (*now set); a garbled state, or one too far in the
 * future (another boot's clock), is reset with a warning.
 */
static int64_t
next_slot(int64_t *now)
{
	const char *why;
	int64_t tat;

	tat = read_tat(&why);
	*now = mono_ns();
	if (tat >= 0 && tat - *now > tau + (RL_QUEUE + 1) * interval +
	    NS / 1000) {
		why = "too far in the future";
		tat = -1;
	}
	if (why != NULL)
		warnx("rate limit state %s: %s; reset", statepath, why);
	return tat > *now ? tat : *now;
}

/* Reserve a slot in the shared rate, then sleep until it comes. */
static void
acquire_rate(void)
{
	int64_t now, t, go, wait;

	for (;;) {
		lock(statefd, LOCK_EX);
		t = next_slot(&now);
		go = t - tau;
		wait = go - now;
		if (wait > RL_QUEUE * interval) {
			/* Too many ahead of us: look again when there is room. */
			lock(statefd, LOCK_UN);
			sleep_until(go - RL_QUEUE * interval);
			continue;
		}
		write_tat(t + interval);
		lock(statefd, LOCK_UN);
		if (wait > 0)
			sleep_until(go);
		return;
	}
}

/*
 * The in-flight slot is taken first and the rate slot second.  Taken the
 * other way round, a process could reserve its rate slot, then wait for an
 * in-flight slot past it; several such processes would all send at once
 * when slots free, exceeding the rate.  In this order a request is sent
 * as soon as its rate slot comes, and the number of reservations waiting
 * is at most the number of in-flight slots (well under RL_QUEUE).
 */
void
rl_acquire(void)
{
	int64_t t0 = mono_ns();

	if (nslots > 0) {
		if (nheld < RL_HELD)
			acquire_slot();
		else
			nover++;
	}
	if (statefd != -1)
		acquire_rate();
	waited += mono_ns() - t0;
}

int
rl_slots(void)
{
	return nslots;
}

/* Is slot s one this process holds? */
static int
mine(int s)
{
	int i;

	for (i = 0; i < nheld; i++)
		if (held[i] == s)
			return 1;
	return 0;
}

/*
 * rl_acquire without waiting, for a caller that drives several requests
 * at once: an in-flight slot only if one is free now (the queue lock too:
 * a process waiting in rl_acquire goes first), and a reservation in the
 * rate, *go the time it comes (CLOCK_MONOTONIC ns).  A slot this process
 * holds already is skipped (flock on the same descriptor would say yes).
 */
int
rl_try_acquire(int64_t *go)
{
	int64_t now, t;
	int start, i, s = -1;

	*go = 0;
	if (nslots > 0) {
		if (nheld >= RL_HELD)
			return 0;
		if (flock(queuefd, LOCK_EX | LOCK_NB) == -1)
			return 0;
		start = (int)(rnd() % (uint64_t)nslots);
		for (i = 0; i < nslots && s == -1; i++) {
			s = (start + i) % nslots;
			if (mine(s) || flock(slotfd[s], LOCK_EX | LOCK_NB) == -1)
				s = -1;
		}
		lock(queuefd, LOCK_UN);
		if (s == -1)
			return 0;
		held[nheld++] = s;
	}
	if (statefd == -1)
		return 1;
	lock(statefd, LOCK_EX);
	t = next_slot(&now);
	if (t - tau - now > RL_QUEUE * interval) {
		/* Too many ahead: give the slot back, look again later. */
		lock(statefd, LOCK_UN);
		if (s != -1)
			rl_release();
		return 0;
	}
	write_tat(t + interval);
	lock(statefd, LOCK_UN);
	*go = t - tau;
	return 1;
}

double
rl_waited(void)
{
	return (double)waited / NS;
}

double
rl_rate(void)
{
	return interval > 0 ? (double)NS / interval : 0;
}

void
rl_release(void)
{
	if (nover > 0)
		nover--;
	else if (nheld > 0)
		lock(slotfd[held[--nheld]], LOCK_UN);
}

void
rl_exclusive(const char *name, const char *id, const char *waiting)
{
	char *dir, *file, *path, *h;
	int dirfd, fd;

	dir = fixed_dir();
	dirfd = open_owndir(dir);
	h = hashed_name("immich-lock", name, id);
	file = xasprintf("%s.%s.lock", h, name);
	path = xasprintf("%s/%s", dir, file);
	fd = open_file(dirfd, file, path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			err(EX_FATAL, "flock %s", path);
		warnx("%s", waiting);
		while (flock(fd, LOCK_EX) == -1)
			if (errno != EINTR)
				err(EX_FATAL, "flock %s", path);
	}
	/* Held until the process exits: fd stays open. */
	close(dirfd);
	free(dir);
	free(h);
	free(file);
	free(path);
}
