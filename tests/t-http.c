/* SPDX-License-Identifier: ISC */
/*
 * t-http: a test driver for common/http.c (not installed).
 *
 *   t-http METHOD PATH [JSON]	one request; prints the status, then the
 *				body on the next line
 *   t-http -n N METHOD PATH	N requests; prints the last status
 *   t-http -s PATH -o FILE	streams PATH into FILE; prints status,
 *				bytes, base64 SHA-1 and each start() as
 *				"start OFFSET TOTAL"
 *	-r FROM			ask for a Range from byte FROM
 *	-N			do not resume a cut transfer
 *	-a N			the sink aborts after N bytes
 *   t-http -u PATH FILE NAME [name=value ...]	multipart upload of FILE
 *   t-http -e			prints http_errmsg() of stdin
 *
 * Every mode prints "requests N" last.  On a non-2xx reply it prints
 * "msg: TEXT" and exits 1; when http returns -1, "msg: TEXT" and exit 3.
 */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/http.h"
#include "common/util.h"

struct file_sink {
	int	 fd;
	long long pos;
	long long limit;	/* abort after this many bytes; -1 never */
	long long seen;
	char	 starts[4096];
};

static int
fs_start(void *arg, long long off, long long total)
{
	struct file_sink *s = arg;
	size_t l = strlen(s->starts);

	snprintf(s->starts + l, sizeof(s->starts) - l, "start %lld %lld\n",
	    off, total);
	if (ftruncate(s->fd, off) == -1)
		err(EX_FATAL, "ftruncate");
	s->pos = off;
	return 0;
}

static int
fs_data(void *arg, const char *buf, size_t len)
{
	struct file_sink *s = arg;

	if (s->limit >= 0 && s->seen + (long long)len > s->limit)
		return -1;
	s->seen += len;
	if (pwrite(s->fd, buf, len, s->pos) != (ssize_t)len)
		err(EX_FATAL, "pwrite");
	s->pos += len;
	return 0;
}

static void
sha1_file(const char *path, char *out, long long *bytes)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	ssize_t n;
	int fd;

	*bytes = 0;
	if ((fd = open(path, O_RDONLY)) == -1)
		err(EX_FATAL, "%s", path);
	EVP_DigestInit_ex(c, EVP_sha1(), NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(c, buf, n);
		*bytes += n;
	}
	close(fd);
	EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	EVP_EncodeBlock((unsigned char *)out, md, mdlen);
}

static int
finish(int rv, struct http_resp *r)
{
	int ex = 0;

	if (rv == -1) {
		printf("msg: %s\n", r->msg);
		ex = EX_FATAL;
	} else if (r->status < 200 || r->status >= 300) {
		printf("msg: %s\n", r->msg);
		ex = 1;
	}
	printf("requests %ld\n", http_requests());
	http_free(r);
	return ex;
}

static void
usage(void)
{
	fprintf(stderr, "usage: t-http [-n count] method path [json]\n"
	    "       t-http -s path -o file [-N] [-a bytes] [-r from]\n"
	    "       t-http -u path file name [field=value ...]\n"
	    "       t-http -e\n");
	exit(EX_USAGE);
}

int
main(int argc, char *argv[])
{
	struct http_resp r;
	struct file_sink fs;
	struct http_sink sink = { fs_start, fs_data, &fs };
	const char *spath = NULL, *ofile = NULL;
	long long from = 0, bytes;
	long count = 1;
	int ch, rv = 0, resume = 1, upload = 0, errmode = 0;
	char sha[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&fs, 0, sizeof(fs));
	fs.limit = -1;
	while ((ch = getopt(argc, argv, "a:en:No:r:s:u")) != -1) {
		switch (ch) {
		case 'a':
			fs.limit = parse_num(optarg);
			break;
		case 'e':
			errmode = 1;
			break;
		case 'n':
			count = parse_num(optarg);
			break;
		case 'N':
			resume = 0;
			break;
		case 'o':
			ofile = optarg;
			break;
		case 'r':
			from = parse_num(optarg);
			break;
		case 's':
			spath = optarg;
			break;
		case 'u':
			upload = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;

	if (errmode) {
		char in[1 << 16], msg[512];
		size_t n = fread(in, 1, sizeof(in), stdin);
		http_errmsg(in, n, msg, sizeof(msg));
		printf("%s\n", msg);
		return 0;
	}
	http_init();
	if (spath) {
		if (ofile == NULL || argc != 0)
			usage();
		if ((fs.fd = open(ofile, O_RDWR | O_CREAT | O_TRUNC,
		    0644)) == -1)
			err(EX_FATAL, "%s", ofile);
		rv = http_stream(spath, from, resume, &sink, &r);
		close(fs.fd);
		printf("%s", fs.starts);
		printf("status %ld\n", r.status);
		if (rv == 0 && r.status >= 200 && r.status < 300) {
			sha1_file(ofile, sha, &bytes);
			printf("bytes %lld\nsha1 %s\n", bytes, sha);
		}
		return finish(rv, &r);
	}
	if (upload) {
		if (argc < 3)
			usage();
		rv = http_upload(argv[0], (const char *const *)argv + 3,
		    "assetData", argv[1], argv[2], &r);
		printf("status %ld\n%s\n", r.status, r.body ? r.body : "");
		return finish(rv, &r);
	}
	if (argc < 2 || argc > 3 || count < 1)
		usage();
	while (count-- > 0) {
		rv = http_json(argv[0], argv[1], argc == 3 ? argv[2] : NULL,
		    &r);
		if (count > 0)
			http_free(&r);
	}
	printf("status %ld\n%s\n", r.status, r.body ? r.body : "");
	return finish(rv, &r);
}
