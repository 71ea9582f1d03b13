#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Bad-input cases for every stage (tests/0810-badinput.t).

  gen.py [--batch] STAGE GOOD.ndjson OUTDIR
      Writes OUTDIR/STAGE-NNN.in (the stage's standard input) and appends
      one line per case to OUTDIR/cases.tsv:
          file  stage  expect  badline  ngood  name
      expect: "fail" (the stage must say "stdin:BADLINE" on stderr and exit
      1) or "any" (any status below 3 is fine: e.g. a hostile file name that
      is only made safe, or a field the stage does not need).  ngood: how
      many good lines the input has; each must come out on stdout.
      GOOD.ndjson holds at least 3 valid input records for the stage; every
      case is good line 1, a bad line (line 2), good line 3, except the
      truncated-last-line case (good 1, good 2, then the cut line).
      With --batch, one input per stage, STAGE-batch.in, with every case:
      good and bad lines alternate (the cut line last), one run per stage.
  gen.py dupes GOOD.json OUTDIR
      The same for immich-dupes -f: GOOD.json is a saved GET /api/duplicates
      response; the bad element is group 2, and the message says "group 2".

The lines over 10 MB are made here, at test time; nothing large is
committed.  Static malformed lines are in lines/ beside this script.
"""

import copy
import json
import re
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BIG = 10 * 1024 * 1024 + 17

# Ids that are not UUIDs, including path injection.
BADIDS = [5, None, {}, [], "", "../x", "a/b", "../../EVIL-id", "/tmp/EVIL-abs",
          "not-a-uuid", "12345678-1234-1234-1234-1234567890ab/../x",
          "x" * 300]
# Hostile file names: made safe, never a path.
HOSTILE = ["../../EVIL-dotdot.jpg", "/tmp/EVIL-abs.jpg", "a/b/EVIL-slash.jpg",
           "..", ".", "", ".EVIL-hidden", "EVIL-\u0001\u007f\u009b.jpg",
           "EVIL-" + "\u00e9" * 600 + ".jpg", "EVIL-" + "y" * 1000,
           "EVIL-nl\n.jpg", "EVIL-\u202eexe.jpg", "C:\\EVIL\\win.jpg",
           "EVIL-" + "z" * 300 + ".averyveryveryverylongextension"]
# Values of the wrong type, for any field.
WRONG = [5, -1.5, True, None, "str", {}, [], [5], [{}], {"a": [1]}]


def rec_lines(path):
    with open(path, 'rb') as f:
        return [l.rstrip(b'\n') for l in f if l.strip()]


def dump(o):
    return json.dumps(o, separators=(',', ':'), ensure_ascii=False).encode()


# Lines that parse as an object without any key a stage needs.
PARSES = ('line bom', 'line control-char', 'line huge-number',
          'line invalid-utf8')


def adjust(stage, name, expect):
    """What each stage makes of the fields it does not need."""
    if stage == 'verify':
        # A record without backup and trash passes through untouched; the
        # files are checked, not the trash list nor the recorded sums.
        if name in PARSES or name.startswith(('trash', 'backup bytes',
                                              'backup sha1')):
            return 'any'
    if stage == 'restore':
        # Restoring from the trash needs no backup; a record without
        # trashed has nothing to restore.
        if name in PARSES or name.startswith('backup'):
            return 'any'
        if name.startswith('trashed') and expect == 'fail':
            return 'todo'	# a malformed trashed key is ignored silently
    return expect


class Out:
    """Collects the cases of one stage; write() makes the files."""

    def __init__(self, stage, outdir, goods, ids=None):
        self.stage, self.outdir, self.goods = stage, outdir, goods
        self.cases = []
        self.ids = ids or [json.loads(g).get('duplicateId', '')
                           for g in goods[:3]]

    def case(self, name, bad, expect='fail', last=False):
        """bad: the bad line's bytes (no newline)."""
        expect = adjust(self.stage, name, expect)
        self.cases.append((name.replace('\t', ' ').replace('\n', ' ')[:80],
                           bad, expect, last))

    def mut(self, name, fn, expect='fail'):
        r = json.loads(self.goods[1])
        fn(r)
        self.case(name, dump(r), expect)

    def join(self, items):
        """The input made of items (bytes): ndjson lines, or for dupes the
        elements of one JSON array."""
        if self.stage == 'dupes':
            return b'[' + b','.join(items) + b']'
        return b''.join(i + b'\n' for i in items[:-1]) + items[-1] + (
            b'' if self.cut else b'\n')

    def write(self, batch):
        tsv = open(os.path.join(self.outdir, 'cases.tsv'), 'a')
        g = self.goods
        if batch:
            # Good and bad lines alternate; the cut line goes last.
            items, bad, good = [], [], []
            cases = sorted(self.cases, key=lambda c: c[3])
            for i, (name, b, expect, last) in enumerate(cases):
                r = json.loads(g[i % 3])
                r['goodLine'] = i + 1	# passed through by every stage
                if self.stage == 'dupes':
                    # immich-dupes refuses an asset seen in an earlier
                    # group: every group of the batch gets its own ids.
                    r = fresh_ids(r, 2 * i)
                    b = fresh_ids_bytes(b, 2 * i + 1)
                items.append(dump(r))
                good.append(i + 1)
                items.append(b)
                bad.append((len(items), expect, name))
            self.cut = cases[-1][3]
            fn = '%s-batch.in' % self.stage
            open(os.path.join(self.outdir, fn), 'wb').write(self.join(items))
            for n, expect, name in bad:
                tsv.write('%s\t%s\t%s\t%d\t%d\t%s\n' % (
                    fn, self.stage, expect, n, len(good), name))
            return
        for i, (name, b, expect, last) in enumerate(self.cases):
            fn = '%s-%03d.in' % (self.stage, i + 1)
            self.cut = last
            items = [g[0], g[2], b] if last else [g[0], b, g[2]]
            open(os.path.join(self.outdir, fn), 'wb').write(self.join(items))
            tsv.write('%s\t%s\t%s\t%d\t%d\t%s\n' % (
                fn, self.stage, expect, 3 if last else 2, 2, name))


UUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')


def fresh_ids(g, n):
    """The group g with each asset id replaced by one unique to item n
    (the same id twice in g stays the same id twice)."""
    if not isinstance(g, dict) or not isinstance(g.get('assets'), list):
        return g
    m = {}
    for a in g['assets']:
        if isinstance(a, dict) and isinstance(a.get('id'), str) and \
                UUID_RE.match(a['id']):
            m.setdefault(a['id'], '%s%04x%s' % (
                a['id'][:24], n % 0x10000, a['id'][28:]))
            a['id'] = m[a['id']]
    for k in ('suggestedKeepAssetIds',):
        if isinstance(g.get(k), list):
            g[k] = [m.get(x, x) if isinstance(x, str) else x for x in g[k]]
    return g


def fresh_ids_bytes(b, n):
    try:
        g = json.loads(b)
    except ValueError:
        return b
    return dump(fresh_ids(g, n)) if isinstance(g, dict) else b


def setpath(r, path, v):
    o = r
    for k in path[:-1]:
        o = o[k]
    o[path[-1]] = v


def common_cases(o):
    for name in sorted(os.listdir(os.path.join(HERE, 'lines'))):
        with open(os.path.join(HERE, 'lines', name), 'rb') as f:
            o.case('line ' + name, f.read().rstrip(b'\n'),
                   'any' if name == 'cr-only' else 'fail')
    o.case('truncated last line', o.goods[1][:len(o.goods[1]) // 2], last=True)
    o.case('NUL byte', o.goods[1][:10] + b'\0' + o.goods[1][10:])
    o.case('10 MB nesting', b'[' * BIG)
    o.case('10 MB invalid', b'{"duplicateId":"' + b'\xff' * BIG)
    r = json.loads(o.goods[1])
    r['pad'] = 'p' * BIG		# a valid record: passes
    o.case('10 MB valid record', dump(r), 'any')
    for v in WRONG[:5]:
        o.case('not an object: %s' % json.dumps(v), dump(v))


def loser(r):
    return r['trash'][0]


def plan_cases(o, reads):
    """Mutations of the plan keys the stage reads."""
    if 'keep' in reads:
        for v in BADIDS:
            o.mut('keep=%s' % json.dumps(v)[:40],
                  lambda r, v=v: setpath(r, ['keep'], v))
        o.mut('keep missing', lambda r: r.pop('keep'))
        o.mut('keeper among losers',
              lambda r: r['trash'].append(r['keep']))
    if 'trash' in reads:
        for v in WRONG:
            o.mut('trash=%s' % json.dumps(v), lambda r, v=v: setpath(
                r, ['trash'], v), 'any' if v == [] else 'fail')
        for v in BADIDS:
            o.mut('trash=[%s]' % json.dumps(v)[:40],
                  lambda r, v=v: setpath(r, ['trash'], [v]))
        o.mut('trash missing', lambda r: r.pop('trash'))
        o.mut('trash lists an asset twice',
              lambda r: r['trash'].append(loser(r)), 'any')
    if 'review' in reads:
        for v in WRONG:
            if v != []:
                # null is no review; [5] is a review list (held)
                o.mut('review=%s' % json.dumps(v),
                      lambda r, v=v: setpath(r, ['review'], v),
                      'any' if v in (None, [5], [{}]) else 'fail')
    if 'assets' in reads:
        # Without a usable copy of the loser, immich-fetch asks the server
        # (GET /api/assets/id), and a record's checksum that differs from
        # the server's is replaced by the server's: all "any".
        def mut(name, fn, expect='any'):
            o.mut(name, fn, 'any')
        for v in WRONG:
            mut('assets=%s' % json.dumps(v),
                lambda r, v=v: setpath(r, ['assets'], v))

        def amut(field, v):
            def f(r):
                for a in r['assets']:
                    if a.get('id') == loser(r):
                        if field == 'id':
                            a['id'] = v
                        elif field.startswith('exifInfo.'):
                            a.setdefault('exifInfo', {})[field[9:]] = v
                        else:
                            a[field] = v
            return f
        for v in [5, None, {}, "../x"]:
            mut('loser id=%s' % json.dumps(v), amut('id', v))
        for v in [5, None, {}, "", "!!notbase64", "AAAA"]:
            mut('loser checksum=%s' % json.dumps(v), amut('checksum', v))
        for v in ["x", -1, None, 1e300, {}]:
            mut('loser fileSizeInByte=%s' % json.dumps(v),
                  amut('exifInfo.fileSizeInByte', v))
        for v in [5, {}, "../x", "a/b"]:
            mut('loser livePhotoVideoId=%s' % json.dumps(v),
                  amut('livePhotoVideoId', v))
        for v in HOSTILE:
            o.mut('hostile name %s' % json.dumps(v)[:40],
                  amut('originalFileName', v), 'any')
        for v in [5, {}, None, ["a"]]:
            o.mut('loser originalFileName=%s' % json.dumps(v),
                  amut('originalFileName', v), 'any')


def entry_cases(o, key, reads_path):
    """Mutations of a per-asset key (backup, verified, consolidated...)."""
    for v in WRONG:
        o.mut('%s=%s' % (key, json.dumps(v)), lambda r, v=v: setpath(
            r, [key], v), 'any' if v == {} and key == 'trashed' else 'fail')
    o.mut('%s missing' % key, lambda r: r.pop(key, None),
          'any' if key == 'trashed' else 'fail')

    def emut(field, v):
        def f(r):
            e = r[key].get(loser(r))
            if isinstance(e, dict):
                e[field] = v
            else:
                r[key][loser(r)] = {field: v}
        return f
    for v in WRONG if key != 'consolidated' else []:
        o.mut('%s[loser]=%s' % (key, json.dumps(v)),
              lambda r, v=v: setpath(r, [key, loser(r)], v))
    if key == 'backup' and reads_path:
        for v in [5, None, "", "relative.jpg", "/etc/passwd", "/nonexistent",
                  "../../EVIL-x"]:
            o.mut('backup path=%s' % json.dumps(v), emut('path', v))
        for v in ["x", -5, None]:
            o.mut('backup bytes=%s' % json.dumps(v), emut('bytes', v))
        for v in [5, "", "AAAA"]:	# the file is what counts
            o.mut('backup sha1=%s' % json.dumps(v), emut('sha1', v), 'any')
        o.mut('backup keyed by a path', lambda r: r[key].update(
            {"../../EVIL-k": r[key][loser(r)]}), 'any')
    if key == 'verified':
        for v in ["true", 1, None]:
            o.mut('verified ok=%s' % json.dumps(v), emut('ok', v))
    if key == 'consolidated':
        for v in ["true", 1, None]:
            o.mut('consolidated confirmed=%s' % json.dumps(v),
                  lambda r, v=v: setpath(r, ['consolidated', 'confirmed'], v))
    if key == 'trashed':
        for v in ["true", 1, None]:
            o.mut('trashed ok=%s' % json.dumps(v), emut('ok', v))


READS = {
    'consolidate': ({'keep', 'trash', 'review'}, []),
    'fetch': ({'trash', 'assets'}, []),
    'verify': ({'trash'}, ['backup']),
    'trash': ({'keep', 'trash', 'review'}, ['backup', 'verified',
                                           'consolidated']),
    'restore': (set(), ['trashed', 'backup']),
    'stack': ({'keep', 'trash'}, []),
    'dismiss': (set(), []),
}


def dupes(good, outdir, batch):
    groups = json.load(open(good))
    assert len(groups) >= 3
    o = Out('dupes', outdir, [dump(x) for x in groups[:3]],
            [x['duplicateId'] for x in groups[:3]])
    case = o.case

    def mut(name, f, expect='fail'):
        g = copy.deepcopy(groups[1])
        f(g)
        case(name, dump(g), expect)
    for v in WRONG[:5]:
        case('group not an object: %s' % json.dumps(v), dump(v))
    for v in BADIDS:
        mut('duplicateId=%s' % json.dumps(v)[:40],
            lambda g, v=v: setpath(g, ['duplicateId'], v))
    for v in WRONG:
        mut('assets=%s' % json.dumps(v),
            lambda g, v=v: setpath(g, ['assets'], v),
            'any' if v == [] else 'fail')
    for v in BADIDS:
        mut('asset id=%s' % json.dumps(v)[:40],
            lambda g, v=v: setpath(g, ['assets', 0, 'id'], v))
    mut('asset listed twice', lambda g: g['assets'].append(g['assets'][0]))
    for field in ['originalFileName', 'isTrashed', 'libraryId', 'width',
                  'exifInfo', 'isEdited', 'type', 'livePhotoVideoId',
                  'fileCreatedAt']:
        for v in WRONG:
            mut('%s=%s' % (field, json.dumps(v)),
                lambda g, f=field, v=v: setpath(g, ['assets', 1, f], v),
                'any')
    for v in HOSTILE:
        mut('hostile name', lambda g, v=v: setpath(
            g, ['assets', 1, 'originalFileName'], v), 'any')
    # The same asset in groups 1 and 2.
    # The same asset in groups 1 and 2 (the server never sends that; if it
    # did, the asset could be the keeper of one and a loser of the other).
    mut('same asset in two groups', lambda g: setpath(
        g, ['assets', 0], copy.deepcopy(groups[0]['assets'][0])), 'todo')
    o.write(batch)


def main():
    batch = sys.argv[1] == '--batch'
    if batch:
        del sys.argv[1]
    stage, good, outdir = sys.argv[1:4]
    if stage == 'dupes':
        return dupes(good, outdir, batch)
    goods = rec_lines(good)
    assert len(goods) >= 3, 'need 3 good records'
    o = Out(stage, outdir, goods)
    common_cases(o)
    reads, keys = READS[stage]
    plan_cases(o, reads)
    for k in keys:
        entry_cases(o, k, True)
    # The same loser in two records (good line 1's loser in line 2).
    r1 = json.loads(goods[0])
    if 'trash' in reads and stage != 'consolidate':
        o.mut('same loser in two records', lambda r: r['trash'].append(
            r1['trash'][0]), 'any')
    # Keeper of line 1 listed as a loser of line 2.
    if 'keep' in reads:
        o.mut("line 1's keeper is a loser here", lambda r: setpath(
            r, ['trash'], [r1['keep']]), 'any')
    o.write(batch)


if __name__ == '__main__':
    main()
