#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Fault and crash campaigns: the whole pipeline against the fake server.

  campaign.py faults  --dir D [--runs N] [--seed S] [--library L]
  campaign.py crashes --dir D [--points N] [--seed S] [--library L]
  campaign.py selftest --dir D
  campaign.py diskfull --dir D --full MOUNTPOINT --grow CMD

The pipeline is the one of immich(7): immich-dupes > plan,
immich-consolidate -a raw-jpeg < plan > cons, immich-fetch -d D/bk < cons >
fetched, immich-verify < fetched > ver, immich-trash < ver > trashed, each
stage reading the saved output of the one before (binaries from PATH); then
the two other answers: immich-stack < stackin > stacked (stackin: the
records of cons whose review codes are all raw-jpeg) and immich-dismiss <
dismissin > dismissed (dismissin: the records of plan with a gps-conflict
code, groups a person says are not duplicates).  Every run
starts a fresh fake server (tests/fake_immich.py, with a state file so it
can be killed and restarted) on the library: L (a library JSON), or
"small" (default: six groups of tests/mklib.py --kinds: plain,
loser-metadata, gps-conflict (a review group, dismissed), live-photo-loser,
triple, raw-jpeg (stacked)),
or "kinds" (every kind) or "groups:N" (mklib.py --groups N).

faults: one uninterrupted reference run, then N runs, each with 2 to 6
fault rules at seeded random requests of the reference run (429 with and
without Retry-After, 500/502/503/504, reset mid-body, short body, wrong
bytes, stalls longer than IMMICH_LOW_SPEED_TIME, a closed connection, a
change applied but its reply replaced by a 500) and, in some runs, the
server killed (SIGKILL) and restarted at a random moment.  After each run,
and after a rerun of the pipeline with the faults off, the invariants are
checked (see check()); after the rerun the end state must also equal the
reference's.

crashes: N kill points, spread over the seven stages round robin, each a
seeded choice of: while a request is held by the server (a "delay" fault),
between a change and its reply (PUT /assets/id, DELETE /assets: "delay"
with "after"), mid-download (a "stall" after some bytes of an original or
of GET /duplicates), after the stage has read k records of its input (its
standard input is a pipe fed k records), or after a random time.  The
stage gets SIGKILL; once the server has answered every request it
received, the pipeline is rerun from the killed stage with the same saved
input.  The invariants must hold and the end state (the server's assets:
trashed, purged, trash count, keeper metadata, albums, tags; and the
backup folder's files, sidecars without fetchedAt; the stacks) must equal
the reference run's, and no stack made or group dismissed twice.

selftest: breaks a good end state in each way the checker must notice
(keeper trashed, loser trashed without backup, backup bytes wrong, backup
only in .tmp, review group touched, asset purged, group left half done)
and fails unless every one is flagged.

diskfull: the backup folder on a small file system (MOUNTPOINT/bk,
immich-fetch -r 0): immich-fetch must stop with status 3 and say so, the
invariants must hold; then CMD (a shell command) makes room and the rerun
from immich-fetch must end like the reference run (tests/0850-diskfull.t).

Output: progress lines starting with "# ", and a last line
  faults: N injected, L assets lost, K keepers trashed, ...
  crashes: N kill points, L assets lost, end state equal E/N, ...
The exit status is 0 only when every figure of loss is 0 (and, for
crashes, E = N).
"""

import argparse
import base64
import copy
import glob
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE_PY = os.path.join(HERE, 'fake_immich.py')
MKLIB = os.path.join(HERE, 'mklib.py')
# One user id for every server of this campaign (their end states are
# compared), another campaign's (a test file run at the same time) apart.
USER_ID = str(uuid.uuid4())
PERSON = '00000b0b-0000-4000-8000-00000000a22a'
STAGE_TIMEOUT = float(os.environ.get('CAMPAIGN_STAGE_TIMEOUT', '90'))


def say(*a):
    print('#', *a, flush=True)


# ---------------------------------------------------------------------------
# The fake server.

class Fake:
    def __init__(self, lib, d, keep_state=False):
        self.lib, self.d = lib, d
        self.state_file = os.path.join(d, 'fake.state')
        self.log = os.path.join(d, 'fake.log')
        self.port = 0
        self.proc = None
        for f in [] if keep_state else glob.glob(self.state_file + '*'):
            if os.path.isdir(f):
                shutil.rmtree(f)
            else:
                os.unlink(f)
        if os.path.exists(self.log):
            os.unlink(self.log)
        self.key = json.load(open(lib)).get('apiKey', 'test-key')
        self.launch()

    def launch(self):
        pf = os.path.join(self.d, 'fake.port')
        if os.path.exists(pf):
            os.unlink(pf)
        self.proc = subprocess.Popen(
            [sys.executable, FAKE_PY, '--library', self.lib, '--port',
             str(self.port), '--port-file', pf, '--log', self.log,
             '--state-file', self.state_file, '--watch-pid',
             str(os.getpid()), '--user-id', USER_ID],
            stderr=open(os.path.join(self.d, 'fake.err'), 'ab'))
        t0 = time.time()
        while not (os.path.exists(pf) and os.path.getsize(pf)):
            if self.proc.poll() is not None or time.time() - t0 > 20:
                raise SystemExit('Bail out! the fake server did not start')
            time.sleep(0.02)
        self.port = int(open(pf).read().strip())
        self.url = 'http://127.0.0.1:%d' % self.port

    def restart(self):
        self.proc.kill()
        self.proc.wait()
        self.launch()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def ctl(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data,
                                     method=method)
        if data is not None:
            req.add_header('Content-Type', 'application/json')
        with urllib.request.urlopen(req, timeout=30) as r:
            b = r.read()
        return json.loads(b) if b else None

    def state(self):
        return self.ctl('GET', '/_fake/state')

    def log_entries(self):
        if not os.path.exists(self.log):
            return []
        out = []
        for line in open(self.log):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass	# a line cut by a kill
        return out

    def quiesce(self, timeout=15):
        """Wait until every request the server received has been answered
        (logged); a request held by a fault finishes first."""
        t0 = time.time()
        while time.time() - t0 < timeout:
            n = self.state()['requests']
            if len(self.log_entries()) >= n:
                return True
            time.sleep(0.05)
        return False

    def env(self):
        e = dict(os.environ)
        e['IMMICH_INSTANCE_URL'] = self.url
        e['IMMICH_API_KEY'] = self.key
        e.pop('IMMICH_API_KEY_FILE', None)
        return e


def make_library(spec, d, seed=1):
    path = os.path.join(d, 'lib.json')
    if spec in ('small', 'kinds'):
        lib = json.loads(subprocess.check_output(
            [sys.executable, MKLIB, '--kinds', '--seed', str(seed),
             '--size', '3000']))
        if spec == 'small':
            keep = ('plain/', 'loser-metadata/', 'gps-conflict/',
                    'live-photo-loser/', 'triple/', 'raw-jpeg/')
            lib['assets'] = [a for a in lib['assets']
                             if a.get('label', '').startswith(keep)]
            ids = {a['id'] for a in lib['assets']}
            lib['albums'] = [al for al in lib.get('albums', [])
                             if set(al.get('assetIds', [])) & ids]
        # A person someone named on the loser-metadata loser, sized like
        # its keeper (4:3): immich-consolidate makes her face on the
        # keeper (POST /faces), a change the crash points cover too.
        for a in lib['assets']:
            if a.get('label') == 'loser-metadata/keeper':
                a.update(width=4000, height=3000)
            elif a.get('label') == 'loser-metadata/loser':
                a.update(width=2000, height=1500, faces=[{
                    'person': {'id': PERSON, 'name': 'Anna'},
                    'imageWidth': 2000, 'imageHeight': 1500,
                    'boundingBoxX1': 100, 'boundingBoxY1': 200,
                    'boundingBoxX2': 300, 'boundingBoxY2': 450}])
        json.dump(lib, open(path, 'w'))
    elif spec.startswith('groups:'):
        out = subprocess.check_output(
            [sys.executable, MKLIB, '--groups', spec[7:], '--seed',
             str(seed), '--size', '5000'])
        open(path, 'wb').write(out)
    else:
        shutil.copy(spec, path)
    return path


# ---------------------------------------------------------------------------
# The pipeline.

STAGES = ['dupes', 'consolidate', 'fetch', 'verify', 'trash', 'stack',
          'dismiss']
FILES = {'dupes': (None, 'plan'), 'consolidate': ('plan', 'cons'),
         'fetch': ('cons', 'fetched'), 'verify': ('fetched', 'ver'),
         'trash': ('ver', 'trashed'), 'stack': ('stackin', 'stacked'),
         'dismiss': ('dismissin', 'dismissed')}
# The review codes consolidated (immich-consolidate -a) for the groups
# stacked; the code of the groups dismissed.
STACK_CODES = ['raw-jpeg']
DISMISS_CODE = 'gps-conflict'


def codes(r):
    return [x.get('code') for x in r.get('review') or []
            if isinstance(x, dict)]


def stacked_plan(r):
    c = codes(r)
    return bool(c) and all(x in STACK_CODES for x in c)


def dismissed_plan(r):
    return DISMISS_CODE in codes(r)


def prepare_input(stage, d):
    """The inputs of immich-stack and immich-dismiss, made from the saved
    outputs of the stages before (what a person's jq would select)."""
    if stage == 'stack':
        src, pick = 'cons', stacked_plan
    elif stage == 'dismiss':
        src, pick = 'plan', dismissed_plan
    else:
        return
    with open(os.path.join(d, FILES[stage][0] + '.ndjson'), 'w') as f:
        for line in open(os.path.join(d, src + '.ndjson'), 'rb'):
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if isinstance(r, dict) and pick(r):
                f.write(line.decode())


BKDIR = None	# the backup folder, if not D/bk
FETCH_ARGS = []


def bkdir(d):
    return BKDIR or os.path.join(d, 'bk')


def stage_cmd(stage, d):
    cmd = ['immich-' + stage]
    if stage == 'fetch':
        cmd += ['-d', bkdir(d)] + FETCH_ARGS
    if stage == 'consolidate':
        cmd += ['-a', ','.join(STACK_CODES)]
    return cmd


def stage_start(stage, d, fake, stdin_pipe=False):
    src, dst = FILES[stage]
    if not stdin_pipe:
        prepare_input(stage, d)
    fin = subprocess.PIPE if stdin_pipe else (
        open(os.path.join(d, src + '.ndjson'), 'rb') if src
        else subprocess.DEVNULL)
    p = subprocess.Popen(stage_cmd(stage, d), stdin=fin,
                         stdout=open(os.path.join(d, dst + '.ndjson'), 'wb'),
                         stderr=open(os.path.join(d, 'stderr'), 'ab'),
                         cwd=d, env=fake.env())
    return p


def stage_wait(p, stage):
    try:
        return p.wait(timeout=STAGE_TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        say('%s hung for %g s: killed' % (stage, STAGE_TIMEOUT))
        return 'hang'


def run_pipeline(d, fake, first=0, marks=None, stages=None):
    """Run the stages from STAGES[first]; returns {stage: status}.  marks,
    if given, gets (stage, log length before, after, seconds)."""
    rcs = {}
    for stage in stages or STAGES[first:]:
        n0 = len(fake.log_entries()) if marks is not None else 0
        t0 = time.time()
        with open(os.path.join(d, 'stderr'), 'ab') as e:
            e.write(('--- %s\n' % stage).encode())
        rcs[stage] = stage_wait(stage_start(stage, d, fake), stage)
        if marks is not None:
            fake.quiesce()
            marks.append((stage, n0, len(fake.log_entries()),
                          time.time() - t0))
    return rcs


def crashed(d, rcs):
    """Stages that died of a signal (other than ours) or whose sanitizer
    (make asan) complained, since the last call for d."""
    n = sum(1 for v in rcs.values() if isinstance(v, int) and v < 0)
    p = os.path.join(d, 'stderr')
    if os.path.exists(p):
        with open(p, errors='replace') as f:
            text = f.read()
        n += len(re.findall(r'Sanitizer|runtime error:', text))
        os.rename(p, p + '.seen')
        with open(p + '.all', 'a') as f:
            f.write(text)
    if n:
        say('  %d crashes: see %s.all' % (n, p))
    return n


def records(path):
    out = []
    if not os.path.exists(path):
        return out
    for line in open(path, 'rb'):
        try:
            r = json.loads(line)
            if isinstance(r, dict):
                out.append(r)
        except ValueError:
            pass
    return out


# ---------------------------------------------------------------------------
# Invariants.

def sha1_b64(path):
    h = hashlib.sha1()
    with open(path, 'rb') as f:
        for b in iter(lambda: f.read(1 << 20), b''):
            h.update(b)
    return base64.b64encode(h.digest()).decode()


def good_backup(bk, a):
    """Is there a complete, byte-identical backup of asset a (by its
    checksum) at a final name in bk, with its sidecar?  Returns a reason
    or None."""
    aid = a['id']
    files = [f for f in glob.glob(os.path.join(glob.escape(bk),
                                               glob.escape(aid) + '-*'))
             if os.path.isfile(f) and not os.path.islink(f)]
    if not files:
        tmp = glob.glob(os.path.join(glob.escape(bk), '.tmp',
                                     glob.escape(aid) + '*'))
        return 'no backup file' + (' (only in .tmp)' if tmp else '')
    ok = [f for f in files if sha1_b64(f) == a['checksum'] and
          os.path.getsize(f) == a['size']]
    if not ok:
        return 'backup file does not match the checksum'
    side = os.path.join(bk, aid + '.json')
    try:
        sc = json.load(open(side))
        if os.path.basename(ok[0]) != sc.get('file'):
            return 'sidecar names another file'
    except (OSError, ValueError):
        return 'no readable sidecar'
    return None


NORM_EXIF = ('description', 'rating', 'latitude', 'longitude',
             'dateTimeOriginal', 'timeZone')


def norm_asset(a, faces=None):
    ex = a.get('exifInfo') or {}
    return {'id': a['id'], 'isTrashed': a['isTrashed'],
            # the people of its faces, one entry per face (a face made
            # twice shows)
            'faces': sorted(str(f.get('personId')) for f in
                            (faces or {}).get(a['id'], [])
                            if not f.get('deletedAt')),
            'purged': a['purged'], 'trashCount': a['trashCount'],
            'isFavorite': a['isFavorite'], 'visibility': a['visibility'],
            'checksum': a['checksum'],
            'stack': [a['stack']['primaryAssetId'], a['stack']['assetCount']]
            if a.get('stack') else None,
            'exif': {k: ex.get(k) for k in NORM_EXIF},
            'albums': sorted(a.get('albums') or []),
            'tags': sorted(a.get('tagValues') or [])}


def norm(state, bk, counts=True):
    """The end state compared between runs (without the assets' trash
    counts unless counts)."""
    files = {}
    if os.path.isdir(bk):
        for root, dirs, names in os.walk(bk):
            for n in names:
                p = os.path.join(root, n)
                rel = os.path.relpath(p, bk)
                if n.endswith('.json') and '.tmp' not in rel:
                    try:
                        sc = json.load(open(p))
                        sc.pop('fetchedAt', None)
                        # tag ids and times are the server's own, new in
                        # every fake
                        a = sc.get('asset')
                        if isinstance(a, dict) and isinstance(
                                a.get('tags'), list):
                            a['tags'] = sorted(
                                t.get('value') for t in a['tags']
                                if isinstance(t, dict))
                        files[rel] = sc
                    except ValueError:
                        files[rel] = 'unreadable sidecar'
                else:
                    files[rel] = sha1_b64(p)
    assets = [norm_asset(a, state.get('faces')) for a in state['assets']]
    if not counts:
        for a in assets:
            del a['trashCount']
    return {'assets': sorted(assets, key=lambda x: x['id']),
            'albums': sorted((al['albumName'], sorted(al['assetIds']))
                             for al in state['albums']),
            'tags': sorted(t['value'] for t in state['tags']),
            'trashEmptyCalls': state.get('trashEmptyCalls', 0),
            'backup': files}


def diff(a, b, path=''):
    """A few lines saying where a and b differ."""
    if type(a) != type(b):
        return ['%s: %r != %r' % (path, a, b)]
    if isinstance(a, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append('%s/%s: only in %s' % (path, k,
                                                  'run' if k in a else 'ref'))
            else:
                out += diff(a[k], b[k], '%s/%s' % (path, k))
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return ['%s: %d items != %d' % (path, len(a), len(b))]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, '%s[%s]' % (path, x.get('id', i)
                                          if isinstance(x, dict) else i))
        return out
    return [] if a == b else ['%s: %r != %r' % (path, a, b)]


def check(init, state, plans, bk, outputs, final, log=None):
    """The invariants.  init, state: /_fake/state before and after; plans:
    plan records (keep, trash, review); outputs: every record the stages
    wrote.  Returns ({figure: count}, [messages])."""
    c = {'lost': 0, 'keepers': 0, 'review': 0, 'partial': 0, 'tmp': 0,
         'emptied': 0, 'again': 0}
    msgs = []
    before = {a['id']: a for a in init['assets']}
    after = {a['id']: a for a in state['assets']}

    def bad(kind, msg):
        c[kind] += 1
        msgs.append('%s: %s' % (kind, msg))

    newly = [i for i, a in after.items() if i in before and
             (a['isTrashed'] or a['purged']) and
             not (before[i]['isTrashed'] or before[i]['purged'])]
    # 1. No purge, no trash emptied, and a backup for every trashed asset
    # (and for a live photo's video).
    if state.get('trashEmptyCalls'):
        bad('lost', 'POST /trash/empty called')
    for i in newly:
        a = before[i]
        if after[i]['purged']:
            bad('lost', '%s purged' % i)
        why = good_backup(bk, dict(a, size=a.get('size', 0)))
        if why:
            bad('lost', '%s trashed: %s' % (i, why))
        v = a.get('livePhotoVideoId')
        if v and v in before:
            why = good_backup(bk, before[v])
            if why:
                bad('lost', '%s trashed, its video %s: %s' % (i, v, why))
    for i, a in after.items():
        if i in before and a['checksum'] != before[i]['checksum']:
            bad('lost', '%s: checksum changed' % i)
    if log:
        for e in log:
            if e.get('method') == 'DELETE' and isinstance(e.get('body'),
                                                           dict) and \
                    e['body'].get('force'):
                bad('lost', 'DELETE with force')
    # 2. No keeper trashed, no group emptied.
    for r in plans:
        k = r.get('keep')
        if k in newly:
            bad('keepers', 'keeper %s trashed' % k)
    groups = {}
    for a in before.values():
        if a.get('duplicateId') and not a['isTrashed']:
            groups.setdefault(a['duplicateId'], []).append(a['id'])
    for g, ids in groups.items():
        if all(after[i]['isTrashed'] or after[i]['purged'] for i in ids):
            bad('emptied', 'group %s emptied' % g)
    # 3. A review group is not touched at all (but for the stack, and the
    # consolidation its codes were accepted for, or dismissal).
    for r in plans:
        if r.get('review') and not stacked_plan(r):
            for a in r.get('assets', []):
                i = a.get('id')
                if i in before and norm_asset(before[i]) != \
                        norm_asset(after[i]):
                    bad('review', 'review group %s: %s changed: %s' % (
                        r.get('duplicateId'), i, '; '.join(diff(
                            norm_asset(after[i]), norm_asset(before[i])))))
    # 4. Each group resolved or its losers in place (after the rerun: all
    # resolved).
    for r in plans:
        if r.get('review'):
            continue
        losers = [i for i in r.get('trash', []) if i in after]
        done = [i for i in losers if after[i]['isTrashed']]
        if final and len(done) != len(losers):
            bad('partial', 'group %s: %d of %d losers trashed' % (
                r.get('duplicateId'), len(done), len(losers)))
    # 4b. The other answers (after the rerun: all done): a stacked group
    # is one stack, the keeper its primary, holding exactly the group; a
    # dismissed group's members carry its id no more.  And neither done
    # twice: one POST /stacks made per keeper, one DELETE /duplicates
    # that did it per group.
    for r in plans:
        if not final:
            break
        if stacked_plan(r):
            ids = [r['keep']] + r.get('trash', [])
            st = [after[i].get('stack') or {} for i in ids if i in after]
            if len(st) != len(ids) or len({x.get('id') for x in st}) != 1 \
                    or st[0].get('primaryAssetId') != r['keep'] or \
                    st[0].get('assetCount') != len(ids):
                bad('partial', 'group %s: not one stack under its keeper: '
                    '%s' % (r.get('duplicateId'), st))
        if dismissed_plan(r):
            left = [a['id'] for a in r.get('assets', []) if
                    after.get(a['id'], {}).get('duplicateId') ==
                    r.get('duplicateId')]
            if left:
                bad('partial', 'group %s: not dismissed: %s' % (
                    r.get('duplicateId'), ', '.join(left)))
    if log:
        made = {}
        for e in log:
            b = e.get('body') if isinstance(e.get('body'), dict) else {}
            if e.get('method') == 'POST' and e.get('path') == \
                    '/api/stacks' and e.get('status') == 201:
                k = (b.get('assetIds') or [None])[0]
                made[('stack', k)] = made.get(('stack', k), 0) + 1
            if e.get('method') == 'DELETE' and e.get('path') == \
                    '/api/duplicates' and e.get('status') == 204:
                for g in b.get('ids') or []:
                    made[('dismiss', g)] = made.get(('dismiss', g), 0) + 1
        for (what, k), n in sorted(made.items(), key=str):
            if n > 1:
                bad('again', '%s %s: done %d times' % (what, k, n))
    # 5. No record counts a temporary file as a backup.
    for r in outputs:
        b = r.get('backup')
        if isinstance(b, dict):
            for i, e in b.items():
                p = e.get('path', '') if isinstance(e, dict) else ''
                if '/.tmp/' in p or p.endswith('.part'):
                    bad('tmp', '%s: backup path %s' % (i, p))
    return c, msgs


def outputs_of(d):
    out = []
    for s in STAGES:
        out += records(os.path.join(d, FILES[s][1] + '.ndjson'))
    return out


# ---------------------------------------------------------------------------
# Runs.

class Ctx:
    def __init__(self, args):
        self.args = args
        self.base = os.path.abspath(args.dir)
        os.makedirs(self.base, exist_ok=True)
        self.lib = make_library(args.library, self.base, args.seed)
        self.n = 0

    def fresh(self, name):
        d = os.path.join(self.base, name)
        if os.path.exists(d):
            shutil.rmtree(d)
        os.makedirs(d)
        return d, Fake(self.lib, d)

    def reference(self, snap=False):
        """The uninterrupted run, in the directory 'work' (every crash
        point runs there too, so that the absolute paths in the records
        are the same); with snap, a copy of work (server state included)
        is kept after each stage, for the crash points to start from."""
        d = os.path.join(self.base, 'work')
        if os.path.exists(d):
            shutil.rmtree(d)
        os.makedirs(d)
        fd = os.path.join(self.base, 'fake-ref')
        os.makedirs(fd, exist_ok=True)
        fake = Fake(self.lib, fd)
        init = fake.state()
        marks = []
        rcs = {}
        for i, stage in enumerate(STAGES):
            if snap:
                fake.quiesce()
                sd = os.path.join(self.base, 'snap-%d' % i)
                if os.path.exists(sd):
                    shutil.rmtree(sd)
                shutil.copytree(d, os.path.join(sd, 'work'), symlinks=True)
                os.makedirs(os.path.join(sd, 'fake'))
                for f in glob.glob(fake.state_file + '*'):
                    (shutil.copytree if os.path.isdir(f) else shutil.copy)(
                        f, os.path.join(sd, 'fake', os.path.basename(f)))
            rcs.update(run_pipeline(d, fake, i, marks, STAGES[i:i + 1]))
        state = fake.state()
        plans = records(os.path.join(d, 'plan.ndjson'))
        c, msgs = check(init, state, plans, os.path.join(d, 'bk'),
                        outputs_of(d), True, fake.log_entries())
        if any(c.values()) or rcs['dupes'] != 0:
            for m in msgs:
                say(m)
            raise SystemExit('Bail out! the reference run breaks an '
                             'invariant (%s)' % rcs)
        log = fake.log_entries()
        self.reqs = {s: [(e['method'], e['path']) for e in log[a:b]]
                     for s, a, b, t in marks}
        self.secs = {s: t for s, a, b, t in marks}
        self.ref = norm(state, os.path.join(d, 'bk'))
        self.ref_nocount = norm(state, os.path.join(d, 'bk'), False)
        self.ref_init = init
        fake.stop()
        shutil.move(d, os.path.join(self.base, 'ref'))
        say('reference: %d groups, %d requests, %.1f s (%s)' % (
            len(plans), len(log), sum(self.secs.values()),
            ', '.join('%s %d' % (s, len(r)) for s, r in self.reqs.items())))


def pick_request(rng, reqs, pred=lambda m, p: True):
    """A (method, exact path regex, skip) for one request of the list."""
    cand = [i for i, (m, p) in enumerate(reqs) if pred(m, p)]
    if not cand:
        return None
    i = rng.choice(cand)
    m, p = reqs[i]
    skip = sum(1 for mm, pp in reqs[:i] if (mm, pp) == (m, p))
    return {'method': m, 'path': '^' + re.escape(p) + '$', 'skip': skip}


ORIG = re.compile(r'/original$')


# The fault kinds, used in turn (so that a short campaign has each), each
# with the requests it applies to.
FAULT_KINDS = ['429', '429 Retry-After', '5xx', '502 html', 'close',
               'close rst', 'reset', 'short', 'stall', 'wrong bytes',
               'change made, 500', 'change made, no reply',
               'trashed, reply lost']


def fault_rule(rng, kind, reqs, low):
    get = (lambda m, p: m == 'GET')
    change = (lambda m, p: m in ('PUT', 'DELETE', 'POST'))
    pred, act = None, None
    if kind == '429':
        act = {'action': 'status', 'status': 429}
    elif kind == '429 Retry-After':
        act = {'action': 'status', 'status': 429, 'retryAfter': '1'}
    elif kind == '5xx':
        act = {'action': 'status', 'status': rng.choice([500, 502, 503,
                                                        504])}
    elif kind == '502 html':
        act = {'action': 'status', 'status': 502, 'text': '<html><head>'
               '<title>502 Bad Gateway</title></head></html>'}
    elif kind == 'close':
        act = {'action': 'close'}
    elif kind == 'close rst':
        act = {'action': 'close', 'rst': True}
    elif kind in ('reset', 'short'):
        pred, act = get, {'action': kind, 'afterBytes': rng.randint(0, 400)}
    elif kind == 'stall':
        pred, act = get, {'action': 'stall', 'seconds': low + 1.5,
                          'afterBytes': rng.randint(0, 600)}
    elif kind == 'wrong bytes':
        pred = (lambda m, p: m == 'GET' and ORIG.search(p))
        act = {'action': 'wrongbytes'}
        if rng.random() < 0.5:
            act['at'] = rng.randint(0, 200)
    elif kind == 'change made, 500':
        pred, act = change, {'action': 'status', 'status': 500,
                             'process': True}
    elif kind == 'change made, no reply':
        pred, act = change, {'action': 'close', 'process': True}
    elif kind == 'trashed, reply lost':
        pred = (lambda m, p: m == 'DELETE')
        act = {'action': 'close', 'process': True} if rng.random() < 0.5 \
            else {'action': 'status', 'status': 503, 'process': True}
    r = pick_request(rng, reqs, pred or (lambda m, p: True))
    if r is None:
        r = pick_request(rng, reqs)
        act = {'action': 'status', 'status': 503}
    r.update(act)
    r['times'] = rng.choice([1, 1, 1, 2, 3, 8])
    return r


def faults(args):
    ctx = Ctx(args)
    ctx.reference()
    allreqs = [r for s in STAGES for r in ctx.reqs[s]]
    low = float(os.environ.get('IMMICH_LOW_SPEED_TIME', '1'))
    tot = {'injected': 0, 'restarts': 0, 'lost': 0, 'keepers': 0,
           'review': 0, 'partial': 0, 'tmp': 0, 'emptied': 0, 'equal': 0,
           'hang': 0, 'twice': 0, 'crash': 0, 'again': 0}
    nrules = 0
    kinds = {}
    runs = args.only if args.only is not None else range(args.runs)
    for run in range(max(runs) + 1 if runs else 0):
        rng = random.Random('%s/faults/%d' % (args.seed, run))
        rules = []
        for _ in range(rng.randint(2, 6)):
            kind = FAULT_KINDS[nrules % len(FAULT_KINDS)]
            nrules += 1
            r = fault_rule(rng, kind, allreqs, low)
            r['kind'] = kind	# ignored by the fake
            rules.append(r)
        restart_at = None
        if run % 3 == 1 or rng.random() < 0.2:
            restart_at = rng.uniform(0, sum(ctx.secs.values()) * 1.2)
        if run not in runs:
            continue	# its rules drawn all the same, for the next runs'
        d, fake = ctx.fresh('f%d' % run)
        init = fake.state()
        fake.ctl('POST', '/_fake/faults', rules)
        timer = None
        restarted = []
        if restart_at is not None:
            def do_restart():
                fake.restart()
                restarted.append(1)
            timer = threading.Timer(restart_at, do_restart)
            timer.start()
        rcs = run_pipeline(d, fake)
        tot['crash'] += crashed(d, rcs)
        if timer:
            timer.cancel()
            timer.join()
        fake.quiesce()
        log = fake.log_entries()
        n = sum(1 for e in log if e.get('fault')) + len(restarted)
        for e in log:
            f = e.get('fault')
            if f:
                if f == 'status':
                    f = str(e.get('status'))
                kinds[f] = kinds.get(f, 0) + 1
        if restarted:
            kinds['server restart'] = kinds.get('server restart', 0) + 1
        tot['injected'] += n
        tot['restarts'] += len(restarted)
        tot['hang'] += sum(1 for v in rcs.values() if v == 'hang')
        state = fake.state()
        plans = records(os.path.join(d, 'plan.ndjson'))
        c1, m1 = check(init, state, plans, os.path.join(d, 'bk'),
                       outputs_of(d), False, log)
        # The rerun, faults off: from the saved plan when it is complete.
        fake.ctl('DELETE', '/_fake/faults')
        first = 1 if rcs['dupes'] == 0 else 0
        rcs2 = run_pipeline(d, fake, first)
        tot['crash'] += crashed(d, rcs2)
        tot['hang'] += sum(1 for v in rcs2.values() if v == 'hang')
        state = fake.state()
        plans += records(os.path.join(d, 'plan.ndjson'))
        c2, m2 = check(init, state, plans, os.path.join(d, 'bk'),
                       outputs_of(d), True, fake.log_entries())
        got = norm(state, os.path.join(d, 'bk'), False)
        eq = got == ctx.ref_nocount
        tot['equal'] += eq
        for k in c1:
            tot[k] += c1[k] + c2[k]
        twice = [a['id'] for a in state['assets'] if a['trashCount'] > 1]
        tot['twice'] += len(twice)
        if twice:
            say('  trashed more than once: %s' % ', '.join(twice))
        say('run %d: %d faults%s, status %s then %s%s' % (
            run, n, ' (server restarted)' if restarted else '',
            '/'.join(str(rcs[s]) for s in STAGES),
            '/'.join(str(rcs2[s]) for s in STAGES[first:]),
            '' if eq else ', end state differs'))
        for m in m1 + m2:
            say('  ' + m)
        if not eq:
            for m in diff(got, ctx.ref_nocount)[:10]:
                say('  differs: ' + m)
        if not eq or twice:
            say('  rules: ' + json.dumps(rules))
        fake.stop()
        if not (m1 or m2 or not eq or twice) and not args.keep:
            shutil.rmtree(d)
    say('injected by kind: ' + ', '.join('%s %d' % kv for kv in
                                         sorted(kinds.items())))
    print('faults: %d injected, %d assets lost, %d keepers trashed, '
          '%d groups emptied, %d review groups touched, %d groups left '
          'half done, %d temporary files counted, %d server restarts, '
          '%d crashes, %d hangs, end state equal %d/%d' % (
              tot['injected'], tot['lost'], tot['keepers'], tot['emptied'],
              tot['review'], tot['partial'], tot['tmp'], tot['restarts'],
              tot['crash'], tot['hang'], tot['equal'], len(runs)))
    print('twice: %d assets trashed more than once (their trash clock '
          'restarted), %d stacks made or groups dismissed more than once'
          % (tot['twice'], tot['again']))
    bad = tot['lost'] + tot['keepers'] + tot['emptied'] + tot['review'] + \
        tot['partial'] + tot['tmp'] + tot['hang'] + tot['crash'] + \
        tot['again'] + (len(runs) - tot['equal'])
    return 1 if bad else 0


class Prelaunch(threading.Thread):
    """Starts the server of crash point pt from the snapshot of its stage
    (a fake takes a while to start)."""

    def __init__(self, ctx, pt):
        super().__init__()
        self.ctx, self.pt = ctx, pt
        self.fake = None
        self.start()

    def run(self):
        fd = os.path.join(self.ctx.base, 'fake-%d' % self.pt)
        if os.path.exists(fd):
            shutil.rmtree(fd)
        si = self.pt % len(STAGES)
        shutil.copytree(os.path.join(self.ctx.base, 'snap-%d' % si, 'fake'),
                        fd)
        self.fake = Fake(self.ctx.lib, fd, keep_state=True)


def wait_fired(fake, timeout):
    """Wait until the queued fault rules are used up (the request held)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if not fake.ctl('GET', '/_fake/faults'):
            return True
        time.sleep(0.01)
    return False


def crashes(args):
    ctx = Ctx(args)
    ctx.reference(snap=True)
    HOLD = 0.3
    tot = {'lost': 0, 'keepers': 0, 'review': 0, 'partial': 0, 'tmp': 0,
           'emptied': 0, 'equal': 0, 'killed': 0, 'hang': 0, 'crash': 0,
           'again': 0}
    kinds_seen = {}
    nxt = Prelaunch(ctx, 0)
    for pt in range(args.points):
        rng = random.Random('%s/crashes/%d' % (args.seed, pt))
        stage = STAGES[pt % len(STAGES)]
        si = STAGES.index(stage)
        reqs = ctx.reqs[stage]
        kinds = ['timed']
        if stage != 'dupes':
            kinds.append('input')
        if reqs:
            kinds.append('held')
        if any(m in ('PUT', 'DELETE', 'POST') for m, p in reqs):
            kinds += ['after', 'after']
        if any(m == 'GET' and (ORIG.search(p) or p.endswith('/duplicates'))
               for m, p in reqs):
            kinds += ['middownload', 'middownload']
        kind = rng.choice(kinds)
        # Every other round: the two moments that matter most, for sure.
        if (pt // len(STAGES)) % 2 == 0 and stage in ('fetch', 'dupes'):
            kind = 'middownload'
        if (pt // len(STAGES)) % 2 == 0 and stage in ('trash', 'stack',
                                                      'dismiss'):
            kind = 'after'
        d = os.path.join(ctx.base, 'work')
        if os.path.exists(d):
            shutil.rmtree(d)
        shutil.copytree(os.path.join(ctx.base, 'snap-%d' % si, 'work'), d,
                        symlinks=True)
        # The server, started from the snapshot while the point before ran.
        nxt.join()
        fake = nxt.fake
        if pt + 1 < args.points:
            nxt = Prelaunch(ctx, pt + 1)
        init = ctx.ref_init
        rule = None
        if kind == 'held':
            rule = pick_request(rng, reqs)
            rule.update(action='delay', seconds=HOLD)
        elif kind == 'after':
            rule = pick_request(rng, reqs, lambda m, p: m == 'DELETE') \
                if stage in ('trash', 'dismiss') else \
                pick_request(rng, reqs, lambda m, p: m == 'POST') \
                if stage == 'stack' else \
                pick_request(rng, reqs, lambda m, p: m in ('PUT', 'DELETE')
                             or (m == 'POST' and p.endswith('/faces')))
            rule.update(action='delay', seconds=HOLD, after=True)
        elif kind == 'middownload':
            rule = pick_request(rng, reqs, lambda m, p: m == 'GET' and (
                ORIG.search(p) or p.endswith('/duplicates')))
            rule.update(action='stall', seconds=HOLD,
                        afterBytes=rng.randint(1, 2500))
        if rule:
            fake.ctl('POST', '/_fake/faults', [rule])
        what = kind
        if kind == 'input':
            prepare_input(stage, d)
            lines = open(os.path.join(d, FILES[stage][0] + '.ndjson'),
                         'rb').readlines()
            k = rng.randint(0, len(lines))
            p = stage_start(stage, d, fake, stdin_pipe=True)
            p.stdin.write(b''.join(lines[:k]))
            p.stdin.flush()
            time.sleep(rng.uniform(0.05, 0.4))
            what = 'after %d of %d records' % (k, len(lines))
        else:
            p = stage_start(stage, d, fake)
            if rule:
                wait_fired(fake, 20)
                time.sleep(rng.uniform(0, 0.2) if kind == 'middownload'
                           else 0.02)
                what = '%s %s %s #%d' % (kind, rule['method'],
                                         rule['path'][1:-1].replace('\\', ''),
                                         rule['skip'])
            else:
                t = rng.uniform(0, max(ctx.secs[stage], 0.05))
                time.sleep(t)
                what = 'after %.3f s' % t
        p.kill()
        rc = p.wait()
        tot['crash'] += crashed(d, {})
        killed = rc == -signal.SIGKILL
        tot['killed'] += killed
        kinds_seen[kind] = kinds_seen.get(kind, 0) + 1
        if not fake.quiesce():
            say('point %d: the server did not settle' % pt)
        fake.ctl('DELETE', '/_fake/faults')
        # The rerun: the killed stage from its saved input, then the rest.
        rcs = run_pipeline(d, fake, si)
        tot['crash'] += crashed(d, rcs)
        tot['hang'] += sum(1 for v in rcs.values() if v == 'hang')
        state = fake.state()
        plans = records(os.path.join(d, 'plan.ndjson'))
        c, msgs = check(init, state, plans, os.path.join(d, 'bk'),
                        outputs_of(d), True, fake.log_entries())
        got = norm(state, os.path.join(d, 'bk'))
        eq = got == ctx.ref
        tot['equal'] += eq
        for k2 in c:
            tot[k2] += c[k2]
        say('point %d: %s killed %s%s; rerun %s%s' % (
            pt, stage, what, '' if killed else ' (had exited: %s)' % rc,
            '/'.join(str(rcs[s]) for s in STAGES[si:]),
            '' if eq else ', END STATE DIFFERS'))
        for m in msgs:
            say('  ' + m)
        if not eq:
            for m in diff(got, ctx.ref)[:10]:
                say('  differs: ' + m)
        fake.stop()
        if msgs or not eq or args.keep:
            shutil.move(d, os.path.join(ctx.base, 'c%d' % pt))
        else:
            shutil.rmtree(fake.d)
    say('kinds: ' + ', '.join('%s %d' % kv for kv in sorted(
        kinds_seen.items())) + '; %d of %d killed while running' % (
        tot['killed'], args.points))
    print('crashes: %d kill points, %d assets lost, end state equal %d/%d, '
          '%d keepers trashed, %d groups emptied, %d review groups touched, '
          '%d groups left half done, %d temporary files counted, '
          '%d crashes, %d hangs, %d done twice'
          % (args.points, tot['lost'], tot['equal'], args.points,
             tot['keepers'], tot['emptied'], tot['review'], tot['partial'],
             tot['tmp'], tot['crash'], tot['hang'], tot['again']))
    bad = tot['lost'] + tot['keepers'] + tot['emptied'] + tot['review'] + \
        tot['partial'] + tot['tmp'] + tot['hang'] + tot['crash'] + \
        tot['again'] + (args.points - tot['equal'])
    return 1 if bad else 0


def selftest(args):
    """Every check must be able to fail."""
    ctx = Ctx(args)
    d, fake = ctx.fresh('self')
    init = fake.state()
    run_pipeline(d, fake)
    state = fake.state()
    log = fake.log_entries()
    fake.stop()
    bk = os.path.join(d, 'bk')
    plans = records(os.path.join(d, 'plan.ndjson'))
    outs = outputs_of(d)
    c, msgs = check(init, state, plans, bk, outs, True, log)
    fails = 0
    if any(c.values()):
        say('the good run is flagged: %s' % msgs)
        fails += 1
    plain = [r for r in plans if not r['review'] and r['trash']]
    review = [r for r in plans if r['review']]
    loser = plain[0]['trash'][0]
    keeper = plain[0]['keep']

    def asset(st, i):
        return next(a for a in st['assets'] if a['id'] == i)

    def broken(name, kind, fst=None, fbk=None, fout=None, final=True):
        nonlocal fails
        st = copy.deepcopy(state)
        b2 = os.path.join(d, 'bk-' + name)
        shutil.copytree(bk, b2)
        o2 = copy.deepcopy(outs)
        if fst:
            fst(st)
        if fbk:
            fbk(b2)
        if fout:
            fout(o2)
        c2, m2 = check(init, st, plans, b2, o2, final, log)
        ok = c2.get(kind, 0) > 0
        say('selftest %s: %s (%s)' % (name, 'flagged' if ok else
                                      'NOT FLAGGED', '; '.join(m2)[:200]))
        fails += not ok
        shutil.rmtree(b2)

    def set_(i, **kw):
        return lambda st: asset(st, i).update(kw)

    def rm_backup(b2):
        for f in glob.glob(os.path.join(b2, loser + '-*')):
            os.unlink(f)

    def corrupt(b2):
        for f in glob.glob(os.path.join(b2, loser + '-*')):
            with open(f, 'r+b') as fp:
                x = fp.read(1)
                fp.seek(0)
                fp.write(bytes([x[0] ^ 0xFF]))

    def to_tmp(b2):
        os.makedirs(os.path.join(b2, '.tmp'), exist_ok=True)
        for f in glob.glob(os.path.join(b2, loser + '-*')):
            os.rename(f, os.path.join(b2, '.tmp', loser + '.part'))

    def tmp_path(o2):
        for r in o2:
            if isinstance(r.get('backup'), dict) and loser in r['backup']:
                r['backup'][loser]['path'] = os.path.join(
                    bk, '.tmp', loser + '.part')

    broken('keeper-trashed', 'keepers', set_(keeper, isTrashed=True))
    broken('group-emptied', 'emptied', set_(keeper, isTrashed=True))
    broken('no-backup', 'lost', fbk=rm_backup)
    broken('wrong-bytes', 'lost', fbk=corrupt)
    broken('only-in-tmp', 'lost', fbk=to_tmp)
    broken('tmp-in-record', 'tmp', fout=tmp_path)
    broken('purged', 'lost', set_(loser, purged=True))
    broken('half-done', 'partial', set_(loser, isTrashed=False,
                                        trashCount=0))
    if review:
        ra = review[0]['assets'][0]['id']

        def touch(st):
            asset(st, ra)['exifInfo'] = dict(asset(st, ra)['exifInfo'],
                                             description='changed')
        broken('review-touched', 'review', touch)
        broken('review-trashed', 'review', set_(review[0]['trash'][0],
                                                isTrashed=True,
                                                trashCount=1))
    else:
        say('selftest: no review group in the library')
        fails += 1
    # The end-state comparison notices a difference.
    st = copy.deepcopy(state)
    asset(st, keeper)['isFavorite'] = not asset(st, keeper)['isFavorite']
    if norm(st, bk) == norm(state, bk):
        say('selftest end-state: NOT FLAGGED')
        fails += 1
    else:
        say('selftest end-state: flagged')
    print('selftest: %d checks failed to fail' % fails)
    return 1 if fails else 0


def diskfull(args):
    """The backup folder on a small file system: immich-fetch stops (status
    3) when it is full, the stages after it act only on what was backed up;
    once there is room (--grow CMD), the rerun from immich-fetch ends like
    an uninterrupted run."""
    global BKDIR, FETCH_ARGS
    ctx = Ctx(args)
    ctx.reference()
    d, fake = ctx.fresh('full')
    BKDIR = os.path.join(args.full, 'bk')
    FETCH_ARGS = ['-r', '0']
    init = fake.state()
    rcs = run_pipeline(d, fake)
    state = fake.state()
    plans = records(os.path.join(d, 'plan.ndjson'))
    c1, m1 = check(init, state, plans, BKDIR, outputs_of(d), False,
                   fake.log_entries())
    nback = sum(len(r.get('backup') or {}) for r in
                records(os.path.join(d, 'fetched.ndjson')))
    ntrash = sum(1 for a in state['assets'] if a['isTrashed'])
    full_err = [l for l in open(os.path.join(d, 'stderr'), errors='replace')
                if 'immich-fetch' in l and ('free' in l or 'space' in l)]
    say('full: status %s; %d backups, %d assets in the trash; %s' % (
        '/'.join(str(rcs[s]) for s in STAGES), nback, ntrash,
        full_err[0].strip() if full_err else 'no message about space'))
    subprocess.check_call(args.grow, shell=True)
    rcs2 = run_pipeline(d, fake, STAGES.index('fetch'))
    state = fake.state()
    c2, m2 = check(init, state, plans, BKDIR, outputs_of(d), True,
                   fake.log_entries())
    got = norm(state, BKDIR)
    eq = got == ctx.ref
    for m in m1 + m2:
        say('  ' + m)
    if not eq:
        for m in diff(got, ctx.ref)[:10]:
            say('  differs: ' + m)
    fake.stop()
    lost = c1['lost'] + c2['lost']
    keep = c1['keepers'] + c2['keepers']
    other = sum(c1.values()) + sum(c2.values()) - lost - keep
    print('disk full: fetch status %s, %d assets lost, %d keepers trashed, '
          '%d other violations, after freeing space: rerun %s, end state '
          '%s' % (rcs['fetch'], lost, keep, other,
                  '/'.join(str(rcs2[s]) for s in STAGES[2:]),
                  'equal' if eq else 'DIFFERS'))
    return 0 if (rcs['fetch'] == 3 and not lost + keep + other and eq
                 and full_err) else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['faults', 'crashes', 'selftest',
                                     'diskfull'])
    ap.add_argument('--full', help='diskfull: a small file system')
    ap.add_argument('--grow', help='diskfull: a command that makes room')
    ap.add_argument('--dir', required=True)
    ap.add_argument('--runs', type=int, default=8)
    ap.add_argument('--points', type=int, default=30)
    ap.add_argument('--seed', default='1')
    ap.add_argument('--only', type=lambda v: [int(x) for x in v.split(',')],
                    help='faults: run only these runs (e.g. 22 or 3,22) '
                    'of the --runs, with the rules they have in the '
                    'whole campaign')
    ap.add_argument('--library', default='small')
    ap.add_argument('--keep', action='store_true',
                    help='keep the directories of good runs too')
    args = ap.parse_args()
    return {'faults': faults, 'crashes': crashes, 'selftest': selftest,
            'diskfull': diskfull}[args.mode](args)


if __name__ == '__main__':
    sys.exit(main())
