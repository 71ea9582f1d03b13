/* SPDX-License-Identifier: ISC */
#include <err.h>
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

#define CHUNK	100	/* groups in each of the page's data elements */

/* The metadata rows of a card, in order. */
enum { R_SIZE, R_PIXELS, R_FORMAT, R_LENGTH, R_DATE, R_GPS, R_CAMERA,
    R_LENS, R_EXPOSURE, R_DESC, R_RATING, R_FLAGS, R_TAGS, R_ALBUMS, NROW };
static const char *const row_name[NROW] = { "size", "pixels", "format",
    "length", "date", "location", "camera", "lens", "exposure",
    "description", "rating", "flags", "tags", "albums" };

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
"#pg button{font:inherit;padding:1px 8px}#pg span{margin:0 6px}"
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
".er{color:var(--x)}"
/* Decisions: the current card, the chosen keeper, the answer. */
".g{scroll-margin-top:56px}.g.cur{outline:2px solid var(--fg);"
"outline-offset:2px}.g[data-d]{border-left-color:#2563eb}"
".dc{display:flex;flex-wrap:wrap;gap:4px 6px;align-items:center;"
"margin:0 0 8px}.dc button,#ex{font:inherit;padding:1px 8px}"
".dd{color:var(--mut)}.g[data-d] .dd{color:#2563eb;font-weight:600}"
"kbd{font:11px monospace;border:1px solid var(--ln);border-radius:3px;"
"padding:0 3px;color:var(--mut)}.a{cursor:pointer}"
".a.ck{outline:3px solid #2563eb;outline-offset:1px}"
".g[data-d=resolve] .a:not(.ck){opacity:.45}";

/*
 * The page's script, run before the data: the data comes after it in
 * chunks of CHUNK groups, each a <script type="application/json"> (one
 * entry per group, see page_card) followed by <script>review_more()
 * </script>, which takes the chunk in; the last call follows an empty
 * chunk with id "end".  So the first cards are on screen, and the filter
 * and the search work, while the browser is still reading the rest of a
 * large page.  It shows the cards that pass the filter and the search,
 * 100 to a page, built with the DOM's own methods: every string from a
 * record becomes a text node or an attribute value, never markup.
 */
static const char js[] =
"(function(){"
"var $=function(i){return document.getElementById(i)},D=[],NM=[],"
"ROWS=JSON.parse($('rows').textContent),"
"LEN=ROWS.indexOf('length'),PER=100,m=$('m'),f=$('f'),q=$('q'),cnt=$('cnt'),pg=$('pg'),pv=$('pv'),"
"nx=$('nx'),pn=$('pn'),codes=Object.create(null),held=0,er=0,sel=[],at=0,"
"shown=0,fv='',sv='',want='',done=0,ready=0,upd=0,tm,i,"
/* Decisions (immich-decide(1)): CH[k] = {a: action, k: keeper id} for
 * group D[k]; cur: the current group, a place in sel; CE: the cards on
 * screen by group. */
"CH=[],ndec=0,cur=0,CE={},LS=null,ex=$('ex'),"
"ACT={r:'resolve',s:'stack',a:'dismiss',x:'skip'};"
/* A choice is kept in the browser's storage under the fingerprint of its
 * group (d.x: duplicateId, members and checksums, review codes), not of
 * the page: it outlives a reload, a moved file and a page made again of
 * the same groups, and never shows on a group that changed since. */
"try{LS=window.localStorage;LS.getItem('immich-dedupe')}catch(e){LS=null}"
"function aid(a){return a.i||a.u||null}"
"function kix(g,id){for(var i=0;id!=null&&i<g.a.length;i++)"
"if(aid(g.a[i])==id)return i;return -1}"
"function codesOf(g){return g.c.split(' ').filter(function(c){return c})}"
"function save(k){var d=D[k];if(!LS||!d.x)return;try{if(CH[k])"
"LS.setItem('immich-dedupe:'+d.x,JSON.stringify(CH[k]));"
"else LS.removeItem('immich-dedupe:'+d.x)}catch(e){}}"
"function load(d,k){var v;if(!LS||!d.x)return;try{"
"v=JSON.parse(LS.getItem('immich-dedupe:'+d.x))}catch(e){v=null}"
"if(v&&/^(resolve|stack|dismiss|skip)$/.test(v.a)&&(v.k==null||"
"kix(d,v.k)>=0)){CH[k]={a:v.a,k:v.k==null?null:v.k};ndec++}}"
/* el(tag, class, children): children are strings, elements, null or
 * arrays of them. */
"function add(e,k){if(Array.isArray(k))k.forEach(function(x){add(e,x)});"
"else if(k!=null)e.appendChild(typeof k=='string'?"
"document.createTextNode(k):k);return e}"
"function el(t,c,k){var e=document.createElement(t);if(c)e.className=c;"
"return add(e,k)}"
/* A value of asset a: 0 means the keeper's. */
"function val(g,a,r){var x=a.v[r];return x===0?g.a[g.k].v[r]:"
"x==null?null:x}"
"function thumb(g,a){var t=el('div','t'),i;"
"if(a.i){i=el('img');i.alt='';"
"i.setAttribute('data-src','thumbs/'+a.i+'.jpg');add(t,i)}"
"else add(t,el('span','no','no thumbnail'));"
"if(a.b&1)add(t,el('span','b v','\u25b6 '+(val(g,a,LEN)||'video')));"
"if(a.b&2)add(t,el('span','b l','LIVE'));"
"if(a.b&4)add(t,el('span','b r','in trash'));return t}"
/* The metadata rows some asset of the group has, as two columns of
 * lines; a value is shown on one line, marked z when the keeper has
 * none, else marked when it differs from the keeper's (as it is: a
 * newline where the keeper has a space is a difference). */
"function meta(g,a,ai,has){var l=el('div'),v=el('div'),tip=[],r,x,kv,t,c;"
"for(r=0;r<ROWS.length;r++){if(!has[r])continue;"
"if(l.firstChild){add(l,'\\n');add(v,'\\n')}add(l,ROWS[r]);"
"x=val(g,a,r);kv=g.k<0?null:val(g,g.a[g.k],r);"
"if(x!=null&&x.length>30)tip.push(ROWS[r]+': '+x);"
"t=x==null||x==''?'\u2014':x.replace(/[\\n\\r\\t]/g,' ');"
"c=ai==g.k||g.k<0?'':x!=null&&kv==null?'z':"
"(x==null?'':x)!=(kv==null?'':kv)?'d':'';"
"add(v,c?el('mark',c=='z'?'z':null,t):t)}"
"if(tip.length)v.title=tip.join('\\n');"
"return el('div','m',[l,v])}"
"function fig(g,a,ai,has){var n=el('p','n',a.n);"
"if(a.n.length>28)n.title=a.n;"
"return el('figure','a '+a.f,[thumb(g,a),el('p','f',[ai<10?[el('kbd',null,"
"String((ai+1)%10)),' ']:null,a.f=='k'?'keep':a.ft]),"
"n,meta(g,a,ai,has)])}"
"function moves(x){var d=el('div','mv');if(x.skip!=null)"
"return add(d,[el('b',null,'Consolidation skipped:'),' '+x.skip]);"
"add(d,el('b',null,x.t+':'));if(!x.ch.length)add(d,' nothing');"
"else add(d,el('ul',null,x.ch.map(function(c){return el('li',null,"
"[c[0],c[1]==null?null:[' ',el('i',null,'(from '+c[1]+')')]])})));"
"if(x.nm)add(d,[el('b',null,'Left on the losers:'),el('ul',null,"
"x.nm.map(function(t){return el('li',null,t)}))]);return d}"
"function card(g){var n=g.a.length,has=[],c;"
"g.a.forEach(function(a){a.v.forEach(function(x,r){if(x!=null)has[r]=1})});"
"c=el('article','g'+(g.s=='held'?' h':''),["
"el('h2',null,[el('span','st',g.s=='held'?'held for review':'automatic'),"
"' \u00b7 '+n+' asset'+(n==1?'':'s'),g.k>=0&&g.w!=null?"
"[' \u00b7 keeper chosen by ',el('b',null,g.w)]:g.k<0?"
"[' \u00b7 ',el('b',null,'no keeper')]:null,' \u00b7 ',"
"el('span','gid',g.d==null?'no duplicateId':g.d)]),"
"el('div','dc',[['r','resolve'],['s','stack'],['a','keep all'],"
"['x','skip'],['u','undo']].map(function(b){var e=el('button',null,"
"[b[1]+' ',el('kbd',null,b[0])]);e.setAttribute('data-key',b[0]);"
"e.disabled=g.d==null;return e}).concat(el('span','dd'))),"
"g.r?el('ul','rv',g.r.map(function(r){return el('li',null,"
"[el('b',null,r[0]),' '+r[1]+(r[2]==null?'':': '+r[2])])})):null,"
"el('div','as',g.a.map(function(a,ai){return fig(g,a,ai,has)})),"
"g.m?moves(g.m):null,g.e?el('ul','er',g.e.map(function(t){"
"return el('li',null,t)})):null]);"
"c.id=gid(g);return c}"
/* The card's answer: its text, the chosen keeper outlined. */
"function paint(k){var c=CE[k],g=D[k],ch=CH[k],f,s,ki,t,cs,i;if(!c)return;"
"f=c.querySelectorAll('figure');s=c.querySelector('.dd');"
"ki=ch?kix(g,ch.k):-1;cs=codesOf(g);"
"if(ch)c.setAttribute('data-d',ch.a);else c.removeAttribute('data-d');"
"for(i=0;i<f.length;i++)f[i].classList.toggle('ck',i==ki);"
"t=!ch?(g.d==null?'no duplicateId: cannot be decided here':"
"'not decided yet'):ch.a=='skip'?'decided: skip':ch.a=='dismiss'?"
"'decided: keep all (not duplicates)':'decided: '+(ch.a=='stack'?"
"'stack under ':'resolve, keep ')+(ki>=0?g.a[ki].n:'?')+"
"(ch.a=='stack'?'':', trash the rest')+(cs.length?' despite '+"
"cs.join(', '):'');if(ch&&ki>=0&&ki!=g.k&&/^(resolve|stack)$/.test(ch.a))"
"t+=' (not the plan\u2019s keeper: immich-decide reviews the group "
"again for it)';s.textContent=t}"
"function counts(){opts();ex.textContent='export decisions ('+ndec+')'}"
/* Choose: an answer (null: keep the answer, resolve if none) and a
 * keeper (the asset's place; null: as it was); 1 when chosen. */
"function choose(k,a,ki){var g=D[k],c=CH[k],id;if(g.d==null)return 0;"
"id=ki!=null?aid(g.a[ki]):c&&c.k!=null?c.k:g.k>=0?aid(g.a[g.k]):null;"
"if(a==null)a=c&&/^(resolve|stack)$/.test(c.a)?c.a:'resolve';"
"if(id==null&&/^(resolve|stack)$/.test(a)){if(CE[k])"
"CE[k].querySelector('.dd').textContent='pick the keeper first: "
"click a photo or press its number';return 0}"
"if(!c)ndec++;CH[k]={a:a,k:id};save(k);paint(k);counts();return 1}"
"function undo(k){if(!CH[k])return 0;CH[k]=null;ndec--;save(k);"
"paint(k);counts();return 1}"
"function gid(g){return 'g-'+(g.d==null?'none':g.d)}"
/* The filter's choices, with counts so far. */
"function opt(v,t){var o=el('option',null,t);o.value=v;add(f,o)}"
"function opts(){var l=done?'':'\u2026';"
"if(!done&&document.activeElement==f)return;f.textContent='';"
"opt('','all groups ('+D.length+l+')');"
"opt('held','held for review ('+held+l+')');"
"opt('auto','resolved automatically ('+(D.length-held)+l+')');"
"if(er)opt('err','with errors ('+er+l+')');"
"opt('und','not decided yet ('+(D.length-ndec)+l+')');"
"opt('dec','decided ('+ndec+l+')');"
"Object.keys(codes).sort().forEach(function(k){"
"opt('c:'+k,'review: '+k+' ('+codes[k]+l+')')});f.value=fv;"
"if(f.selectedIndex<0){opt(fv,fv.replace(/^c:/,'review: ')+' (0'+l+')');"
"f.value=fv}}"
"function match(d,k){return(!fv||(fv=='held'?d.s=='held':"
"fv=='dec'?!!CH[k]:fv=='und'?!CH[k]:"
"fv=='auto'?d.s=='auto':fv=='err'?!!d.e:"
"d.c.indexOf(' '+fv.slice(2)+' ')>=0))&&(!sv||NM[k].indexOf(sv)>=0)}"
/* Thumbnails load when their card comes near the screen. */
"document.addEventListener('error',function(e){var i=e.target,t;"
"if(i.tagName=='IMG'){t=i.parentNode;t.classList.add('bad');"
"t.replaceChild(document.createTextNode('thumbnail unreadable'),i)}},true);"
"function show(c){[].forEach.call(c.querySelectorAll('img[data-src]'),"
"function(i){i.src=i.getAttribute('data-src');"
"i.removeAttribute('data-src')})}"
"var io=window.IntersectionObserver&&new IntersectionObserver("
"function(es){es.forEach(function(e){if(e.isIntersecting){"
"show(e.target);io.unobserve(e.target)}})},{rootMargin:'1000px 0px'});"
/* The cards of the page that are not on screen yet, and the counts. */
"function fill(){var np=Math.ceil(sel.length/PER)||1,a=at*PER,"
"b=Math.min(sel.length,a+PER),c;"
"for(i=a+shown;i<b;i++,shown++){c=m.appendChild(card(D[sel[i]]));"
"CE[sel[i]]=c;c._k=sel[i];paint(sel[i]);if(i==cur)c.classList.add('cur');"
"if(io)io.observe(c);else show(c)}"
"cnt.textContent=(b>a?(a+1)+'\u2013'+b+' of ':'')+sel.length+"
"' groups shown'+(sel.length<D.length?' (of '+D.length+')':'')+"
"(done?'':' \u2014 reading the page\u2026');"
"pn.textContent='page '+(at+1)+' of '+np+(done?'':'\u2026');"
"pg.hidden=np<2;pv.disabled=at<1;nx.disabled=at>=np-1}"
"function render(){if(io)io.disconnect();m.textContent='';shown=0;CE={};"
"if(cur<at*PER||cur>=at*PER+PER)cur=at*PER;fill()}"
/* The current group: p, a place in sel; its page opened. */
"function setcur(p,scroll){var c;if(p<0||p>=sel.length)return;"
"if((c=CE[sel[cur]]))c.classList.remove('cur');cur=p;"
"if(Math.floor(p/PER)!=at){at=Math.floor(p/PER);render();"
"window.scrollTo(0,0)}if((c=CE[sel[cur]])){c.classList.add('cur');"
"if(scroll)c.scrollIntoView({block:'start'})}}"
/* Clicks: an answer's button; a photo picks the keeper. */
"m.addEventListener('click',function(e){var t=e.target,c=t.closest&&"
"t.closest('article'),b,fi,k;if(!c||c._k==null)return;k=c._k;"
"setcur(sel.indexOf(k),0);if((b=t.closest('button[data-key]'))){"
"if(b.getAttribute('data-key')=='u')undo(k);"
"else choose(k,ACT[b.getAttribute('data-key')])}"
"else if((fi=t.closest('figure')))choose(k,null,"
"[].indexOf.call(c.querySelectorAll('figure'),fi))});"
/* Keys: j/k (or arrows) next/previous group; 1-9, 0 the keeper; r s a
 * x an answer, then the next group; u (or backspace) undo (this group's
 * answer, else the previous group's); Escape leaves the search or the
 * filter for the keys. */
"document.addEventListener('keydown',function(e){var t=e.target,k,n;"
"if(t&&/^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName)){if(e.key=='Escape')"
"t.blur();return}if(e.ctrlKey||e.metaKey||e.altKey||!sel.length)return;"
"if(cur>=sel.length)cur=0;k=sel[cur];"
"if(e.key=='j'||e.key=='ArrowDown')setcur(cur+1,1);"
"else if(e.key=='k'||e.key=='ArrowUp')setcur(cur-1,1);"
"else if(/^[0-9]$/.test(e.key)){n=(+e.key+9)%10;"
"if(n<D[k].a.length)choose(k,null,n)}"
"else if(ACT[e.key]){if(choose(k,ACT[e.key]))setcur(cur+1,1)}"
"else if(e.key=='u'||e.key=='Backspace'){if(!undo(k)&&cur>0&&"
"CH[sel[cur-1]]){setcur(cur-1,1);undo(sel[cur])}}else return;"
"e.preventDefault()});"
/* Export: decisions.ndjson, one line per group decided (immich-ndjson(5)),
 * a download of a Blob made here: nothing leaves the machine. */
"ex.onclick=function(){var l=[],k,g,c,u,a;if(!done)return;"
"for(k=0;k<D.length;k++)if((c=CH[k])&&(g=D[k]).d!=null)"
"l.push(JSON.stringify({duplicateId:g.d,action:c.a,keep:c.k,"
"accept:codesOf(g),assets:g.a.map(function(a){return{id:aid(a),"
"checksum:a.h==null?null:a.h}})})+'\\n');"
"u=URL.createObjectURL(new Blob(l,{type:'application/x-ndjson'}));"
"a=el('a');a.href=u;a.download='decisions.ndjson';"
"document.body.appendChild(a);a.click();a.remove();"
"setTimeout(function(){URL.revokeObjectURL(u)},60000)};"
"function apply(){sel=[];for(i=0;i<D.length;i++)if(match(D[i],i))"
"sel.push(i);at=cur=0;render()}"
"function go(p){at=p;render();window.scrollTo(0,0)}"
"pv.onclick=function(){go(at-1)};nx.onclick=function(){go(at+1)};"
/* The address keeps the search, else the filter. */
"function url(){try{history.replaceState(null,'',sv?'#q='+"
"encodeURIComponent(q.value.trim()):fv?'#'+encodeURIComponent(fv):"
"location.pathname)}catch(e){}}"
"f.onchange=function(){fv=f.value;apply();url()};"
"q.oninput=function(){clearTimeout(tm);tm=setTimeout(function(){"
"sv=q.value.trim().toLowerCase();apply();url()},150)};"
/* The address: #held, #auto, #err, #c:CODE a filter; #q=TEXT a search;
 * #g-ID a group, whose page is opened once it has been read (seek). */
"function addr(){var h;try{h=decodeURIComponent(location.hash.slice(1))}"
"catch(e){h=''}fv=sv=want='';q.value='';"
"if(h.indexOf('q=')==0)sv=(q.value=h.slice(2)).trim().toLowerCase();"
"else if(h.indexOf('g-')==0)want=h;"
"else if(/^(held|auto|err|dec|und|c:.+)$/.test(h))fv=h}"
"function seek(){var w=want,c;if(!w)return;"
"for(i=0;i<sel.length&&gid(D[sel[i]])!=w;i++);"
"if(i<sel.length){want='';go(Math.floor(i/PER));"
"if((c=$(w))!=null)c.scrollIntoView()}}"
"addr();window.onhashchange=function(){addr();opts();apply();seek()};"
"window.review_more=function(){var e=document.currentScript"
".previousElementSibling,de=document.documentElement,p,k;"
"if(e.id=='end')done=1;else{JSON.parse(e.textContent).forEach("
"function(d){k=D.push(d)-1;load(d,k);NM.push(d.a.map(function(a){return a.n})"
".join('\\n').toLowerCase());if(d.s=='held')held++;if(d.e)er++;"
"d.c.split(' ').forEach(function(c){if(c)codes[c]=(codes[c]||0)+1});"
"if(match(d,k))sel.push(k)});seek()}"
"e.parentNode.removeChild(e);"
/* The page's own cards as they come; the counts 4 times a second. */
"if(shown<PER&&at*PER+shown<sel.length)fill();"
"if(done||performance.now()-upd>250){upd=performance.now();counts();fill()}"
/* For benchmarks: when the first page was ready, when the whole data. */
"if(!ready&&(done||sel.length>=PER)){ready=1;"
"de.setAttribute('data-ready',Math.round(performance.now()))}"
"if(done){p=performance.getEntriesByType('paint').filter(function(e){"
"return e.name=='first-contentful-paint'})[0];"
"de.setAttribute('data-full',Math.round(performance.now()));"
"if(p)de.setAttribute('data-fcp',Math.round(p.startTime))}}"
"})();";

/* Each chunk's call. */
static const char more[] = "review_more()";

void
page_head(FILE *fp)
{
	char hcss[64], hjs[64], hmore[64];
	int r;

	html_sha256(css, hcss, sizeof(hcss));
	html_sha256(js, hjs, sizeof(hjs));
	html_sha256(more, hmore, sizeof(hmore));
	fprintf(fp, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\""
	    "default-src 'none'; img-src 'self' data:; "
	    "style-src 'sha256-%s'; script-src 'sha256-%s' 'sha256-%s'; "
	    "base-uri 'none'; form-action 'none'\">\n"
	    "<meta name=\"referrer\" content=\"no-referrer\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width\">\n"
	    "<title>Immich duplicates: review</title>\n<style>%s</style>\n"
	    "</head><body>\n<header id=\"bar\"><h1>Immich duplicates</h1>"
	    "<select id=\"f\" aria-label=\"filter\"></select>"
	    "<input id=\"q\" type=\"search\" placeholder=\"search file names\" "
	    "aria-label=\"search file names\"><span id=\"cnt\"></span>"
	    "<span id=\"pg\" hidden><button id=\"pv\">\xe2\x80\xb9 "
	    "previous</button><span id=\"pn\"></span><button id=\"nx\">"
	    "next \xe2\x80\xba</button></span>"
	    "<button id=\"ex\">export decisions</button>"
	    "<span class=\"lg\"><kbd>j</kbd>/<kbd>k</kbd> next/previous "
	    "<kbd>1</kbd>\xe2\x80\xa6<kbd>9</kbd> keeper <kbd>r</kbd> "
	    "resolve <kbd>s</kbd> stack <kbd>a</kbd> keep all <kbd>x</kbd> "
	    "skip <kbd>u</kbd> undo</span>"
	    "<span class=\"lg\"><mark>differs from the keeper</mark> "
	    "<mark class=\"z\">the keeper has none</mark></span>"
	    "</header>\n<main id=\"m\"><noscript>The cards are shown by "
	    "the page's own script (in this file; nothing is loaded from "
	    "elsewhere): allow JavaScript for this file to see them."
	    "</noscript></main>\n"
	    "<script type=\"application/json\" id=\"rows\">[", hcss, hjs,
	    hmore, css);
	for (r = 0; r < NROW; r++)
		fprintf(fp, "%s\"%s\"", r ? "," : "", row_name[r]);
	fprintf(fp, "]</script>\n<script>%s</script>\n", js);
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
		fprintf(fp, "]</script><script>%s</script>\n", more);
	fprintf(fp, "<footer id=\"sum\" data-groups=\"%ld\" "
	    "data-held=\"%ld\">%ld groups, %ld held for review, %ld assets; "
	    "made by immich-review on %s.</footer>\n"
	    "<script type=\"application/json\" id=\"end\">[]</script>"
	    "<script>%s</script>\n</body></html>\n", st->groups, st->held,
	    st->groups, st->held, st->assets, when, more);
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
	char *s = NULL;
	const char *n;

	cJSON_ArrayForEach(x, list) {
		if ((n = rec_str(x, key)) == NULL && key2)
			n = rec_str(x, key2);
		if (n == NULL)
			continue;
		xappend(&s, ", ", n);
	}
	return s;
}

static char *
v_tags(const cJSON *a)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "tags");

	return cJSON_IsArray(t) ? names(t, "value", "name") : NULL;
}

static char *(*const row_fn[NROW - 1])(const cJSON *) = { v_size, v_pixels,
    v_format, v_length, v_date, v_gps, v_camera, v_lens, v_exposure,
    v_description, v_rating, v_flags, v_tags };

/* ---- the card's data ---- */

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
	char *s = NULL;

	cJSON_ArrayForEach(r, rv) {
		c = rec_str(r, "code");
		a = rec_str(r, "asset");
		if (!c || !a || !id || strcmp(a, id) != 0)
			continue;
		xappend(&s, ", ", c);
	}
	return s;
}

/* What happens (or happened) to asset i: its class (k keep, x trashed
 * or to be, h held back or held for review, o not in the plan), and
 * the text (malloc'd). */
static char *
fate(const struct group *g, int i, char *cls)
{
	const cJSON *t = per_asset(g->rec, "trashed", g->id[i]);
	const cJSON *v = per_asset(g->rec, "verified", g->id[i]);
	const cJSON *b = per_asset(g->rec, "backup", g->id[i]);
	const char *held, *d;
	char *codes, *s;

	if (i == g->keep) {
		*cls = 'k';
		return xstrdup("keep");
	}
	if (cJSON_IsObject(t)) {
		if (asset_true(t, "ok")) {
			*cls = 'x';
			return xstrdup(asset_true(t, "alreadyTrashed") ?
			    "was already in the trash" : asset_true(t,
			    "dryRun") ? "would be trashed (dry run)" :
			    "trashed");
		}
		*cls = 'h';
		held = rec_str(t, "held");
		d = rec_str(t, "detail");
		return xasprintf("held back: %s%s%s", held ? held :
		    "not trashed", d ? " \xe2\x80\x94 " : "", d ? d : "");
	}
	if (!rec_has_str(cJSON_GetObjectItemCaseSensitive(g->rec, "trash"),
	    g->id[i])) {
		*cls = 'o';
		return xstrdup("not in the plan");
	}
	*cls = g->held ? 'h' : 'x';
	if (g->held) {
		codes = own_codes(g, g->id[i]);
		s = xasprintf("held for review%s%s", codes ? ": " : "",
		    codes ? codes : "");
		free(codes);
		return s;
	}
	return xasprintf("will be trashed%s", cJSON_IsObject(v) &&
	    asset_true(v, "ok") ? " (backup verified)" : cJSON_IsObject(b) ?
	    " (backed up)" : "");
}

/* Thumbnail badges: 1 video, 2 live photo, 4 in the trash. */
static int
badges(const cJSON *a)
{
	const char *type = asset_str(a, "type");

	return (type && strcmp(type, "VIDEO") == 0) |
	    (asset_str(a, "livePhotoVideoId") != NULL) << 1 |
	    asset_true(a, "isTrashed") << 2;
}

/*
 * The assets: {f: fate class, ft: its text (not for the keeper), n: file
 * name, i: id (when thumbs/ID.jpg is there), u: id (when not), h: its
 * checksum, b: badges, v: values}.  v
 * has one entry per metadata row (row_name), trailing nulls left out:
 * null for none, 0 for a loser's value equal to the keeper's (most of
 * them: a group's copies share their metadata), else the text.
 */
static cJSON *
assets_json(const struct group *g)
{
	char **v = xcalloc((size_t)(g->n ? g->n : 1) * NROW, sizeof(*v));
	const char *kv;
	const cJSON *al;
	cJSON *arr = cJSON_CreateArray(), *o, *va;
	char cls[2] = "", *ft;
	int i, r, last, b;

	for (i = 0; i < g->n; i++) {
		for (r = 0; r < NROW - 1; r++)
			v[i * NROW + r] = row_fn[r](g->a[i]);
		al = g->ctx->albums && g->id[i] ?
		    g->ctx->albums(g->ctx->arg, g->id[i]) : NULL;
		if (al)
			v[i * NROW + R_ALBUMS] = names(al, "albumName", NULL);
	}
	for (i = 0; i < g->n; i++) {
		cJSON_AddItemToArray(arr, o = cJSON_CreateObject());
		ft = fate(g, i, cls);
		cJSON_AddStringToObject(o, "f", cls);
		if (cls[0] != 'k')
			cJSON_AddStringToObject(o, "ft", ft);
		free(ft);
		cJSON_AddStringToObject(o, "n", g->name[i]);
		if (g->id[i] && valid_uuid(g->id[i]) && g->ctx->has_thumb &&
		    g->ctx->has_thumb(g->ctx->arg, g->id[i]))
			cJSON_AddStringToObject(o, "i", g->id[i]);
		else if (g->id[i])
			cJSON_AddStringToObject(o, "u", g->id[i]);
		if (asset_checksum(g->a[i]))
			cJSON_AddStringToObject(o, "h",
			    asset_checksum(g->a[i]));
		if ((b = badges(g->a[i])) != 0)
			cJSON_AddNumberToObject(o, "b", b);
		for (last = -1, r = 0; r < NROW; r++)
			if (v[i * NROW + r])
				last = r;
		va = cJSON_AddArrayToObject(o, "v");
		for (r = 0; r <= last; r++) {
			kv = g->keep >= 0 ? v[g->keep * NROW + r] : NULL;
			if (v[i * NROW + r] == NULL)
				cJSON_AddItemToArray(va, cJSON_CreateNull());
			else if (i != g->keep && kv &&
			    strcmp(kv, v[i * NROW + r]) == 0)
				cJSON_AddItemToArray(va, cJSON_CreateNumber(0));
			else
				cJSON_AddItemToArray(va,
				    cJSON_CreateString(v[i * NROW + r]));
		}
	}
	for (i = 0; i < g->n * NROW; i++)
		free(v[i]);
	free(v);
	return arr;
}

/* One change consolidation makes: [text, the loser it comes from or
 * null]. */
static cJSON *
change_json(const struct group *g, const cJSON *c)
{
	const char *f = rec_str(c, "field"), *from = rec_str(c, "from");
	const char *name = rec_str(c, "name");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "value");
	const cJSON *la, *lo;
	cJSON *pair = cJSON_CreateArray();
	char *s, *t;

	if (f == NULL)
		f = "?";
	if (strcmp(f, "gps") == 0) {
		la = cJSON_GetObjectItemCaseSensitive(v, "latitude");
		lo = cJSON_GetObjectItemCaseSensitive(v, "longitude");
		s = xasprintf("location %.5f, %.5f", cJSON_IsNumber(la) ?
		    la->valuedouble : NAN, cJSON_IsNumber(lo) ?
		    lo->valuedouble : NAN);
	} else if (strcmp(f, "dateTimeOriginal") == 0 && cJSON_IsString(v))
		s = xasprintf("capture time %s", v->valuestring);
	else if (strcmp(f, "description") == 0 && cJSON_IsString(v))
		s = xasprintf("description \xe2\x80\x9c%s\xe2\x80\x9d",
		    v->valuestring);
	else if (strcmp(f, "isFavorite") == 0)
		s = xstrdup("favorite");
	else if ((strcmp(f, "tag") == 0 || strcmp(f, "album") == 0) &&
	    (name || cJSON_IsString(v)))
		s = xasprintf("%s %s", f, name ? name : v->valuestring);
	else {
		t = v ? cJSON_PrintUnformatted(v) : NULL;
		s = xasprintf("%s %s", f, t ? t : "");
		free(t);
	}
	cJSON_AddItemToArray(pair, cJSON_CreateString(s));
	cJSON_AddItemToArray(pair, from ?
	    cJSON_CreateString(name_of(g, from)) : cJSON_CreateNull());
	free(s);
	return pair;
}

/* {t: title, ch: [change...], nm: [what is left on the losers...]}. */
static cJSON *
change_list(const struct group *g, const char *title, const cJSON *changes,
    const cJSON *notmoved)
{
	cJSON *o = cJSON_CreateObject(), *ch, *nm;
	const cJSON *c;
	const char *r;
	char *s;

	cJSON_AddStringToObject(o, "t", title);
	ch = cJSON_AddArrayToObject(o, "ch");
	cJSON_ArrayForEach(c, changes)
		cJSON_AddItemToArray(ch, change_json(g, c));
	if (cJSON_GetArraySize(notmoved) == 0)
		return o;
	nm = cJSON_AddArrayToObject(o, "nm");
	cJSON_ArrayForEach(c, notmoved) {
		r = rec_str(c, "reason");
		s = xasprintf("%s of %s%s%s", rec_str(c, "field") ?
		    rec_str(c, "field") : "?", name_of(g, rec_str(c, "from")),
		    r ? ": " : "", r ? r : "");
		cJSON_AddItemToArray(nm, cJSON_CreateString(s));
		free(s);
	}
	return o;
}

/* What consolidation did (the record's "consolidated"), or what it will
 * do by the rules of immich-consolidate (merge.h) on the plan's copy of
 * the assets; albums only when they were fetched (-a).  NULL for a group
 * without a keeper. */
static cJSON *
moves(const struct group *g)
{
	const cJSON *con = cJSON_GetObjectItemCaseSensitive(g->rec,
	    "consolidated"), *trash;
	const cJSON **al = NULL;
	struct merge_in in;
	cJSON *changes, *notmoved, *o;
	const char *skip;
	int i, known = g->ctx->albums != NULL;

	if (cJSON_IsObject(con)) {
		if ((skip = rec_str(con, "skipped")) != NULL) {
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "skip", skip);
			return o;
		}
		return change_list(g, asset_true(con, "dryRun") ?
		    "Consolidation would copy onto the keeper (dry run)" :
		    asset_true(con, "confirmed") ? "Consolidation copied onto "
		    "the keeper (confirmed)" : "Consolidation copied onto the "
		    "keeper (NOT confirmed)", cJSON_GetObjectItemCaseSensitive(
		    con, "changes"), cJSON_GetObjectItemCaseSensitive(con,
		    "notMoved"));
	}
	if (g->keep < 0)
		return NULL;
	memset(&in, 0, sizeof(in));
	in.keeper = g->a[g->keep];
	in.losers = xcalloc(g->n, sizeof(*in.losers));
	al = xcalloc(g->n, sizeof(*al));
	trash = cJSON_GetObjectItemCaseSensitive(g->rec, "trash");
	if (known && (in.keeper_albums = g->ctx->albums(g->ctx->arg,
	    g->id[g->keep])) == NULL)
		known = 0;
	for (i = 0; i < g->n; i++) {
		if (i == g->keep || !rec_has_str(trash, g->id[i]))
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
	o = change_list(g, g->held ? "Once reviewed, consolidation would "
	    "copy onto the keeper" : "Consolidation will copy onto the keeper",
	    changes, notmoved);
	cJSON_Delete(changes);
	cJSON_Delete(notmoved);
	free(in.losers);
	free(al);
	return o;
}

static cJSON *
str3(const char *a, const char *b, const char *c)
{
	cJSON *x = cJSON_CreateArray();

	cJSON_AddItemToArray(x, cJSON_CreateString(a));
	cJSON_AddItemToArray(x, cJSON_CreateString(b));
	cJSON_AddItemToArray(x, c ? cJSON_CreateString(c) :
	    cJSON_CreateNull());
	return x;
}

/* The review reasons shown: [[code, whom, detail or null]...]; and the
 * codes, as " a b ", for the filter. */
static cJSON *
reasons(const struct group *g, char **codes)
{
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(g->rec, "review");
	const cJSON *r;
	const char *c, *a;
	cJSON *list = cJSON_CreateArray();
	char *t, *pat;

	*codes = xstrdup(" ");
	if (!g->held)
		return list;
	if (rv && !cJSON_IsArray(rv))
		cJSON_AddItemToArray(list, str3("?", "the review list is not "
		    "a list", NULL));
	if (!cJSON_IsArray(rv))
		rv = NULL;
	cJSON_ArrayForEach(r, rv) {
		c = rec_str(r, "code");
		a = rec_str(r, "asset");
		cJSON_AddItemToArray(list, str3(c ? c : "?", a ?
		    name_of(g, a) : "group", rec_str(r, "detail")));
		if (c == NULL)
			continue;
		pat = xasprintf(" %s ", c);
		if (strstr(*codes, pat) == NULL) {
			t = xasprintf("%s%s ", *codes, c);
			free(*codes);
			*codes = t;
		}
		free(pat);
	}
	return list;
}

static cJSON *
errors(const struct group *g)
{
	const cJSON *e, *l = cJSON_GetObjectItemCaseSensitive(g->rec,
	    "errors");
	const char *a;
	cJSON *list = cJSON_CreateArray();
	char *s;

	if (!cJSON_IsArray(l))
		l = NULL;
	cJSON_ArrayForEach(e, l) {
		a = rec_str(e, "asset");
		s = xasprintf("%s: %s%s%s", rec_str(e, "stage") ?
		    rec_str(e, "stage") : "?", a ? name_of(g, a) : "",
		    a ? ": " : "", rec_str(e, "message") ?
		    rec_str(e, "message") : "");
		cJSON_AddItemToArray(list, cJSON_CreateString(s));
		free(s);
	}
	return list;
}

/*
 * The group's fingerprint, for the page's script to keep a person's
 * decision under (22 characters of a base64 SHA-256): the duplicateId,
 * the members and their checksums, the review codes shown.  The same
 * group as shown gets the same one on any page; any change, another.
 */
static void
fingerprint(const struct group *g, const char *did, const char *codes,
    char *buf, size_t bufsz)
{
	char *s = xasprintf("%s\n", did), *t;
	const char *sum;
	int i;

	for (i = 0; i < g->n; i++) {
		sum = asset_checksum(g->a[i]);
		t = xasprintf("%s%s %s\n", s, g->id[i] ? g->id[i] : "",
		    sum ? sum : "");
		free(s);
		s = t;
	}
	t = xasprintf("%s%s", s, codes);
	html_sha256(t, buf, bufsz);
	if (bufsz > 22)
		buf[22] = '\0';
	free(s);
	free(t);
}

/* The group of record rec: its assets (objects only), their ids and
 * names, and the keeper's index (-1 when keep is not among them). */
static void
group_read(struct group *g, const cJSON *rec, const struct page_ctx *ctx,
    const char *keep)
{
	const cJSON *assets = cJSON_GetObjectItemCaseSensitive(rec, "assets");
	const cJSON *x;
	int cap;

	memset(g, 0, sizeof(*g));
	g->rec = rec;
	g->ctx = ctx;
	g->keep = -1;
	cap = cJSON_IsArray(assets) ? cJSON_GetArraySize(assets) : 0;
	g->a = xcalloc(cap + 1, sizeof(*g->a));
	g->id = xcalloc(cap + 1, sizeof(*g->id));
	g->name = xcalloc(cap + 1, sizeof(*g->name));
	if (!cJSON_IsArray(assets))
		assets = NULL;
	cJSON_ArrayForEach(x, assets) {
		if (!cJSON_IsObject(x) || g->n >= cap)
			continue;
		g->a[g->n] = x;
		g->id[g->n] = rec_str(x, "id");
		g->name[g->n] = rec_str(x, "originalFileName");
		if (g->name[g->n] == NULL)
			g->name[g->n] = g->id[g->n] ? g->id[g->n] : "(no id)";
		if (keep && g->id[g->n] && strcmp(keep, g->id[g->n]) == 0 &&
		    g->keep < 0)
			g->keep = g->n;
		g->n++;
	}
}

void
page_card(FILE *fp, const cJSON *rec, const struct page_ctx *ctx,
    struct page_stats *st)
{
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(rec, "review");
	const char *keep = rec_str(rec, "keep"), *why = rec_str(rec, "why");
	const char *did = rec_str(rec, "duplicateId");
	struct group g;
	cJSON *o, *r, *er, *mv;
	char *codes, *s, fpr[64];

	group_read(&g, rec, ctx, keep);
	g.held = (cJSON_IsArray(rv) && cJSON_GetArraySize(rv) > 0) ||
	    (rv && !cJSON_IsNull(rv) && !cJSON_IsArray(rv)) || g.keep < 0;

	/* {s: held or auto, c: codes, d: duplicateId, x: fingerprint, w:
	 * why, r: reasons, a: assets, k: the keeper's index, m: moves, e:
	 * errors}: keys of one letter, absent when empty; page.js builds
	 * the card. */
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "s", g.held ? "held" : "auto");
	if (cJSON_GetArraySize(r = reasons(&g, &codes)) > 0)
		cJSON_AddItemToObject(o, "r", r);
	else
		cJSON_Delete(r);
	cJSON_AddStringToObject(o, "c", codes);
	if (did) {
		cJSON_AddStringToObject(o, "d", did);
		fingerprint(&g, did, codes, fpr, sizeof(fpr));
		cJSON_AddStringToObject(o, "x", fpr);
	}
	free(codes);
	if (g.keep >= 0 && why)
		cJSON_AddStringToObject(o, "w", why);
	cJSON_AddNumberToObject(o, "k", g.keep);
	cJSON_AddItemToObject(o, "a", assets_json(&g));
	if ((mv = moves(&g)) != NULL)
		cJSON_AddItemToObject(o, "m", mv);
	er = errors(&g);
	if (cJSON_GetArraySize(er) > 0) {
		cJSON_AddItemToObject(o, "e", er);
		st->errors++;
	} else
		cJSON_Delete(er);
	if (st->groups > 0 && st->groups % CHUNK == 0)
		fprintf(fp, "]</script><script>%s</script>\n", more);
	if (st->groups % CHUNK == 0)
		fputs("<script type=\"application/json\">[\n", fp);
	else
		fputs(",\n", fp);
	if ((s = cJSON_PrintUnformatted(o)) == NULL)
		err(EX_FATAL, "cJSON_PrintUnformatted");
	html_script_json(fp, s);
	free(s);
	cJSON_Delete(o);

	st->groups++;
	st->held += g.held;
	st->assets += g.n;
	free(g.a);
	free(g.id);
	free(g.name);
}
