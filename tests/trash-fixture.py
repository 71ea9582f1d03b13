#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Fixtures for the immich-trash and immich-restore tests.

  trash-fixture.py DIR CASE...

Writes DIR/lib.json (a fake-server library: one group per CASE, a keeper
and a loser, the loser of case "live*" with a live-photo video), the
backup files and sidecars under DIR/backup/ (bytes identical to the
server's, as immich-fetch would leave them), and DIR/CASE.ndjson: the
record as immich-verify would pass it on, with every precondition of
immich-trash holding (for a case "swap*", also DIR/CASE-b.ndjson: the
same group with keeper and loser swapped; for a case "people*", people on
the server's assets).  The case name picks what to break afterwards
(the test does that).  Ids: DIR/ids.sh sets K_CASE, L_CASE, V_CASE.
"""
import base64
import hashlib
import json
import os
import sys

out, cases = sys.argv[1], sys.argv[2:]
bdir = os.path.join(out, 'backup')
os.makedirs(bdir, exist_ok=True)


def uid(n, m):
    return '%08x-0000-4000-8000-%012x' % (n, m)


def sha(b):
    return base64.b64encode(hashlib.sha1(b).digest()).decode()


ALBUM = uid(0xa1b, 1)
assets, albums_of = [], {}
ids = []


def dto(aid, content, name, extra=None):
    a = {'id': aid, 'type': 'IMAGE', 'originalFileName': name,
         'fileCreatedAt': '2023-05-01T10:00:00.000Z',
         'fileModifiedAt': '2023-05-01T10:00:00.000Z',
         'localDateTime': '2023-05-01T12:00:00.000Z',
         'checksum': sha(content), 'isFavorite': False,
         'visibility': 'timeline', 'isTrashed': False,
         'livePhotoVideoId': None,
         'exifInfo': {'fileSizeInByte': len(content)}}
    if extra:
        for k, v in extra.items():
            if k == 'exifInfo':
                a['exifInfo'].update(v)
            else:
                a[k] = v
    return a


def backup(aid, content, a, albums):
    p = os.path.join(bdir, aid + '-' + a['originalFileName'])
    with open(p, 'wb') as f:
        f.write(content)
    s = os.path.join(bdir, aid + '.json')     # as immich-fetch writes it
    with open(s, 'w') as f:
        json.dump({'asset': a, 'albums': albums, 'tags': a.get('tags', []),
                   'file': os.path.basename(p), 'bytes': len(content),
                   'sha1': sha(content), 'checksum': sha(content)}, f)
    return {'path': os.path.abspath(p), 'bytes': len(content),
            'sha1': sha(content), 'checksum': sha(content),
            'sidecar': os.path.abspath(s)}


for i, case in enumerate(cases, 1):
    # Ids of a case "upper*" have hex letters (to test letter case).
    n = i + (0xabc00000 if case.startswith('upper') else 0)
    g = uid(n, 0)
    k, l, v = uid(n, 1), uid(n, 2), uid(n, 3)
    kc = ('keeper %s, the bigger file %s' % (case, 'x' * 40)).encode()
    lc = ('loser of case %s' % case).encode()
    vc = ('motion video of case %s' % case).encode()
    lmeta = {'exifInfo': {'description': 'caption of %s' % case,
                          'rating': 4, 'latitude': 48.85,
                          'longitude': 2.35,
                          'dateTimeOriginal': '2023-05-01T10:00:00.000Z',
                          'timeZone': 'UTC+2'},
             'isFavorite': True}
    live = case.startswith('live')
    if live:
        lmeta['livePhotoVideoId'] = v
    ka = dto(k, kc, 'IMG_%d.jpg' % i, {'duplicateId': g})
    la = dto(l, lc, 'IMG_%d-copy.jpg' % i, dict(lmeta, duplicateId=g))
    lib_k = {'id': k, 'originalFileName': ka['originalFileName'],
             'contentB64': base64.b64encode(kc).decode(), 'duplicateId': g,
             'fileCreatedAt': ka['fileCreatedAt']}
    lib_l = {'id': l, 'originalFileName': la['originalFileName'],
             'contentB64': base64.b64encode(lc).decode(), 'duplicateId': g,
             'isFavorite': True, 'exifInfo': dict(lmeta['exifInfo']),
             'fileCreatedAt': la['fileCreatedAt'],
             'fileModifiedAt': la['fileModifiedAt'],
             'tags': ['Trips/Paris']}
    la['tags'] = [{'id': uid(0x7a6, 1), 'name': 'Paris',
                   'value': 'Trips/Paris'}]
    if live:
        lib_l['livePhotoVideoId'] = v
        assets.append({'id': v, 'type': 'VIDEO',
                       'originalFileName': 'IMG_%d.mov' % i,
                       'visibility': 'hidden',
                       'contentB64': base64.b64encode(vc).decode()})
    if case.startswith('people'):
        # A case "people*": the loser shows Anna, whom someone named
        # ("peopleunnamed": a face no one named; "peopleboth": the keeper
        # shows Anna too; "peoplecopy": both sized 4:3).
        anna = {'id': uid(0xb0b, 1), 'name': 'Anna'}
        lib_l['people'] = [{'id': uid(0xb0b, 2), 'name': ''}] \
            if case == 'peopleunnamed' else [anna]
        if case == 'peopleboth':
            lib_k['people'] = [anna]
        if case == 'peoplecopy':   # so that immich-consolidate can copy
            lib_k.update(width=400, height=300)
            lib_l.update(width=200, height=150)
    assets += [lib_k, lib_l]
    albums_of.setdefault(ALBUM, []).append(l)
    bk = {l: backup(l, lc, la, [{'id': ALBUM, 'albumName': 'Trip'}])}
    ver = {l: {'ok': True, 'sha1': sha(lc), 'bytes': len(lc)}}
    if live:
        va = dto(v, vc, 'IMG_%d.mov' % i, {'type': 'VIDEO',
                                             'visibility': 'hidden'})
        bk[l]['video'] = v
        bk[v] = backup(v, vc, va, [])
        bk[v]['livePhotoOf'] = l
        ver[v] = {'ok': True, 'sha1': sha(vc), 'bytes': len(vc)}
    rec = {'duplicateId': g, 'assets': [ka, la],
           'suggestedKeepAssetIds': [k], 'keep': k, 'trash': [l],
           'why': 'largest file', 'review': [],
           'consolidated': {'changes': [], 'confirmed': True,
                            'keep': k, 'losers': [l],
                            'albums': {l: [{'id': ALBUM,
                                            'albumName': 'Trip'}]}},
           'backup': bk, 'verified': ver}
    with open(os.path.join(out, case + '.ndjson'), 'w') as f:
        f.write(json.dumps(rec) + '\n')
    if case.startswith('swap'):
        # The same group with the roles swapped (keep the loser, trash
        # the keeper), its keeper backed up: DIR/CASE-b.ndjson.
        kb = backup(k, kc, ka, [])
        rb = dict(rec, keep=l, trash=[k], suggestedKeepAssetIds=[l],
                  backup={k: kb},
                  verified={k: {'ok': True, 'sha1': sha(kc),
                                'bytes': len(kc)}},
                  consolidated={'changes': [], 'confirmed': True,
                                'keep': l, 'losers': [k],
                                'albums': {k: []}})
        with open(os.path.join(out, case + '-b.ndjson'), 'w') as f:
            f.write(json.dumps(rb) + '\n')
    ids.append('K_%s=%s L_%s=%s V_%s=%s' % (case, k, case, l, case, v))

# Tag ids are made by the server; the sidecar's tag id is a placeholder
# that the test replaces with the server's.
with open(os.path.join(out, 'lib.json'), 'w') as f:
    json.dump({'assets': assets,
               'tags': [{'id': uid(0x7a6, 1), 'value': 'Trips/Paris'}],
               'albums': [{'id': ALBUM, 'albumName': 'Trip',
                           'assetIds': albums_of.get(ALBUM, [])}]}, f)
with open(os.path.join(out, 'ids.sh'), 'w') as f:
    f.write('\n'.join(ids) + '\nALBUM=%s\n' % ALBUM)
