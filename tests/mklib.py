#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Generate library JSON files for the fake Immich server (tests/fake_immich.py).

  mklib.py --groups N [--seed S] [--size BYTES] [--members K]
      N duplicate groups of K (default 2) assets with random but seeded
      metadata.  Bytes are size+seed (streamed by the fake), BYTES each on
      average (default 20000).  For tests and benchmarks.
  mklib.py --groups N --plain [--albums A] [--moving M]
      N pairs with nothing to move (both members carry the same metadata),
      spread over A albums (both members in the album); plus M pairs whose
      loser alone has GPS, a description, a rating, a favourite, an album
      and a tag (metadata to move).  For the request-count test.
  mklib.py --kinds [--seed S] [--size BYTES]
      The "every kind of group" library: one group of each kind below.
  Common options: --no-trash (features.trash false), --api-key KEY.

Output (stdout) is a library JSON.  Besides what the fake reads, it has
  "groups": {KIND: duplicateId}   (--kinds) to find a group by kind, and
every asset has a "label" "KIND/ROLE" (keeper = the server's suggested keeper,
i.e. the largest file; loser, video, ...) that shows in /_fake/state only.

Kinds: plain, loser-metadata (GPS, description, rating, favourite, album, tag
only on the loser), gps-conflict, date-conflict, make-on-loser,
edited-loser, external-loser, live-photo-loser (its motion video is a hidden
VIDEO asset), raw-jpeg, video-durations (3 s apart), mixed-types
(IMAGE+VIDEO), triple, trashed-member (three assets, one in the trash).
"""

import argparse
import json
import random
import sys
import uuid

CAMERAS = [('Canon', 'Canon EOS R6', 'RF24-105mm F4 L IS USM'),
           ('NIKON CORPORATION', 'NIKON Z 6_2', 'NIKKOR Z 24-70mm f/4 S'),
           ('SONY', 'ILCE-7M3', 'FE 28-70mm F3.5-5.6 OSS'),
           ('Apple', 'iPhone 13', 'iPhone 13 back dual wide camera 5.1mm f/1.6'),
           ('samsung', 'SM-G991B', None)]
PLACES = [(48.8584, 2.2945, 'Paris', 'Île-de-France', 'France'),
          (51.5007, -0.1246, 'London', 'England', 'United Kingdom'),
          (40.6892, -74.0445, 'New York', 'New York', 'United States of America'),
          (35.6586, 139.7454, 'Tokyo', 'Tokyo', 'Japan'),
          (-33.8568, 151.2153, 'Sydney', 'New South Wales', 'Australia')]


class Gen:
    def __init__(self, seed, size):
        self.rng = random.Random(seed)
        self.size = size
        self.n = 0
        self.assets = []
        self.albums = []

    def uuid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def when(self):
        y = self.rng.randint(2015, 2025)
        mo = self.rng.randint(1, 12)
        d = self.rng.randint(1, 28)
        h, mi, s = (self.rng.randint(0, 23), self.rng.randint(0, 59),
                    self.rng.randint(0, 59))
        return y, mo, d, h, mi, s

    def exif(self, when=None, tz=1, camera=True, size=None):
        y, mo, d, h, mi, s = when or self.when()
        ex = {'dateTimeOriginal': '%04d-%02d-%02dT%02d:%02d:%02d.000Z'
              % (y, mo, d, h, mi, s),
              'timeZone': 'UTC+%d' % tz if tz else 'UTC',
              'orientation': '1', 'projectionType': None}
        ex['modifyDate'] = ex['dateTimeOriginal']
        if camera:
            make, model, lens = self.rng.choice(CAMERAS)
            ex.update({'make': make, 'model': model, 'lensModel': lens,
                       'fNumber': self.rng.choice([1.8, 2.8, 4.0, 5.6, 8.0]),
                       'focalLength': float(self.rng.choice([24, 35, 50, 70])),
                       'iso': self.rng.choice([100, 200, 400, 800, 1600]),
                       'exposureTime': self.rng.choice(['1/60', '1/125',
                                                        '1/250', '1/1000'])})
        ex['exifImageWidth'] = 4000
        ex['exifImageHeight'] = 3000
        return ex

    def asset(self, label, name, size=None, exif=None, **kw):
        self.n += 1
        aid = self.uuid()
        size = size if size is not None else \
            int(self.size * self.rng.uniform(0.5, 1.5))
        a = {'id': aid, 'label': label, 'originalFileName': name,
             'size': size, 'seed': aid, 'width': 4000, 'height': 3000}
        if exif is not None:
            exif = dict(exif)
            exif['fileSizeInByte'] = size
            a['exifInfo'] = exif
            if exif.get('dateTimeOriginal'):
                a['fileCreatedAt'] = exif['dateTimeOriginal']
                a['fileModifiedAt'] = exif['dateTimeOriginal']
        a.update(kw)
        self.assets.append(a)
        return a

    def group(self, members):
        gid = self.uuid()
        for a in members:
            a['duplicateId'] = gid
        return gid


def simple(g, n, k):
    for i in range(n):
        ex = g.exif(tz=g.rng.randint(-8, 9))
        if g.rng.random() < 0.3:
            lat, lon, city, state, country = g.rng.choice(PLACES)
            ex.update({'latitude': lat, 'longitude': lon, 'city': city,
                       'state': state, 'country': country})
        members = []
        for j in range(k):
            e = dict(ex)
            if g.rng.random() < 0.2:
                e['rating'] = g.rng.randint(1, 5)
            if g.rng.random() < 0.1:
                e['description'] = 'note %d.%d' % (i, j)
            members.append(g.asset('g%d/%d' % (i, j),
                                   'IMG_%04d%s.jpg' % (i, '' if j == 0 else
                                                       '-%d' % j),
                                   exif=e,
                                   isFavorite=g.rng.random() < 0.1))
        g.group(members)


def plain(g, n, nalbums, moving):
    albums = [{'id': g.uuid(), 'albumName': 'Album %d' % i, 'assetIds': []}
              for i in range(nalbums)]
    for i in range(n):
        ex = g.exif(tz=1)
        members = [g.asset('g%d/%s' % (i, r), 'IMG_%05d%s.jpg' % (i, x),
                           exif=ex, size=s)
                   for r, x, s in (('keeper', '', g.size),
                                   ('loser', '-1', g.size // 2))]
        if albums:
            albums[i % nalbums]['assetIds'] += [a['id'] for a in members]
        g.group(members)
    for i in range(moving):
        ex = g.exif(tz=1)
        lex = dict(ex, latitude=48.8584, longitude=2.2945,
                   description='moved %d' % i, rating=4)
        members = [g.asset('m%d/keeper' % i, 'MOV_%05d.jpg' % i, exif=ex,
                           size=g.size),
                   g.asset('m%d/loser' % i, 'MOV_%05d-1.jpg' % i, exif=lex,
                           size=g.size // 2, isFavorite=True,
                           tags=['Moved/%d' % (i % 3)])]
        if albums:
            albums[i % nalbums]['assetIds'].append(members[1]['id'])
        g.group(members)
    g.albums += albums


def kinds(g):
    groups = {}
    S = g.size
    tag_album = g.uuid()

    def pair(kind, kex=None, lex=None, kkw=None, lkw=None, kname=None,
             lname=None, ksize=None, lsize=None):
        w = g.when()
        base = g.exif(when=w)
        ke = dict(base)
        ke.update(kex or {})
        le = dict(base)
        le.update(lex or {})
        k = g.asset(kind + '/keeper', kname or 'IMG_%04d.jpg' % (g.n + 1),
                    size=ksize or 2 * S, exif=ke, **(kkw or {}))
        lo = g.asset(kind + '/loser', lname or 'IMG_%04d-copy.jpg' % g.n,
                     size=lsize or S, exif=le, **(lkw or {}))
        groups[kind] = g.group([k, lo])
        return k, lo

    pair('plain')
    k, lo = pair('loser-metadata',
                 lex={'latitude': 48.8584, 'longitude': 2.2945,
                      'city': 'Paris', 'state': 'Île-de-France',
                      'country': 'France', 'description': 'Eiffel tower',
                      'rating': 4},
                 lkw={'isFavorite': True, 'tags': ['Trips/Paris 2019']})
    g.albums.append({'id': tag_album, 'albumName': 'Paris 2019',
                     'assetIds': [lo['id']]})
    pair('gps-conflict',
         kex={'latitude': 51.5007, 'longitude': -0.1246, 'city': 'London',
              'country': 'United Kingdom'},
         lex={'latitude': 48.8584, 'longitude': 2.2945, 'city': 'Paris',
              'country': 'France'})
    y, mo, d, h, mi, s = g.when()
    pair('date-conflict',
         kex={'dateTimeOriginal': '%04d-%02d-%02dT%02d:%02d:%02d.000Z'
              % (y, mo, d, h, mi, s), 'timeZone': 'UTC+1'},
         lex={'dateTimeOriginal': '%04d-%02d-%02dT%02d:%02d:%02d.000Z'
              % (y, mo, d, (h + 5) % 24, mi, s), 'timeZone': 'UTC-4'})
    pair('make-on-loser',
         kex={'make': None, 'model': None, 'lensModel': None, 'fNumber': None,
              'focalLength': None, 'iso': None, 'exposureTime': None},
         lex={'make': 'Canon', 'model': 'Canon EOS R6'})
    pair('edited-loser', lkw={'isEdited': True})
    pair('external-loser', lkw={'libraryId': g.uuid()},
         lname='IMG_ext_%04d.jpg' % g.n)
    vid = g.asset('live-photo-loser/video', 'IMG_%04d.MOV' % (g.n + 1),
                  size=S // 2, type='VIDEO', visibility='hidden',
                  duration=2900)
    pair('live-photo-loser', lkw={'livePhotoVideoId': vid['id']},
         lname='IMG_%04d.HEIC' % (g.n + 1))
    pair('raw-jpeg', kname='DSC_%04d.dng' % (g.n + 1),
         lname='DSC_%04d.jpg' % (g.n + 1), ksize=4 * S, lsize=S)
    w = g.when()
    ve = g.exif(when=w, camera=False)
    k = g.asset('video-durations/keeper', 'VID_%04d.mp4' % (g.n + 1),
                size=3 * S, exif=ve, type='VIDEO', duration=13000,
                width=1920, height=1080)
    lo = g.asset('video-durations/loser', 'VID_%04d-short.mp4' % g.n,
                 size=2 * S, exif=ve, type='VIDEO', duration=10000,
                 width=1920, height=1080)
    groups['video-durations'] = g.group([k, lo])
    k = g.asset('mixed-types/keeper', 'MIX_%04d.mp4' % (g.n + 1),
                size=3 * S, exif=ve, type='VIDEO', duration=4000)
    lo = g.asset('mixed-types/loser', 'MIX_%04d.jpg' % g.n, size=S,
                 exif=g.exif(when=w))
    groups['mixed-types'] = g.group([k, lo])
    base = g.exif()
    t = [g.asset('triple/keeper', 'TRI_%04d.jpg' % (g.n + 1), size=3 * S,
                 exif=base),
         g.asset('triple/loser', 'TRI_%04d-1.jpg' % g.n, size=2 * S,
                 exif=base),
         g.asset('triple/loser', 'TRI_%04d-2.jpg' % g.n, size=S, exif=base)]
    groups['triple'] = g.group(t)
    base = g.exif()
    t = [g.asset('trashed-member/keeper', 'TM_%04d.jpg' % (g.n + 1),
                 size=3 * S, exif=base),
         g.asset('trashed-member/loser', 'TM_%04d-1.jpg' % g.n, size=2 * S,
                 exif=base),
         g.asset('trashed-member/trashed', 'TM_%04d-2.jpg' % g.n,
                 size=S, exif=base, isTrashed=True)]
    groups['trashed-member'] = g.group(t)
    return groups


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--groups', type=int)
    ap.add_argument('--members', type=int, default=2)
    ap.add_argument('--kinds', action='store_true')
    ap.add_argument('--plain', action='store_true')
    ap.add_argument('--albums', type=int, default=0)
    ap.add_argument('--moving', type=int, default=0)
    ap.add_argument('--seed', default='1')
    ap.add_argument('--size', type=int, default=20000)
    ap.add_argument('--no-trash', action='store_true')
    ap.add_argument('--api-key', default='test-key')
    args = ap.parse_args()
    if args.groups is None and not args.kinds:
        ap.error('give --groups N or --kinds')
    g = Gen(args.seed, args.size)
    lib = {'apiKey': args.api_key, 'features': {'trash': not args.no_trash}}
    if args.kinds:
        lib['groups'] = kinds(g)
    if args.groups and args.plain:
        plain(g, args.groups, args.albums, args.moving)
    elif args.groups:
        simple(g, args.groups, args.members)
    lib['assets'] = g.assets
    lib['albums'] = g.albums
    json.dump(lib, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
