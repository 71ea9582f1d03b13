/* SPDX-License-Identifier: ISC */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/html.h"
#include "common/merge.h"
#include "common/ndjson.h"
#include "common/page.h"
#include "common/rules.h"
#include "common/util.h"

/* The page's only style and script; the policy allows exactly these. */
static const char css[] =
":root{color-scheme:light dark;--bg:#f4f4f5;--fg:#18181b;--card:#fff;"
"--mut:#71717a;--k:#15803d;--x:#dc2626;--h:#d97706;--d:#fef08a;"
"--m:#fecaca;--ln:#e4e4e7}"
"@media(prefers-color-scheme:dark){:root{--bg:#18181b;--fg:#e4e4e7;"
"--card:#27272a;--mut:#a1a1aa;--d:#713f12;--m:#7f1d1d;--ln:#3f3f46}}"
"*{box-sizing:border-box}[hidden]{display:none!important}"
"body{margin:0;font:13px/1.4 system-ui,sans-serif;background:var(--bg);"
"color:var(--fg)}"
"#bar{position:sticky;top:0;z-index:2;display:flex;flex-wrap:wrap;"
"gap:6px 14px;align-items:center;padding:8px 16px;background:var(--card);"
"border-bottom:1px solid var(--ln)}"
"#bar h1{font-size:16px;margin:0}#cnt,.gid,dt,footer{color:var(--mut)}"
"main{padding:10px 16px}footer{padding:0 16px 16px}"
"html:not(.r) .sc{content-visibility:auto;"
"contain-intrinsic-size:auto 40000px}"
".g{content-visibility:auto;contain-intrinsic-size:auto 430px;"
"background:var(--card);border:1px solid var(--ln);"
"border-left:5px solid var(--k);border-radius:6px;margin:0 0 12px;"
"padding:8px 12px}.g.h{border-left-color:var(--h)}"
".g h2{font-size:13px;font-weight:normal;margin:0 0 6px}"
".st{font-weight:bold;color:var(--k)}.g.h .st{color:var(--h)}"
".gid{font-family:monospace}"
".rv{margin:0 0 8px;padding-left:18px}.rv b{font-family:monospace;"
"color:var(--h)}"
".as{display:flex;flex-wrap:wrap;gap:10px}"
".a{margin:0;width:250px;border:2px solid var(--ln);border-radius:6px;"
"padding:6px}.a.k{border-color:var(--k)}.a.x{border-color:var(--x)}"
".a.h{border-color:var(--h)}"
".t{position:relative;height:150px;display:flex;align-items:center;"
"justify-content:center;background:var(--ln);border-radius:4px;"
"overflow:hidden}.t img{width:100%;height:100%;object-fit:contain}"
".no{color:var(--mut);font-style:italic}"
".b{position:absolute;background:#000c;color:#fff;font-size:11px;"
"padding:1px 5px;border-radius:3px}.b.v{left:4px;bottom:4px}"
".b.l{left:4px;top:4px}.b.r{right:4px;top:4px;background:var(--x)}"
".f{margin:5px 0 0;font-weight:bold;font-size:11px;"
"text-transform:uppercase}.k .f{color:var(--k)}.x .f{color:var(--x)}"
".h .f{color:var(--h)}"
".n{margin:1px 0 4px;font-weight:600;white-space:nowrap;overflow:hidden;"
"text-overflow:ellipsis}"
".lg{font-size:12px}.lg mark{padding:0 4px}"
".m{display:grid;grid-template-columns:76px 1fr;font-size:12px;"
"line-height:1.45;white-space:pre}.m>div{overflow:hidden;"
"text-overflow:ellipsis}.m>div:first-child{color:var(--mut)}"
"mark{background:var(--d);color:inherit}mark.z{background:var(--m)}"
".mv{margin:8px 0 0}.mv ul{margin:2px 0;padding-left:18px}"
".er{color:var(--x)}";

static const char js[] =
"(function(){"
"var cs=[].slice.call(document.querySelectorAll('main article')),"
"nm=cs.map(function(c){return c.dataset.n.toLowerCase()}),"
"f=document.getElementById('f'),q=document.getElementById('q'),"
"cnt=document.getElementById('cnt'),codes={},held=0,er=0,tm;"
"cs.forEach(function(c){var d=c.dataset;if(d.s=='held')held++;"
"if(d.e)er++;d.c.split(' ').forEach(function(k){"
"if(k)codes[k]=(codes[k]||0)+1})});"
"function opt(v,t){var o=document.createElement('option');o.value=v;"
"o.textContent=t;f.appendChild(o)}"
"opt('','all groups ('+cs.length+')');"
"opt('held','held for review ('+held+')');"
"opt('auto','resolved automatically ('+(cs.length-held)+')');"
"if(er)opt('err','with errors ('+er+')');"
"Object.keys(codes).sort().forEach(function(k){"
"opt('c:'+k,'review: '+k+' ('+codes[k]+')')});"
"function apply(){var v=f.value,s=q.value.trim().toLowerCase(),n=0,i;"
"for(i=0;i<cs.length;i++){var d=cs[i].dataset,ok=(!v||(v=='held'?"
"d.s=='held':v=='auto'?d.s=='auto':v=='err'?!!d.e:"
"d.c.indexOf(' '+v.slice(2)+' ')>=0))&&(!s||nm[i].indexOf(s)>=0);"
"if(cs[i].hidden==ok)cs[i].hidden=!ok;if(ok)n++}"
"cnt.textContent=n+' of '+cs.length+' groups shown'}"
"function bad(i){var t=i.parentNode;t.classList.add('bad');"
"t.replaceChild(document.createTextNode('thumbnail unreadable'),i)}"
"document.addEventListener('error',function(e){"
"if(e.target.tagName=='IMG')bad(e.target)},true);"
"var h;try{h=decodeURIComponent(location.hash.slice(1))}catch(e){h=''}"
"if(h.indexOf('q=')==0)q.value=h.slice(2);else if(h)f.value=h;"
"if(f.selectedIndex<0)f.selectedIndex=0;"
"function show(c){[].forEach.call(c.querySelectorAll('img[data-src]'),"
"function(i){i.src=i.getAttribute('data-src');"
"i.removeAttribute('data-src')})}"
"var io=window.IntersectionObserver&&new IntersectionObserver("
"function(es){es.forEach(function(e){if(e.isIntersecting){"
"show(e.target);io.unobserve(e.target)}})},{rootMargin:'1000px 0px'});"
"cs.forEach(function(c){if(io)io.observe(c);else show(c)});"
"f.onchange=function(){apply();try{history.replaceState(null,'',"
"f.value?'#'+encodeURIComponent(f.value):location.pathname)}"
"catch(e){}};q.oninput=function(){clearTimeout(tm);"
"tm=setTimeout(apply,150)};apply();"
"var de=document.documentElement,p=performance.getEntriesByType('paint')"
".filter(function(e){return e.name=='first-contentful-paint'})[0];"
"de.className='r';de.setAttribute('data-ready',Math.round(performance.now()));"
"if(p)de.setAttribute('data-fcp',Math.round(p.startTime))})();";

void
page_head(FILE *fp)
{
	char hcss[64], hjs[64];

	html_sha256(css, hcss, sizeof(hcss));
	html_sha256(js, hjs, sizeof(hjs));
	fprintf(fp, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\""
	    "default-src 'none'; img-src 'self' data:; "
	    "style-src 'sha256-%s'; script-src 'sha256-%s'; "
	    "base-uri 'none'; form-action 'none'\">\n"
	    "<meta name=\"referrer\" content=\"no-referrer\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width\">\n"
	    "<title>Immich duplicates: review</title>\n<style>%s</style>\n"
	    "</head><body>\n<header id=\"bar\"><h1>Immich duplicates</h1>"
	    "<select id=\"f\" aria-label=\"filter\"></select>"
	    "<input id=\"q\" type=\"search\" placeholder=\"search file names\" "
	    "aria-label=\"search file names\"><span id=\"cnt\"></span>"
	    "<span class=\"lg\"><mark>differs from the keeper</mark> "
	    "<mark class=\"z\">the keeper has none</mark></span>"
	    "</header>\n<main>\n", hcss, hjs, css);
}

void
page_foot(FILE *fp, const struct page_stats *st)
{
	char when[64];
	time_t t = time(NULL);
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC",
	    gmtime_r(&t, &tm));
	if (st->groups > 0)
		fputs("</section>\n", fp);
	fprintf(fp, "</main>\n<footer id=\"sum\" data-groups=\"%ld\" "
	    "data-held=\"%ld\">%ld groups, %ld held for review, %ld assets; "
	    "made by immich-review on %s.</footer>\n<script>%s</script>\n"
	    "</body></html>\n", st->groups, st->held, st->groups, st->held,
	    st->assets, when, js);
}

/* ---- one value of the metadata list, as text (malloc'd) or NULL ---- */

static char *
v_size(const cJSON *a)
{
	static const char *const u[] = { "KiB", "MiB", "GiB", "TiB" };
	double b, x;
	int i;

	if (!exif_num(a, "fileSizeInByte", &b) || b < 0)
		return NULL;
	if (b < 1024)
		return xasprintf("%.0f B", b);
	for (x = b / 1024, i = 0; x >= 1024 && i < 3; i++)
		x /= 1024;
	return xasprintf("%.*f %s", x < 10 ? 2 : 1, x, u[i]);
}

static char *
v_pixels(const cJSON *a)
{
	const cJSON *x = asset_exif(a);
	double w, h;
	const cJSON *jw, *jh;

	jw = cJSON_GetObjectItemCaseSensitive(a, "width");
	jh = cJSON_GetObjectItemCaseSensitive(a, "height");
	if (cJSON_IsNumber(jw) && cJSON_IsNumber(jh) && jw->valuedouble > 0 &&
	    jh->valuedouble > 0)
		return xasprintf("%.0f \xc3\x97 %.0f", jw->valuedouble,
		    jh->valuedouble);
	if (x && exif_num(a, "exifImageWidth", &w) &&
	    exif_num(a, "exifImageHeight", &h) && w > 0 && h > 0)
		return xasprintf("%.0f \xc3\x97 %.0f", w, h);
	return NULL;
}

static char *
v_format(const cJSON *a)
{
	const char *n = asset_str(a, "originalFileName"), *e, *t;
	const char *m = asset_str(a, "originalMimeType");
	char ext[12];
	size_t i;

	t = asset_str(a, "type");
	e = n ? strrchr(n, '.') : NULL;
	if (e && strlen(e + 1) > 0 && strlen(e + 1) < sizeof(ext)) {
		for (i = 0; e[i + 1]; i++)
			ext[i] = (e[i + 1] >= 'a' && e[i + 1] <= 'z') ?
			    e[i + 1] - 32 : e[i + 1];
		ext[i] = '\0';
	} else if (m)
		snprintf(ext, sizeof(ext), "%s", m);
	else
		ext[0] = '\0';
	if (t && strcmp(t, "IMAGE") != 0)
		return xasprintf("%s%s%s", ext, ext[0] ? " " : "", t);
	return ext[0] ? xstrdup(ext) : NULL;
}

static char *
clock_text(double ms)
{
	long s = (long)(ms / 1000 + 0.5);

	if (s >= 3600)
		return xasprintf("%ld:%02ld:%02ld", s / 3600, s / 60 % 60,
		    s % 60);
	return xasprintf("%ld:%02ld", s / 60, s % 60);
}

static char *
v_length(const cJSON *a)
{
	double ms;

	return asset_duration(a, &ms) && ms > 0 ? clock_text(ms) : NULL;
}

/* "2019-05-03T14:22:10.000Z" as "2019-05-03 14:22:10Z", + the zone. */
static char *
v_date(const cJSON *a)
{
	const char *d = exif_str(a, "dateTimeOriginal");
	const char *z = exif_str(a, "timeZone");
	char *s, *p;
	size_t n;

	if (d == NULL)
		return NULL;
	s = xasprintf("%s%s%s", d, z ? " " : "", z ? z : "");
	if (strlen(s) > 10 && s[10] == 'T')
		s[10] = ' ';
	if ((p = strchr(s, '.')) != NULL && p - s == 19 &&
	    (n = strspn(p + 1, "0")) > 0 && (p[1 + n] < '0' ||
	    p[1 + n] > '9'))
		memmove(p, p + 1 + n, strlen(p + 1 + n) + 1);
	return s;
}

static char *
v_gps(const cJSON *a)
{
	const char *city = exif_str(a, "city"), *c = exif_str(a, "country");
	double la, lo;

	if (!asset_gps(a, &la, &lo))
		return NULL;
	return xasprintf("%.5f, %.5f%s%s%s%s%s", la, lo, city || c ? " (" :
	    "", city ? city : "", city && c ? ", " : "", c ? c : "",
	    city || c ? ")" : "");
}

static char *
v_camera(const cJSON *a)
{
	const char *mk = exif_str(a, "make"), *md = exif_str(a, "model");

	if (mk && md && strncasecmp(md, mk, strlen(mk)) == 0)
		mk = NULL;
	if (!mk && !md)
		return NULL;
	return xasprintf("%s%s%s", mk ? mk : "", mk && md ? " " : "",
	    md ? md : "");
}

static char *
v_lens(const cJSON *a)
{
	const char *l = exif_str(a, "lensModel");

	return l ? xstrdup(l) : NULL;
}

static char *
v_exposure(const cJSON *a)
{
	char buf[160] = "", *p = buf;
	const char *et = exif_str(a, "exposureTime");
	double f, iso, fl, e;
	size_t n = sizeof(buf);
	int w;

#define ADD(...) do { w = snprintf(p, n, "%s", p == buf ? "" : " \xc2\xb7 "); \
	p += w; n -= w; w = snprintf(p, n, __VA_ARGS__); \
	if (w > 0 && (size_t)w < n) { p += w; n -= w; } } while (0)
	if (exif_num(a, "fNumber", &f) && f > 0)
		ADD("f/%g", f);
	if (et)
		ADD("%.20s s", et);
	else if (exif_num(a, "exposureTime", &e) && e > 0)
		ADD("%g s", e);
	if (exif_num(a, "iso", &iso) && iso > 0)
		ADD("ISO %g", iso);
	if (exif_num(a, "focalLength", &fl) && fl > 0)
		ADD("%g mm", fl);
#undef ADD
	return buf[0] ? xstrdup(buf) : NULL;
}

static char *
v_description(const cJSON *a)
{
	const cJSON *x = asset_exif(a), *d;

	d = x ? cJSON_GetObjectItemCaseSensitive(x, "description") : NULL;
	if (cJSON_IsString(d) && d->valuestring[strspn(d->valuestring,
	    " \t\r\n")])
		return xstrdup(d->valuestring);
	if (d && !cJSON_IsNull(d) && !cJSON_IsString(d))
		return xstrdup("(not text)");
	return NULL;
}

static char *
v_rating(const cJSON *a)
{
	static const char star[] = "\xe2\x98\x85";
	char buf[32] = "";
	double r;
	int i;

	if (!exif_num(a, "rating", &r) || r == 0)
		return NULL;
	if (r == -1)
		return xstrdup("rejected");
	if (r < 1 || r > 5 || r != floor(r))
		return xasprintf("%g (invalid)", r);
	for (i = 0; i < (int)r; i++)
		strcat(buf, star);
	return xstrdup(buf);
}

static char *
v_flags(const cJSON *a)
{
	const char *vis = asset_str(a, "visibility");
	const cJSON *lib = cJSON_GetObjectItemCaseSensitive(a, "libraryId");
	char buf[200] = "";

#define FLAG(c, s) do { if (c) { if (buf[0]) strcat(buf, ", "); \
	strcat(buf, s); } } while (0)
	FLAG(asset_true(a, "isFavorite"), "favorite");
	FLAG(vis && strcmp(vis, "archive") == 0, "archived");
	FLAG(vis && strcmp(vis, "hidden") == 0, "hidden");
	FLAG(vis && strcmp(vis, "locked") == 0, "locked");
	FLAG(asset_true(a, "isEdited"), "edited");
	FLAG(lib && !cJSON_IsNull(lib), "external library");
	FLAG(asset_str(a, "livePhotoVideoId") != NULL, "live photo");
	FLAG(asset_true(a, "isTrashed"), "in trash");
	FLAG(asset_true(a, "isOffline"), "offline");
#undef FLAG
	return buf[0] ? xstrdup(buf) : NULL;
}

/* Names of a list of objects (key), joined with ", ". */
static char *
names(const cJSON *list, const char *key, const char *key2)
{
	const cJSON *x;
	char *s = NULL, *t;
	const char *n;

	cJSON_ArrayForEach(x, list) {
		if ((n = rec_str(x, key)) == NULL && key2)
			n = rec_str(x, key2);
		if (n == NULL)
			continue;
		t = xasprintf("%s%s%s", s ? s : "", s ? ", " : "", n);
		free(s);
		s = t;
	}
	return s;
}

static char *
v_tags(const cJSON *a)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "tags");

	return cJSON_IsArray(t) ? names(t, "value", "name") : NULL;
}

enum { R_SIZE, R_PIXELS, R_FORMAT, R_LENGTH, R_DATE, R_GPS, R_CAMERA,
    R_LENS, R_EXPOSURE, R_DESC, R_RATING, R_FLAGS, R_TAGS, R_ALBUMS, NROW };
static const char *const row_name[NROW] = { "size", "pixels", "format",
    "length", "date", "location", "camera", "lens", "exposure",
    "description", "rating", "flags", "tags", "albums" };
static char *(*const row_fn[NROW - 1])(const cJSON *) = { v_size, v_pixels,
    v_format, v_length, v_date, v_gps, v_camera, v_lens, v_exposure,
    v_description, v_rating, v_flags, v_tags };

/* ---- the card ---- */

struct group {
	const cJSON	*rec;
	const cJSON	**a;		/* the assets */
	const char	**id;		/* their ids (NULL if none) */
	const char	**name;		/* their file names (or ids) */
	int		 n;
	int		 keep;		/* index of the keeper, -1 if none */
	int		 held;
	const struct page_ctx *ctx;
};

static const char *
name_of(const struct group *g, const char *id)
{
	int i;

	for (i = 0; id && i < g->n; i++)
		if (g->id[i] && strcmp(g->id[i], id) == 0)
			return g->name[i];
	return id ? id : "the group";
}

static int
in_list(const cJSON *list, const char *id)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, list)
		if (cJSON_IsString(x) && id && strcmp(x->valuestring, id) == 0)
			return 1;
	return 0;
}

static const cJSON *
per_asset(const cJSON *rec, const char *key, const char *id)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(rec, key);

	return cJSON_IsObject(o) && id ?
	    cJSON_GetObjectItemCaseSensitive(o, id) : NULL;
}

/* The review codes that concern asset id, as "a, b" (malloc'd) or NULL. */
static char *
own_codes(const struct group *g, const char *id)
{
	const cJSON *r, *rv = cJSON_GetObjectItemCaseSensitive(g->rec,
	    "review");
	const char *c, *a;
	char *s = NULL, *t;

	cJSON_ArrayForEach(r, rv) {
		c = rec_str(r, "code");
		a = rec_str(r, "asset");
		if (!c || !a || !id || strcmp(a, id) != 0)
			continue;
		t = xasprintf("%s%s%s", s ? s : "", s ? ", " : "", c);
		free(s);
		s = t;
	}
	return s;
}

/* What happens (or happened) to asset i: class letter, and the text. */
static void
fate(FILE *fp, const struct group *g, int i)
{
	const cJSON *t = per_asset(g->rec, "trashed", g->id[i]);
	const cJSON *v = per_asset(g->rec, "verified", g->id[i]);
	const cJSON *b = per_asset(g->rec, "backup", g->id[i]);
	const cJSON *trash = cJSON_GetObjectItemCaseSensitive(g->rec, "trash");
	const char *held;
	char *codes;

	if (i == g->keep) {
		fputs("<p class=\"f\">keep</p>", fp);
		return;
	}
	if (cJSON_IsObject(t)) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "ok")))
			fprintf(fp, "<p class=\"f\">%s</p>", asset_true(t,
			    "alreadyTrashed") ? "was already in the trash" :
			    asset_true(t, "dryRun") ? "would be trashed "
			    "(dry run)" : "trashed");
		else {
			held = rec_str(t, "held");
			fputs("<p class=\"f\">held back: ", fp);
			html_esc(fp, held ? held : "not trashed");
			if (rec_str(t, "detail")) {
				fputs(" \xe2\x80\x94 ", fp);
				html_esc(fp, rec_str(t, "detail"));
			}
			fputs("</p>", fp);
		}
		return;
	}
	if (!in_list(trash, g->id[i])) {
		fputs("<p class=\"f\">not in the plan</p>", fp);
		return;
	}
	if (g->held) {
		codes = own_codes(g, g->id[i]);
		fputs("<p class=\"f\">held for review", fp);
		if (codes) {
			fputs(": ", fp);
			html_esc(fp, codes);
		}
		fputs("</p>", fp);
		free(codes);
	} else
		fprintf(fp, "<p class=\"f\">will be trashed%s</p>",
		    cJSON_IsObject(v) && asset_true(v, "ok") ?
		    " (backup verified)" : cJSON_IsObject(b) ?
		    " (backed up)" : "");
}

static char
fate_class(const struct group *g, int i)
{
	const cJSON *t = per_asset(g->rec, "trashed", g->id[i]);

	if (i == g->keep)
		return 'k';
	if (cJSON_IsObject(t))
		return asset_true(t, "ok") ? 'x' : 'h';
	if (!in_list(cJSON_GetObjectItemCaseSensitive(g->rec, "trash"),
	    g->id[i]))
		return 'o';
	return g->held ? 'h' : 'x';
}

static void
thumb(FILE *fp, const struct group *g, int i)
{
	const cJSON *a = g->a[i];
	const char *type = asset_str(a, "type");
	double ms;
	char *c;

	fputs("<div class=\"t\">", fp);
	if (g->id[i] && valid_uuid(g->id[i]) && g->ctx->has_thumb &&
	    g->ctx->has_thumb(g->ctx->arg, g->id[i])) {
		/* src is set by the script when the card comes near the
		 * screen: thousands of <img src> make the page slow to open,
		 * lazy or not. */
		fputs("<img alt=\"\" data-src=\"thumbs/", fp);
		html_esc(fp, g->id[i]);
		fputs(".jpg\">", fp);
	} else
		fputs("<span class=\"no\">no thumbnail</span>", fp);
	if (type && strcmp(type, "VIDEO") == 0) {
		c = asset_duration(a, &ms) ? clock_text(ms) : NULL;
		fprintf(fp, "<span class=\"b v\">\xe2\x96\xb6 %s</span>",
		    c ? c : "video");
		free(c);
	}
	if (asset_str(a, "livePhotoVideoId"))
		fputs("<span class=\"b l\">LIVE</span>", fp);
	if (asset_true(a, "isTrashed"))
		fputs("<span class=\"b r\">in trash</span>", fp);
	fputs("</div>", fp);
}

/* "d": differs from the keeper's value, "m": the keeper has none. */
static const char *
cell_class(const struct group *g, char *const *v, int i, int r)
{
	const char *kv, *x = v[i * NROW + r];

	if (i == g->keep || g->keep < 0)
		return "";
	kv = v[g->keep * NROW + r];
	if (x && !kv)
		return "m";
	return strcmp(x ? x : "", kv ? kv : "") ? "d" : "";
}

/* One line of the value column: newlines and tabs as spaces, "-" for
 * none, marked when it differs from the keeper's. */
static void
cell(FILE *fp, const struct group *g, char *const *v, int i, int r,
    int first)
{
	const char *c = cell_class(g, v, i, r), *x = v[i * NROW + r];
	char *t, *p;

	if (!first)
		putc('\n', fp);
	if (*c)
		fprintf(fp, "<mark%s>", *c == 'm' ? " class=\"z\"" : "");
	if (x == NULL || *x == '\0')
		fputs("\xe2\x80\x94", fp);
	else {
		t = xstrdup(x);
		for (p = t; *p; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		html_esc(fp, t);
		free(t);
	}
	if (*c)
		fputs("</mark>", fp);
}

/* The asset's metadata: a column of labels and a column of values, one
 * line each, as two text blocks rather than an element per value (a
 * page of 10,000 groups opens much faster with fewer elements).  Long
 * values are cut with an ellipsis and shown whole on hover. */
static void
meta(FILE *fp, const struct group *g, char *const *v, const int *has, int i)
{
	char *tip = NULL, *t;
	const char *x;
	int r, first = 1;

	fputs("<div class=\"m\"><div>", fp);
	for (r = 0; r < NROW; r++)
		if (has[r]) {
			fprintf(fp, "%s%s", first ? "" : "\n", row_name[r]);
			first = 0;
		}
	fputs("</div><div", fp);
	for (r = 0; r < NROW; r++) {
		x = v[i * NROW + r];
		if (!has[r] || x == NULL || strlen(x) <= 30)
			continue;
		t = xasprintf("%s%s%s: %s", tip ? tip : "", tip ? "\n" : "",
		    row_name[r], x);
		free(tip);
		tip = t;
	}
	if (tip) {
		fputs(" title=\"", fp);
		html_esc(fp, tip);
		fputs("\"", fp);
		free(tip);
	}
	fputs(">", fp);
	for (r = 0, first = 1; r < NROW; r++)
		if (has[r]) {
			cell(fp, g, v, i, r, first);
			first = 0;
		}
	fputs("</div></div>", fp);
}

/* One figure per asset: thumbnail, fate, name, and every metadata row
 * that some asset of the group has. */
static void
figures(FILE *fp, const struct group *g)
{
	char **v = xcalloc((size_t)(g->n ? g->n : 1) * NROW, sizeof(*v));
	const cJSON *al;
	int has[NROW] = { 0 }, i, r;

	for (i = 0; i < g->n; i++) {
		for (r = 0; r < NROW - 1; r++)
			v[i * NROW + r] = row_fn[r](g->a[i]);
		al = g->ctx->albums && g->id[i] ?
		    g->ctx->albums(g->ctx->arg, g->id[i]) : NULL;
		if (al)
			v[i * NROW + R_ALBUMS] = names(al, "albumName", NULL);
		for (r = 0; r < NROW; r++)
			has[r] |= v[i * NROW + r] != NULL;
	}
	fputs("<div class=\"as\">", fp);
	for (i = 0; i < g->n; i++) {
		fprintf(fp, "\n<figure class=\"a %c\">", fate_class(g, i));
		thumb(fp, g, i);
		fate(fp, g, i);
		fputs("<p class=\"n\"", fp);
		if (strlen(g->name[i]) > 28) {
			fputs(" title=\"", fp);
			html_esc(fp, g->name[i]);
			fputs("\"", fp);
		}
		fputs(">", fp);
		html_esc(fp, g->name[i]);
		fputs("</p>", fp);
		meta(fp, g, v, has, i);
		fputs("</figure>", fp);
	}
	fputs("</div>\n", fp);
	for (i = 0; i < g->n * NROW; i++)
		free(v[i]);
	free(v);
}

static void
change_text(FILE *fp, const struct group *g, const cJSON *c)
{
	const char *f = rec_str(c, "field"), *from = rec_str(c, "from");
	const char *name = rec_str(c, "name");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "value");
	const cJSON *la, *lo;
	char *s;

	if (f == NULL)
		f = "?";
	if (strcmp(f, "gps") == 0) {
		la = cJSON_GetObjectItemCaseSensitive(v, "latitude");
		lo = cJSON_GetObjectItemCaseSensitive(v, "longitude");
		html_escf(fp, "location %.5f, %.5f", cJSON_IsNumber(la) ?
		    la->valuedouble : NAN, cJSON_IsNumber(lo) ?
		    lo->valuedouble : NAN);
	} else if (strcmp(f, "dateTimeOriginal") == 0 && cJSON_IsString(v))
		html_escf(fp, "capture time %s", v->valuestring);
	else if (strcmp(f, "description") == 0 && cJSON_IsString(v))
		html_escf(fp, "description \xe2\x80\x9c%s\xe2\x80\x9d",
		    v->valuestring);
	else if (strcmp(f, "isFavorite") == 0)
		fputs("favorite", fp);
	else if ((strcmp(f, "tag") == 0 || strcmp(f, "album") == 0) &&
	    (name || cJSON_IsString(v)))
		html_escf(fp, "%s %s", f, name ? name : v->valuestring);
	else {
		s = v ? cJSON_PrintUnformatted(v) : NULL;
		html_escf(fp, "%s %s", f, s ? s : "");
		free(s);
	}
	if (from) {
		fputs(" <i>(from ", fp);
		html_esc(fp, name_of(g, from));
		fputs(")</i>", fp);
	}
}

static void
change_list(FILE *fp, const struct group *g, const char *title,
    const cJSON *changes, const cJSON *notmoved)
{
	const cJSON *c;
	const char *r;

	fputs("<div class=\"mv\"><b>", fp);
	html_esc(fp, title);
	if (cJSON_GetArraySize(changes) == 0)
		fputs(":</b> nothing", fp);
	else {
		fputs(":</b><ul>", fp);
		cJSON_ArrayForEach(c, changes) {
			fputs("<li>", fp);
			change_text(fp, g, c);
			fputs("</li>", fp);
		}
		fputs("</ul>", fp);
	}
	if (cJSON_GetArraySize(notmoved) > 0) {
		fputs("<b>Left on the losers:</b><ul>", fp);
		cJSON_ArrayForEach(c, notmoved) {
			r = rec_str(c, "reason");
			fputs("<li>", fp);
			html_escf(fp, "%s of %s", rec_str(c, "field") ?
			    rec_str(c, "field") : "?", name_of(g,
			    rec_str(c, "from")));
			if (r) {
				fputs(": ", fp);
				html_esc(fp, r);
			}
			fputs("</li>", fp);
		}
		fputs("</ul>", fp);
	}
	fputs("</div>\n", fp);
}

/* What consolidation did (the record's "consolidated"), or what it will
 * do by the rules of immich-consolidate (merge.h) on the plan's copy of
 * the assets; albums only when they were fetched (-a). */
static void
moves(FILE *fp, const struct group *g)
{
	const cJSON *con = cJSON_GetObjectItemCaseSensitive(g->rec,
	    "consolidated"), *trash;
	const cJSON **al = NULL;
	struct merge_in in;
	cJSON *changes, *notmoved;
	const char *skip;
	int i, known = g->ctx->albums != NULL;

	if (cJSON_IsObject(con)) {
		skip = rec_str(con, "skipped");
		if (skip) {
			fputs("<div class=\"mv\"><b>Consolidation skipped:</b> ",
			    fp);
			html_esc(fp, skip);
			fputs("</div>\n", fp);
			return;
		}
		change_list(fp, g, asset_true(con, "dryRun") ?
		    "Consolidation would copy onto the keeper (dry run)" :
		    asset_true(con, "confirmed") ? "Consolidation copied onto "
		    "the keeper (confirmed)" : "Consolidation copied onto the "
		    "keeper (NOT confirmed)", cJSON_GetObjectItemCaseSensitive(
		    con, "changes"), cJSON_GetObjectItemCaseSensitive(con,
		    "notMoved"));
		return;
	}
	if (g->keep < 0)
		return;
	memset(&in, 0, sizeof(in));
	in.keeper = g->a[g->keep];
	in.losers = xcalloc(g->n, sizeof(*in.losers));
	al = xcalloc(g->n, sizeof(*al));
	trash = cJSON_GetObjectItemCaseSensitive(g->rec, "trash");
	if (known && (in.keeper_albums = g->ctx->albums(g->ctx->arg,
	    g->id[g->keep])) == NULL)
		known = 0;
	for (i = 0; i < g->n; i++) {
		if (i == g->keep || !in_list(trash, g->id[i]))
			continue;
		if (known && (al[in.nlosers] = g->ctx->albums(g->ctx->arg,
		    g->id[i])) == NULL)
			known = 0;
		in.losers[in.nlosers++] = g->a[i];
	}
	if (known)
		in.loser_albums = al;
	else
		in.keeper_albums = NULL;
	notmoved = cJSON_CreateArray();
	changes = merge_plan(&in, notmoved);
	change_list(fp, g, g->held ? "Once reviewed, consolidation would "
	    "copy onto the keeper" : "Consolidation will copy onto the keeper",
	    changes, notmoved);
	cJSON_Delete(changes);
	cJSON_Delete(notmoved);
	free(in.losers);
	free(al);
}

static void
reasons(FILE *fp, const struct group *g)
{
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(g->rec, "review");
	const cJSON *r;
	const char *c, *a, *d;

	if (!g->held || (cJSON_IsArray(rv) && cJSON_GetArraySize(rv) == 0))
		return;
	fputs("<ul class=\"rv\">", fp);
	if (!cJSON_IsArray(rv))
		fputs("<li><b>?</b> the review list is not a list</li>", fp);
	if (!cJSON_IsArray(rv))
		rv = NULL;
	cJSON_ArrayForEach(r, rv) {
		c = rec_str(r, "code");
		a = rec_str(r, "asset");
		d = rec_str(r, "detail");
		fputs("<li><b>", fp);
		html_esc(fp, c ? c : "?");
		fputs("</b> ", fp);
		html_esc(fp, a ? name_of(g, a) : "group");
		if (d) {
			fputs(": ", fp);
			html_esc(fp, d);
		}
		fputs("</li>", fp);
	}
	fputs("</ul>\n", fp);
}

static void
errors(FILE *fp, const struct group *g)
{
	const cJSON *e, *l = cJSON_GetObjectItemCaseSensitive(g->rec,
	    "errors");
	const char *a;

	if (cJSON_GetArraySize(l) == 0)
		return;
	fputs("<ul class=\"er\">", fp);
	cJSON_ArrayForEach(e, l) {
		a = rec_str(e, "asset");
		fputs("<li>", fp);
		html_escf(fp, "%s: %s%s%s", rec_str(e, "stage") ?
		    rec_str(e, "stage") : "?", a ? name_of(g, a) : "",
		    a ? ": " : "", rec_str(e, "message") ?
		    rec_str(e, "message") : "");
		fputs("</li>", fp);
	}
	fputs("</ul>\n", fp);
}

/* The data attributes the page's script filters on. */
static void
card_attrs(FILE *fp, const struct group *g, int err)
{
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(g->rec, "review");
	const cJSON *r;
	const char *c;
	char *codes = xstrdup(" "), *t, *pat;
	int i;

	if (!cJSON_IsArray(rv))
		rv = NULL;
	cJSON_ArrayForEach(r, rv) {
		if ((c = rec_str(r, "code")) == NULL)
			continue;
		pat = xasprintf(" %s ", c);
		if (strstr(codes, pat) == NULL) {
			t = xasprintf("%s%s ", codes, c);
			free(codes);
			codes = t;
		}
		free(pat);
	}
	fprintf(fp, " data-s=\"%s\" data-c=\"", g->held ? "held" : "auto");
	html_esc(fp, codes);
	fputs("\" data-n=\"", fp);
	for (i = 0; i < g->n; i++) {
		if (i)
			fputs("\n", fp);
		html_esc(fp, g->name[i]);
	}
	fprintf(fp, "\"%s>", err ? " data-e=\"1\"" : "");
	free(codes);
}

void
page_card(FILE *fp, const cJSON *rec, const struct page_ctx *ctx,
    struct page_stats *st)
{
	const cJSON *assets = cJSON_GetObjectItemCaseSensitive(rec, "assets");
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(rec, "review"), *x;
	const char *keep = rec_str(rec, "keep"), *why = rec_str(rec, "why");
	const char *did = rec_str(rec, "duplicateId");
	struct group g;
	int err, cap;

	memset(&g, 0, sizeof(g));
	g.rec = rec;
	g.ctx = ctx;
	g.keep = -1;
	cap = cJSON_IsArray(assets) ? cJSON_GetArraySize(assets) : 0;
	g.a = xcalloc(cap + 1, sizeof(*g.a));
	g.id = xcalloc(cap + 1, sizeof(*g.id));
	g.name = xcalloc(cap + 1, sizeof(*g.name));
	if (!cJSON_IsArray(assets))
		assets = NULL;
	cJSON_ArrayForEach(x, assets) {
		if (!cJSON_IsObject(x) || g.n >= cap)
			continue;
		g.a[g.n] = x;
		g.id[g.n] = rec_str(x, "id");
		g.name[g.n] = rec_str(x, "originalFileName");
		if (g.name[g.n] == NULL)
			g.name[g.n] = g.id[g.n] ? g.id[g.n] : "(no id)";
		if (keep && g.id[g.n] && strcmp(keep, g.id[g.n]) == 0 &&
		    g.keep < 0)
			g.keep = g.n;
		g.n++;
	}
	g.held = (cJSON_IsArray(rv) && cJSON_GetArraySize(rv) > 0) ||
	    (rv && !cJSON_IsNull(rv) && !cJSON_IsArray(rv)) || g.keep < 0;
	err = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rec,
	    "errors")) > 0;

	/* Cards come in sections of 100, each skipped as a whole by
	 * layout while the page loads (the parser lays out the document
	 * again and again as it grows): a 10,000-card page then opens in
	 * about half the time.  The script lifts it at the end. */
	if (st->groups % 100 == 0)
		fputs(st->groups ? "</section>\n<section class=\"sc\">\n" :
		    "<section class=\"sc\">\n", fp);
	fprintf(fp, "<article class=\"g%s\" id=\"g-", g.held ? " h" : "");
	html_esc(fp, did ? did : "none");
	fputs("\"", fp);
	card_attrs(fp, &g, err);
	fprintf(fp, "<h2><span class=\"st\">%s</span> \xc2\xb7 %d asset%s",
	    g.held ? "held for review" : "automatic", g.n, g.n == 1 ? "" : "s");
	if (g.keep >= 0 && why) {
		fputs(" \xc2\xb7 keeper chosen by <b>", fp);
		html_esc(fp, why);
		fputs("</b>", fp);
	} else if (g.keep < 0)
		fputs(" \xc2\xb7 <b>no keeper</b>", fp);
	fputs(" \xc2\xb7 <span class=\"gid\">", fp);
	html_esc(fp, did ? did : "no duplicateId");
	fputs("</span></h2>\n", fp);
	reasons(fp, &g);
	figures(fp, &g);
	moves(fp, &g);
	errors(fp, &g);
	fputs("</article>\n", fp);

	st->groups++;
	st->held += g.held;
	st->assets += g.n;
	st->errors += err;
	free(g.a);
	free(g.id);
	free(g.name);
}
