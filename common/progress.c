/* SPDX-License-Identifier: ISC */
/*
 * Progress on stderr.
 *
 * Not a terminal: nothing until the end, then one summary line.
 *
 * A terminal: the stages of one pipeline share one block of rows, one
 * row per stage, as pv -c does.  They find each other with no option:
 * a shell pipeline is one process group on one terminal, so the block
 * lives in a small state file named by the process group and the
 * terminal (in the rate limit's private directory), under flock(2).
 * Each stage keeps its figures in its own row there; whoever ticks
 * redraws the whole block (at most 5 times a second for all stages
 * together) in one write(2), in pipeline order (a stage whose standard
 * input is the pipe another stage writes comes after it), and leaves the
 * cursor on the block's top row.  A stage that ends puts its summary
 * line in its row; the last one to end leaves the rows, now the summary
 * lines in pipeline order, with the cursor below them.  This process's
 * own lines on stderr (warnings) are written above the block, which
 * moves down a line and is drawn again at once.
 *
 * A total, for a fraction and an ETA: immich-dupes's response length; a
 * standard input that is a regular file (its size and the position in
 * it); or a pipe from a program of the same pipeline that reads a
 * regular file (jq ... plan.ndjson | ...: that file's size and position,
 * from /proc).  The first stage of the pipeline with a fraction gives an
 * estimate of how many records the pipeline will see; each row's ETA is
 * its remaining records at its own rate.
 */
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common/env.h"
#include "common/fsutil.h"
#include "common/http.h"
#include "common/ndjson.h"
#include "common/progress.h"
#include "common/ratelimit.h"
#include "common/util.h"

#define NROWS	16
#define TEXTLEN	1024
#define REDRAW	0.2		/* seconds between redraws */
#define MAGIC	"immprg3"

struct row {
	int32_t	 pid;
	int32_t	 pgrp;		/* its process group */
	int32_t	 state;		/* 0 free, 1 running, 2 ended */
	int32_t	 pad;
	uint64_t in, out;	/* pipe inodes of fd 0 and 1; else 0 */
	double	 t0;		/* CLOCK_MONOTONIC at the start */
	int64_t	 records, assets, held, failed, bytes, requests;
	double	 bps;		/* bytes/s, recent */
	double	 waited;	/* s waited for the rate limit */
	double	 limit;		/* the rate limit, requests/s; 0 none */
	double	 frac;		/* fraction of the input read; -1 unknown */
	char	 name[32];
	char	 text[TEXTLEN];	/* ended: the summary line */
};

struct shared {
	char	 magic[8];
	int32_t	 size;
	int32_t	 closed;	/* the last stage ended: block left */
	int32_t	 drawn;		/* the block is on the screen */
	int32_t	 pad;
	double	 last;		/* last redraw */
	struct row row[NROWS];
};

struct progress prog;

static int quiet, live, ended;
static char statepath[PATH_MAX];	/* for the ^C handler */
static int nolive;		/* no room in the block: the summary only */
static pid_t key;		/* the process group whose block we are in */
static double t0, last;
static int fd = -1;		/* the state file; -1: this stage alone */
static int me = -1;		/* our row */
static struct shared sh;	/* a copy of the file, under the lock */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int errfd = STDERR_FILENO;
static uint64_t in_ino, out_ino;
static long long in_size;	/* stdin is a regular file of this size */
/* The program upstream of our stdin pipe reads this file. */
static pid_t up_pid;
static int up_fd = -1;
static long long up_size;
static double up_next;		/* when to look for it again */
static int up_tries;
static long long bytes0;	/* for the rate */
static double bt0;
/* Our lines to the terminal (stderr, and stdout when it is the same
 * terminal), a line at a time. */
struct lines {
	int	 fd;
	size_t	 len;
	char	 buf[1024];	/* a partial line */
};
static struct lines errl = { STDERR_FILENO, 0, "" };
static struct lines outl = { STDOUT_FILENO, 0, "" };

static const char *
human(long long n, char *buf, size_t sz)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = n;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, sz, "%lld B", n);
	else
		snprintf(buf, sz, "%.1f %s", d, unit[u]);
	return buf;
}

static uint64_t
pipe_ino(int f)
{
	struct stat st;

	if (fstat(f, &st) == -1 || !S_ISFIFO(st.st_mode))
		return 0;
	return st.st_ino;
}

static void update(double);
static void draw(double, int);
static void out_line(int, const char *, size_t);

/* ---- the state file ---------------------------------------------------- */

static int
lock(int op)
{
	if (fd == -1)
		return 0;
	while (flock(fd, op) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

static int
alive(const struct row *r)
{
	if (r->state != 1)
		return 0;
	/* a pid used again since is in another process group */
	return getpgid(r->pid) == r->pgrp;
}

/* Read the file into sh (under the lock); a bad or empty file reads as a
 * new block. */
static void
load(void)
{
	if (fd == -1)
		return;
	if (pread(fd, &sh, sizeof(sh), 0) != (ssize_t)sizeof(sh) ||
	    memcmp(sh.magic, MAGIC, sizeof(sh.magic)) != 0 ||
	    sh.size != (int32_t)sizeof(sh)) {
		memset(&sh, 0, sizeof(sh));
		memcpy(sh.magic, MAGIC, sizeof(sh.magic));
		sh.size = sizeof(sh);
	}
}

static void
save(void)
{
	if (fd != -1 && pwrite(fd, &sh, sizeof(sh), 0) != (ssize_t)sizeof(sh)) {
		close(fd);	/* carry on alone */
		fd = -1;
	}
}

/* The rate limit's directory, if it is ours alone; else -1. */
static int
open_dir(char *dir, size_t sz)
{
	struct stat st;
	char *d = rl_statedir();
	int fd;

	snprintf(dir, sz, "%s", d);
	free(d);
	fd = fs_owndir(AT_FDCWD, dir, FS_PRIVATE, &st);
	return fd < 0 ? -1 : fd;
}

static int
state_name(char *name, size_t sz)
{
	struct stat st;

	if (fstat(STDERR_FILENO, &st) == -1)
		return -1;
	snprintf(name, sz, "progress.%ld.%llx", (long)key,
	    (unsigned long long)st.st_rdev);
	return 0;
}

/*
 * The process group whose block to join: ours when it is the terminal's
 * foreground group; else the foreground group when an ancestor of ours
 * that is not the session's leader (the login shell) is in it: a job of
 * GNU parallel, which gives each job its own group.  -1: we are in the
 * background.
 */
static pid_t
fg_group(void)
{
	pid_t fg = tcgetpgrp(STDERR_FILENO), p = getppid();
	char path[64], line[512], *q;
	long ppid, pgrp, sid;
	int i, n;
	FILE *fp;

	if (fg == -1 || fg == getpgrp())
		return fg;
	for (i = 0; i < 8 && p > 1; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/stat", (long)p);
		if ((fp = fopen(path, "re")) == NULL)
			return -1;
		q = fgets(line, sizeof(line), fp) ? strrchr(line, ')') : NULL;
		fclose(fp);
		/* pid (comm) state ppid pgrp session: comm may hold spaces */
		if (q == NULL || (n = sscanf(q + 1, " %*c %ld %ld %ld", &ppid,
		    &pgrp, &sid)) != 3)
			return -1;
		if (pgrp == fg)
			return sid != p ? fg : -1;
		p = ppid;
	}
	return -1;
}

/* Room in a full block: an ended stage's row goes above the block. */
static int
recycle(void)
{
	char line[TEXTLEN + 1];
	int i, best = -1;

	for (i = 0; i < NROWS; i++)
		if ((sh.row[i].state == 2 || !alive(&sh.row[i])) &&
		    (best == -1 || sh.row[i].t0 < sh.row[best].t0))
			best = i;
	if (best == -1)
		return -1;
	if (sh.row[best].state == 2)
		snprintf(line, sizeof(line), "%s\n", sh.row[best].text);
	else
		snprintf(line, sizeof(line), "%s: stopped\n", sh.row[best].name);
	out_line(errfd, line, strlen(line));
	return best;
}

/* Join (or start) the block of our process group on our terminal. */
static void
join(void)
{
	struct stat st;
	char name[64], dir[PATH_MAX - 64];
	int d, i, tries, any;

	if (state_name(name, sizeof(name)) == -1 ||
	    (d = open_dir(dir, sizeof(dir))) == -1)
		return;
	snprintf(statepath, sizeof(statepath), "%s/%s", dir, name);
	for (tries = 0; tries < 5; tries++) {
		fd = openat(d, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		    0600);
		if (fd == -1)
			break;
		if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_uid != geteuid() || lock(LOCK_EX) == -1)
			goto alone;
		if (fstat(fd, &st) == -1)
			goto alone;
		if (st.st_nlink == 0) {		/* closed and removed */
			close(fd);
			fd = -1;
			continue;
		}
		load();
		for (any = i = 0; i < NROWS; i++)
			any |= alive(&sh.row[i]);
		if (!any || sh.closed) {	/* a block left from before */
			memset(sh.row, 0, sizeof(sh.row));
			sh.closed = sh.drawn = 0;
			sh.last = 0;
		}
		for (i = 0; i < NROWS && sh.row[i].state != 0; i++)
			;
		if (i == NROWS && (i = recycle()) == -1) {
			nolive = 1;
			lock(LOCK_UN);
			close(d);
			return;
		}
		me = i;
		memset(&sh.row[me], 0, sizeof(sh.row[me]));
		sh.row[me].state = 1;
		update(t0);
		if (sh.drawn && !sh.closed)
			draw(t0, 0);
		save();
		lock(LOCK_UN);
		close(d);
		return;
	}
alone:
	if (fd != -1)
		close(fd);
	fd = -1;
	close(d);
}

/* ---- the input's size -------------------------------------------------- */

static long long
proc_pos(pid_t pid, int f, int *rdonly)
{
	char path[64], line[128];
	long long pos = -1;
	unsigned long flags;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%d", (long)pid, f);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "pos: %lld", &pos) == 1)
			continue;
		if (rdonly && sscanf(line, "flags: %lo", &flags) == 1)
			*rdonly = (flags & O_ACCMODE) == O_RDONLY;
	}
	fclose(fp);
	return pos;
}

/* The program writing our stdin pipe, if one of our process group that is
 * no stage of ours, and the regular file it reads. */
static void
find_upstream(void)
{
	char path[64], link[64], want[64], line[512];
	struct dirent *e, *fe;
	struct stat st;
	DIR *dp, *fdp;
	pid_t pid, pg = key;
	int i, f, rd;
	ssize_t n;
	long p;
	FILE *fp;

	snprintf(want, sizeof(want), "pipe:[%llu]", (unsigned long long)in_ino);
	if ((dp = opendir("/proc")) == NULL)
		return;
	while ((e = readdir(dp)) != NULL) {
		if ((pid = atoi(e->d_name)) <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fd/1", (long)pid);
		if ((n = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, want) != 0)
			continue;
		for (i = 0; i < NROWS; i++)
			if (sh.row[i].state != 0 && sh.row[i].pid == pid)
				break;
		snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
		if (i < NROWS || (fp = fopen(path, "re")) == NULL)
			break;
		/* pid (comm) state ppid pgrp: comm may hold spaces */
		p = -1;
		if (fgets(line, sizeof(line), fp) != NULL &&
		    strrchr(line, ')') != NULL)
			sscanf(strrchr(line, ')') + 1, " %*c %*d %ld", &p);
		fclose(fp);
		if (p != (long)pg)
			break;
		snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
		if ((fdp = opendir(path)) == NULL)
			break;
		while ((fe = readdir(fdp)) != NULL) {
			f = atoi(fe->d_name);
			if (fe->d_name[0] < '0' || fe->d_name[0] > '9' ||
			    f == 1 || f == 2)
				continue;
			snprintf(path, sizeof(path), "/proc/%ld/fd/%d",
			    (long)pid, f);
			rd = 0;
			if (stat(path, &st) == -1 || !S_ISREG(st.st_mode) ||
			    st.st_size <= 0 || proc_pos(pid, f, &rd) < 0 ||
			    !rd)
				continue;
			up_pid = pid;
			up_fd = f;
			up_size = st.st_size;
			break;
		}
		closedir(fdp);
		break;
	}
	closedir(dp);
}

/* How much of its input this stage has read: 0..1, or -1. */
static double
fraction(double t)
{
	long long pos;
	int i, queued = 0;

	if (prog.total_bytes > 0)
		return prog.bytes >= prog.total_bytes ? 1 :
		    (double)prog.bytes / prog.total_bytes;
	if (prog.total_records > 0)
		return prog.records >= prog.total_records ? 1 :
		    (double)prog.records / prog.total_records;
	else if (in_size > 0) {
		if ((pos = lseek(STDIN_FILENO, 0, SEEK_CUR)) < 0)
			return -1;
		return pos >= in_size ? 1 : (double)pos / in_size;
	} else if (in_ino != 0) {
		if (up_fd == -1 && up_tries < 10 && t >= up_next) {
			/* only the first stage looks upstream */
			for (i = 0; i < NROWS; i++)
				if (sh.row[i].state != 0 &&
				    sh.row[i].out == in_ino)
					break;
			up_tries++;
			up_next = t + 1;
			if (i == NROWS)
				find_upstream();
		}
		if (up_fd == -1)
			return -1;
		if ((pos = proc_pos(up_pid, up_fd, NULL)) < 0)
			pos = up_size;		/* it has read it all */
		if (ioctl(STDIN_FILENO, FIONREAD, &queued) == -1)
			queued = 0;
		pos -= queued;
		return pos <= 0 ? 0 : pos >= up_size ? 1 :
		    (double)pos / up_size;
	}
	return -1;
}

/* ---- drawing ----------------------------------------------------------- */

/* Pipeline order: each chain of pipes from its head, heads by start. */
static int
order(int *ord)
{
	int used[NROWS] = { 0 }, n = 0, i, j, best, head;

	for (;;) {
		best = -1;
		for (i = 0; i < NROWS; i++) {
			if (used[i] || sh.row[i].state == 0)
				continue;
			for (head = 1, j = 0; j < NROWS; j++)
				if (!used[j] && j != i &&
				    sh.row[j].state != 0 &&
				    sh.row[i].in != 0 &&
				    sh.row[j].out == sh.row[i].in)
					head = 0;
			if (head && (best == -1 ||
			    sh.row[i].t0 < sh.row[best].t0))
				best = i;
		}
		if (best == -1)	/* a cycle, or none left */
			for (i = 0; i < NROWS && best == -1; i++)
				if (!used[i] && sh.row[i].state != 0)
					best = i;
		if (best == -1)
			return n;
		used[best] = 1;
		ord[n++] = best;
	}
}

static void
fmt_eta(char *buf, size_t sz, double s)
{
	long l = s + 0.5;

	if (l >= 3600)
		snprintf(buf, sz, ", ETA %ld:%02ld:%02ld", l / 3600,
		    l / 60 % 60, l % 60);
	else
		snprintf(buf, sz, ", ETA %ld:%02ld", l / 60, l % 60);
}

/* One row: the stage in its own terms. */
static void
fmt_row(const struct row *r, double now, long long total, int exact,
    char *buf, size_t sz)
{
	char b1[32], b2[32], tot[48] = "", held[32] = "", by[80] = "";
	char req[96] = "", eta[40] = "";
	double el = now - r->t0 > 0.001 ? now - r->t0 : 0.001;
	long long failed = r->failed - r->held;

	if (r->state == 2) {
		snprintf(buf, sz, "%s", r->text);
		return;
	}
	if (total > 0)
		snprintf(tot, sizeof(tot), "/%s%lld", exact ? "" : "~",
		    total);
	if (r->held > 0)
		snprintf(held, sizeof(held), ", %lld held", (long long)r->held);
	if (r->bytes > 0)
		snprintf(by, sizeof(by), ", %s, %s/s",
		    human(r->bytes, b1, sizeof(b1)),
		    human((long long)r->bps, b2, sizeof(b2)));
	if (r->requests > 0) {
		snprintf(req, sizeof(req), ", %lld request%s",
		    (long long)r->requests, r->requests == 1 ? "" : "s");
		/* the limit is what slows the run */
		if (r->limit > 0 && r->waited > 0.1 * el)
			snprintf(req + strlen(req), sizeof(req) - strlen(req),
			    " (%.0f%% waiting for the %g/s limit)",
			    r->waited >= el ? 100 : 100 * r->waited / el,
			    r->limit);
	}
	if (total > r->records && r->records > 0)
		fmt_eta(eta, sizeof(eta),
		    (total - r->records) * el / r->records);
	else if (r->frac > 0 && r->frac < 1)
		fmt_eta(eta, sizeof(eta), el * (1 - r->frac) / r->frac);
	snprintf(buf, sz, "%s: %lld%s group%s%s, %lld asset%s%s, %lld failed"
	    "%s%s%s", r->name, (long long)r->records, tot,
	    r->records == 1 && !tot[0] ? "" : "s", eta, (long long)r->assets,
	    r->assets == 1 ? "" : "s", held, failed > 0 ? failed : 0, by, req,
	    alive(r) || r->pid == getpid() ? "" : ", stopped");
}

static void
put(char **p, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*p = xrealloc(*p, *cap);
	}
	memcpy(*p + *len, s, n);
	*len += n;
}

/* Draw the whole block from the cursor (its top row), under the lock.
 * close: leave the cursor below it. */
/* All of p to fd, as far as it goes (a terminal that went away is not an
 * error for a progress line). */
static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t k;
	size_t l;

	for (l = 0; l < n; l += k)
		if ((k = write(fd, p + l, n - l)) <= 0 && errno != EINTR)
			break;
		else if (k < 0)
			k = 0;
}

static void
draw(double now, int close)
{
	int ord[NROWS], n, i, w = 80, exact = 0;
	long long total = 0;
	struct winsize ws;
	struct row *h;
	char row[TEXTLEN + 256], mv[16];
	char *p = NULL;
	size_t len = 0, cap = 0, l;

	if ((n = order(ord)) == 0)
		return;
	if (ioctl(errfd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		w = ws.ws_col;
	/* The pipeline's total: from its first stage with a fraction. */
	for (i = 0; i < n; i++) {
		h = &sh.row[ord[i]];
		if (h->frac < 0)
			continue;
		if (h->state == 2 || h->frac >= 1) {
			total = h->records;
			exact = 1;
		} else if (h->frac > 0.001 && h->records > 0)
			total = h->records / h->frac + 0.5;
		break;
	}
	for (i = 0; i < n; i++) {
		fmt_row(&sh.row[ord[i]], now, total, exact, row, sizeof(row));
		l = strlen(row);
		if (l > (size_t)w - 1 && !close)	/* one line each */
			l = w - 1;
		put(&p, &len, &cap, "\r", 1);
		put(&p, &len, &cap, row, l);
		put(&p, &len, &cap, "\033[K", 3);
		if (i < n - 1 || close)
			put(&p, &len, &cap, "\n", 1);
	}
	if (!close) {
		if (n > 1) {
			snprintf(mv, sizeof(mv), "\033[%dA", n - 1);
			put(&p, &len, &cap, mv, strlen(mv));
		}
		put(&p, &len, &cap, "\r", 1);
	}
	write_all(errfd, p, len);
	free(p);
	sh.drawn = !close;
	sh.last = now;
}

/* Our figures into our row. */
static void
update(double t)
{
	struct row *r;
	double dt;

	if (me < 0)
		return;
	r = &sh.row[me];
	r->pid = getpid();
	r->pgrp = getpgrp();
	r->in = in_ino;
	r->out = out_ino;
	r->t0 = t0;
	snprintf(r->name, sizeof(r->name), "%s", program_invocation_short_name);
	r->records = prog.records;
	r->assets = prog.assets;
	r->held = prog.held;
	r->failed = prog.failed;
	r->requests = http_requests();
	r->waited = rl_waited();
	r->limit = rl_rate();
	r->frac = fraction(t);
	/* bytes/s: over the last second or more; over the run until then */
	if (bt0 > 0 && (dt = t - bt0) >= 1) {
		r->bps = (prog.bytes - bytes0) / dt;
		bytes0 = prog.bytes;
		bt0 = t;
	} else if (bt0 == 0 && t - t0 > 0.01) {
		r->bps = prog.bytes / (t - t0);
		if (t - t0 >= 1) {
			bytes0 = prog.bytes;
			bt0 = t;
		}
	}
	r->bytes = prog.bytes;
}

static int
foreground(void)
{
	return tcgetpgrp(errfd) == key;
}

/* This process's lines on the terminal: whole lines, above the block,
 * in one write; what was there cleared (a long line wraps onto the next
 * row). */
static void
out_line(int f, const char *s, size_t n)
{
	char *b = xmalloc(n + 8);

	if (n > 0 && s[n - 1] == '\n')
		n--;
	memcpy(b, "\r\033[K", 4);
	memcpy(b + 4, s, n);
	memcpy(b + 4 + n, "\033[K\n", 4);
	n += 8;
	write_all(f, b, n);
	free(b);
}

static void
put_lines(struct lines *ln, const char *buf, size_t len, int flush)
{
	const char *nl;
	size_t n;
	int locked = 0;

	while (len > 0 || (flush && ln->len > 0)) {
		if (len > 0) {
			nl = memchr(buf, '\n', len);
			n = nl ? (size_t)(nl - buf) + 1 : len;
			if (n > sizeof(ln->buf) - 1 - ln->len)
				n = sizeof(ln->buf) - 1 - ln->len;
			memcpy(ln->buf + ln->len, buf, n);
			ln->len += n;
			buf += n;
			len -= n;
			if (ln->buf[ln->len - 1] != '\n' &&
			    ln->len < sizeof(ln->buf) - 1 && !(flush && len == 0))
				continue;	/* the rest of the line to come */
		}
		if (ln->buf[ln->len - 1] != '\n')
			ln->buf[ln->len++] = '\n';
		if (!locked) {
			pthread_mutex_lock(&mu);
			lock(LOCK_EX);
			load();
			locked = 1;
		}
		out_line(ln->fd, ln->buf, ln->len);
		ln->len = 0;
	}
	if (locked) {
		/* the line went over the block's top row: draw it again */
		if (sh.drawn && !sh.closed) {
			double t = now_mono();

			update(t);
			draw(t, 0);
		}
		save();
		lock(LOCK_UN);
		pthread_mutex_unlock(&mu);
	}
}

static ssize_t
cookie_write(void *c, const char *buf, size_t len)
{
	put_lines(c, buf, len, 0);
	return len;
}

/* Mark our row ended (text: the summary, or NULL for the live row);
 * the last one ends the block. */
static void
finish(const char *text)
{
	double t = now_mono();
	int i, any = 0;

	pthread_mutex_lock(&mu);
	lock(LOCK_EX);
	load();
	update(t);
	if (text != NULL)
		snprintf(sh.row[me].text, TEXTLEN, "%s", text);
	else
		fmt_row(&sh.row[me], t, 0, 0, sh.row[me].text, TEXTLEN);
	sh.row[me].state = 2;
	for (i = 0; i < NROWS; i++)
		any |= alive(&sh.row[i]);
	if (sh.closed)		/* after a ^C: a line of its own */
		out_line(errfd, sh.row[me].text, strlen(sh.row[me].text));
	else if (!any) {
		draw(t, 1);
		sh.closed = 1;
	} else if (foreground())
		draw(t, 0);
	save();
	if (!any && fd != -1) {
		char name[64], dir[PATH_MAX];
		int d;

		if (state_name(name, sizeof(name)) == 0 &&
		    (d = open_dir(dir, sizeof(dir))) != -1) {
			unlinkat(d, name, 0);
			close(d);
		}
	}
	lock(LOCK_UN);
	pthread_mutex_unlock(&mu);
	ended = 1;
}

static void
at_exit(void)
{
	put_lines(&errl, NULL, 0, 1);
	put_lines(&outl, NULL, 0, 1);
	if (!ended && !nolive)
		finish(NULL);
}

/* Interrupted (^C): the first stage to see it leaves the block as it is
 * and puts the cursor below it, for the shell's prompt. */
static void
on_signal(int sig)
{
	int i, n = 0, e = errno;

	if (fd != -1 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
		if (pread(fd, &sh, sizeof(sh), 0) == (ssize_t)sizeof(sh) &&
		    sh.drawn && !sh.closed) {
			for (i = 0; i < NROWS; i++)
				n += sh.row[i].state != 0;
			while (n-- > 0)
				(void)!write(errfd, "\n", 1);
			sh.closed = 1;
			(void)!pwrite(fd, &sh, sizeof(sh), 0);
			if (statepath[0])
				unlink(statepath);
		}
		flock(fd, LOCK_UN);
	} else if (fd == -1 && sh.drawn)
		(void)!write(errfd, "\n", 1);
	errno = e;
	signal(sig, SIG_DFL);
	raise(sig);
}

/* stdio stream fp replaced by one that writes whole lines above the
 * block. */
static FILE *
wrap(FILE *fp, struct lines *ln)
{
	static cookie_io_functions_t io = { NULL, cookie_write, NULL, NULL };
	FILE *w;

	fflush(fp);
	if ((w = fopencookie(ln, "w", io)) == NULL)
		return fp;
	setvbuf(w, NULL, _IONBF, 0);
	return w;
}

void
progress_init(int q)
{
	struct sigaction sa;
	struct stat st, st2;

	ndjson_init();	/* every binary calls this first */
	quiet = q;
	live = !q && isatty(STDERR_FILENO);
	t0 = last = now_mono();
	/* in the background: the summary line only */
	if (live && (key = fg_group()) == -1)
		live = 0;
	if (!live)
		return;
	in_ino = pipe_ino(STDIN_FILENO);
	out_ino = pipe_ino(STDOUT_FILENO);
	if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode))
		in_size = st.st_size;
	up_next = t0 + 0.3;
	join();
	if (me == -1 && !nolive) {	/* alone: a block of one row */
		memset(&sh, 0, sizeof(sh));
		me = 0;
		sh.row[0].state = 1;
	}
	if (!nolive)
		update(t0);
	atexit(at_exit);
	/* ^C, hangup: the whole foreground group at once */
	if (sigaction(SIGINT, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGINT, on_signal);
	if (sigaction(SIGHUP, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGHUP, on_signal);
	stderr = wrap(stderr, &errl);
	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISCHR(st.st_mode) &&
	    fstat(STDERR_FILENO, &st2) == 0 && st.st_rdev == st2.st_rdev)
		stdout = wrap(stdout, &outl);
	progress_tick();
}

void
progress_tick(void)
{
	double t = now_mono();

	if (!live || nolive || ended || t - last < REDRAW)
		return;
	if (pthread_mutex_trylock(&mu) != 0)
		return;
	last = t;
	if (fd == -1 || flock(fd, LOCK_EX | LOCK_NB) == 0) {
		load();
		update(t);
		if (!sh.closed && t - sh.last >= REDRAW && foreground())
			draw(t, 0);
		save();
		lock(LOCK_UN);
	}
	pthread_mutex_unlock(&mu);
}

void
progress_end(long requests, const char *extra)
{
	char line[TEXTLEN], *x = NULL;
	const char *login = env_login_file();
	int e = errno;

	if (quiet || ended)
		return;
	if (login != NULL)	/* say where the server and key came from */
		extra = x = xasprintf("%s%sserver and key from %s",
		    extra ? extra : "", extra ? ", " : "", login);
	snprintf(line, sizeof(line), "%s: %ld record%s, %ld asset%s, %ld "
	    "failed, %s, %ld request%s, %.1f s%s%s",
	    program_invocation_short_name, prog.records,
	    prog.records == 1 ? "" : "s", prog.assets,
	    prog.assets == 1 ? "" : "s", prog.failed,
	    human(prog.bytes, (char[32]){ 0 }, 32), requests,
	    requests == 1 ? "" : "s", now_mono() - t0, extra ? ", " : "",
	    extra ? extra : "");
	free(x);
	if (live && !nolive)
		finish(line);
	else
		fprintf(stderr, "%s\n", line);
	errno = e;
}
