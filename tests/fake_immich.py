#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A fake Immich 3.1 server for the tests: Python 3 standard library only.

Stateful, on 127.0.0.1, HTTP/1.1 keep-alive, answering with the shapes of the
OpenAPI spec (../shared/immich/immich-openapi-specs.json) and the status codes
and bodies recorded in ../shared/immich/FACTS.md.  It can inject faults.

USAGE
  python3 tests/fake_immich.py --library LIB.json --port-file PF --log LOG.ndjson
        [--port N] [--state-file F] [--data-dir D] [--watch-pid PID]
        [--verbose]
  The port (0 = any) is written to PF once the server listens.  With
  --state-file the state is loaded from F (plus its journal F.journal) if it
  exists (the library is then ignored) and every mutation is appended to
  F.journal before the reply goes out, so a server killed with SIGKILL and
  restarted with the same F keeps its state.  --watch-pid: exit when that
  process is gone (lib.sh passes the test's shell).  Uploaded bytes go to
  --data-dir (default F.data/ with a state file, else a temporary directory).
  From the shell tests use lib.sh: fake_start LIB.json, fake_ctl, fake_state,
  fake_log_count, fake_restart, fake_stop (see the bottom of tests/lib.sh).

LIBRARY JSON (every key optional)
  {"apiKey": "test-key",
   "permissions": ["all"],        # or e.g. ["asset.read", "duplicate.read"]
   "features": {"trash": true},   # merged into GET /server/features
   "trashDays": 30,
   "errorStyle": "v3",            # "v2": {message, error, statusCode,
                                  #        correlationId}
   "user": {"id", "email", "name", ...},   # id: a new one unless given
                                  # here or with --user-id
   "assets": [ASSET, ...],
   "albums": [{"id", "albumName", "description", "assetIds": [ids]}]}
  ASSET: any AssetResponseDto field; missing ones get defaults:
    id (generated if absent; must be v4-shaped, xxxxxxxx-xxxx-4xxx-[89ab]xxx-
    xxxxxxxxxxxx, as the server's z.uuidv4() rejects others), type (IMAGE, or
    VIDEO for a video extension), originalFileName ("IMG_<n>.jpg"), visibility
    "timeline", isFavorite false, isArchived (= visibility archive), isOffline
    false, isEdited false, libraryId null, livePhotoVideoId null, duplicateId
    null, width/height null, duration null (integer milliseconds when given),
    thumbhash null, dates "2024-01-01T12:00:00.000Z" (+n minutes per asset),
    originalPath "/usr/src/app/upload/upload/<user>/<name>",
    originalMimeType from the extension, exifInfo with every ExifResponseDto
    key (null unless given; give only the keys you care about).
    Bytes, one of:
      "content": "text" (UTF-8), "contentB64": "...", "file": "path" (relative
      to the library file), or "size": N, "seed": S (deterministic
      pseudo-random bytes, generated per 1 MiB chunk, streamed: 2 GiB is fine).
      Default: content "fake bytes of <id>".
    checksum: base64 SHA-1 of the bytes, unless given; for an external-library
      asset (libraryId set) base64 SHA-1 of "path:" + originalPath (FACTS §4).
    exifInfo.fileSizeInByte defaults to the byte length.
    "tags": ["A/B", "C"]  tag values; tags are created (name = leaf, parentId).
                          A top-level "tags": [{"id", "value"}] in the library
                          pre-creates tags with those ids.
    "isTrashed": true     starts in the trash.
    "people": [{"id", "name"}]  people whose faces are on it (name "" for
                          one no one named): PersonResponseDto[] in GET
                          /assets/{id}; [] in /duplicates, as the server.
                          Each gets a face (box 10,10-30,30 in a frame of
                          the asset's width x height, else 100x75).
    "faces": [{"person": {"id", "name"} or null, "id", "imageWidth",
               "imageHeight", "boundingBoxX1", "boundingBoxY1",
               "boundingBoxX2", "boundingBoxY2", "sourceType"}]
                          faces with their boxes (GET /faces?id=); a
                          person is created on first sight.
    "dateFrom": "file"    no date in the file: exifInfo.dateTimeOriginal,
                          fileCreatedAt and localDateTime are the earliest
                          of fileCreatedAt and fileModifiedAt, modifyDate
                          is fileModifiedAt, timeZone null (the server's
                          fallback, metadata.service.ts getDates).
    "thumbnail": false    GET /assets/{id}/thumbnail answers 404.
    "missing": true       the original file is gone: /original answers 404.
    "stackId": uuid       stacked (never in duplicate groups).
    "owner": "other"      belongs to another user: every access check fails.
    "isOffline": true     an offline external asset: isTrashed true, not in
                          duplicate groups, /original 404.
    "label": "text"       free text shown only in /_fake/state (mklib.py sets
                          "KIND/ROLE").  Other unknown keys are ignored.
  tests/mklib.py generates libraries (--groups N, or --kinds for one group of
  every kind; see its docstring).

ENDPOINTS (under /api; 3.x bodies {"message"} or {"message":"Validation failed",
  "errors":[zod issues]}; X-Correlation-ID header on every reply, echoing the
  client's).  Like express, a request body is read as JSON only with a JSON
  Content-Type (else the handler sees no body).  Auth: header x-api-key (also
  ?apiKey=, logged as keyInQuery); none → 401 "Authentication required";
  wrong → 401 "Invalid API key"; a permission list without the route's
  x-immich-permission → 403.
  GET  /server/ping /server/version /server/features /server/config  (public)
  GET  /users/me
  GET  /duplicates            (singleton clean-up first, then groups of >=2
                               members: not trashed, timeline|archive, no stack,
                               ordered by localDateTime; suggestedKeepAssetIds)
  DELETE /duplicates {ids}, DELETE /duplicates/{id}
  POST /duplicates/resolve    (FACTS §8, 3.x merge rules)
  GET  /assets/{id}           (tags, people [], stack, owner)
  PUT  /assets/{id}           (UpdateAssetDto; no tags in the reply)
  PUT  /assets                (AssetBulkUpdateDto → 204)
  DELETE /assets {ids,force}  (all-or-nothing; force=false trashes (again:
                               deletedAt and trashCount), force=true purges)
  POST /assets                (multipart upload; 201 created / 200 duplicate)
  POST /assets/bulk-upload-check {assets:[{id, checksum}]} (reject/duplicate
                               with assetId, isTrashed; else accept)
  GET  /assets/{id}/original  (Range, 206, 416, ETag, If-None-Match → 304)
  GET  /assets/{id}/thumbnail (a 1x1 JPEG)
  POST /trash/restore/assets {ids} → {count: len(ids)}; POST /trash/restore;
  POST /trash/empty (counted in state.trashEmptyCalls)
  GET  /albums[?assetId=], GET /albums/{id}, PUT /albums/{id}/assets {ids},
  PUT  /albums/assets {albumIds, assetIds}
  GET  /tags, PUT /tags {tags}, PUT /tags/{id}/assets {ids},
  PUT  /tags/assets {tagIds, assetIds}
  POST /search/metadata       (filters: id, checksum, originalFileName,
                               isFavorite, type, visibility, withDeleted,
                               albumIds, personIds (in all of them),
                               updatedAfter, updatedBefore (asset
                               updatedAt >= / <=); withExif, withPeople,
                               page, size)
  GET  /people                (withHidden, page, size: the people with a
                               face on an asset not in the trash)
  POST /stacks {assetIds} (a stack whose primary is listed is merged in),
  GET  /stacks[?primaryAssetId=], GET /stacks/{id}, DELETE /stacks {ids},
  DELETE /stacks/{id}         (members' stackId null, duplicateId kept)
  DELETE /albums/{id}/assets {ids}, DELETE /tags/{id}/assets {ids}
                              (BulkIdResponseDto[]: not_found when not in it)

An asset's updatedAt changes, as Immich's row trigger makes it, only when
the asset's own row does (favorite, visibility, trash, restore, live-photo
link, duplicateId): not for exif fields (description, rating, GPS, capture
date), tags or albums.  An album's updatedAt changes when assets are added.
  GET  /faces?id=ASSET        (AssetFaceResponseDto[]), POST /faces
                               (AssetFaceCreateDto → 201, no body),
                               DELETE /faces/{id} {force}

KNOWN DIFFERENCES FROM THE REAL SERVER
  Like the real one, rating -1 is echoed back in exifInfo.rating although the
  spec says 1..5.  Duplicate detection never runs: groups are the library's
  duplicateId values.  No jobs: a trashed asset stays in the trash until
  force-deleted or POST /trash/empty (even with features.trash false).

CONTROL ENDPOINTS (no auth, not in the request log)
  POST   /_fake/faults  [RULE, ...]   appended to the queue (a single object too)
  GET    /_fake/faults                the rules still queued
  DELETE /_fake/faults                clears
  GET    /_fake/state   {"assets":[every asset, purged ones too, as the full
                         AssetResponseDto plus "purged", "trashCount",
                         "deletedAt", "albums" (ids), "size", "stackId"],
                         "albums":[...with assetIds], "tags":[...],
                         "trashEmptyCalls": n, "requests": n, "config": {...}}
  POST   /_fake/mutate  {"id", "set": {field: value, "exifInfo": {merged},
                         "tags": [values]}, "purge": bool, "trash": bool,
                         "restore": bool, "content": "new bytes" | "contentB64"
                         (recomputes checksum and fileSizeInByte unless
                         "keepChecksum": true), "addToAlbum": id}
  POST   /_fake/config  {"features": {...}, "errorStyle": "v2"|"v3",
                         "permissions": [...], "apiKey": "...", "trashDays": n,
                         "dropUpdates": ["description", ...] (PUT /assets/{id}
                         and PUT /assets answer as usual but ignore them),
                         "rejectAlbumAdd": [albumId, ...] (PUT
                         /albums/{id}/assets answers 400)}
  POST   /_fake/add     {"assets": [...], "albums": [...]} (library format)
  GET    /_fake/log     the request log as a JSON array

FAULT RULES
  {"method": "GET" (optional), "path": regex searched in the path without the
   query (e.g. "^/api/assets/[^/]+/original$"), "skip": N (let N matching
   requests pass first; default 0), "times": N (default 1; -1 = forever),
   "bodyRegex": regex searched in the JSON request body as logged (compact,
   e.g. '"force":true' or an asset id; a multipart body never matches),
   "action": one of
     "status"     {"status": 429, "retryAfter": "1" (optional; seconds or an
                   HTTP date), "body": JSON (optional), "text": "<html>..."
                   (optional, sent as text/html instead), "headers": {...},
                   "reason": "..." (optional: the status line's reason
                   phrase instead of the usual one)}
                   The request is NOT processed unless "process": true (then
                   the state changes but the reply is replaced).
     "reset"      {"afterBytes": N} real headers + N body bytes, then a TCP RST
     "short"      {"afterBytes": N} full Content-Length, N bytes, then FIN
     "stall"      {"seconds": S, "afterBytes": N} headers + N bytes, sleep, close
     "trickle"    {"bytesPerSecond": R, "afterBytes": N, "seconds": S}
                   headers + N bytes, then the rest at R bytes/s (in pieces
                   of R/10 bytes, at least 1); closes after S seconds
                   (default 10) if not done
     "wrongbytes" {"at": offset (default the middle)} full length, one byte
                   flipped
     "close"      close without any reply (not processed unless "process":
                   true; "rst": true closes with a TCP RST instead of a FIN)
     "delay"      {"seconds": S} sleep before answering normally; with
                   "after": true the request is processed first (the state
                   changes, the journal is written) and the reply is held
  The reset, short, stall, trickle and wrongbytes actions process the
  request (the state changes) and damage the reply.  Rules are matched in
  order; a rule is used up after "times" applications.

REQUEST LOG (--log, one JSON object per line, flushed)
  {"t": arrival (time.time()), "method", "path", "query": {k: v or [v...]},
   "body": parsed JSON or null (multipart: the non-file fields, plus
   "assetData": {"filename", "size", "sha1"}), "status", "fault": action or
   null, "range": Range header or null, "keyInQuery": bool,
   "correlationId", and "headers": {name: value} of any request headers
   other than the usual ones (STD_HEADERS), e.g. a proxy's access token;
   absent when there are none}.  The API key is never logged.
"""

import argparse
import base64
import datetime as dt
import hashlib
import http.server
import itertools
import json
import mmap
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid

# Request headers not logged under "headers" (those every client sends).
STD_HEADERS = {'host', 'user-agent', 'accept', 'accept-encoding',
               'content-type', 'content-length', 'transfer-encoding',
               'connection', 'expect', 'x-api-key', 'range', 'if-range',
               'if-none-match', 'x-correlation-id', 'x-real-ip',
               'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'}

UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-'
                     r'[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$')
UUID_PATTERN = ('^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-'
                '[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12})$')
ISO_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?'
                    r'(Z|[+-]\d\d:\d\d)$')
VISIBILITIES = ('archive', 'timeline', 'hidden', 'locked')
CHUNK = 1 << 20
EXIF_KEYS = ('make', 'model', 'exifImageWidth', 'exifImageHeight',
             'fileSizeInByte', 'orientation', 'dateTimeOriginal',
             'modifyDate', 'timeZone', 'lensModel', 'fNumber', 'focalLength',
             'iso', 'exposureTime', 'latitude', 'longitude', 'city', 'state',
             'country', 'description', 'projectionType', 'rating')
DTO_KEYS = ('createdAt', 'ownerId', 'libraryId', 'type', 'originalPath',
            'fileCreatedAt', 'fileModifiedAt', 'localDateTime', 'updatedAt',
            'isFavorite', 'duration', 'livePhotoVideoId', 'thumbhash',
            'isOffline', 'hasMetadata', 'duplicateId', 'width', 'height',
            'isEdited')
FEATURE_KEYS = ('configFile', 'duplicateDetection', 'email',
                'facialRecognition', 'importFaces', 'map', 'oauth',
                'oauthAutoLaunch', 'ocr', 'passwordLogin',
                'realtimeTranscoding', 'reverseGeocoding', 'search',
                'sidecar', 'smartSearch', 'trash')
MIME = {
    'jpg': 'image/jpeg', 'jpeg': 'image/jpeg', 'jpe': 'image/jpeg',
    'png': 'image/png', 'gif': 'image/gif', 'webp': 'image/webp',
    'heic': 'image/heic', 'heif': 'image/heif', 'avif': 'image/avif',
    'tif': 'image/tiff', 'tiff': 'image/tiff', 'bmp': 'image/bmp',
    'jxl': 'image/jxl', 'dng': 'image/x-adobe-dng',
    'cr2': 'image/x-canon-cr2', 'cr3': 'image/x-canon-cr3',
    'nef': 'image/x-nikon-nef', 'arw': 'image/x-sony-arw',
    'raf': 'image/x-fuji-raf', 'orf': 'image/x-olympus-orf',
    'rw2': 'image/x-panasonic-rw2', 'srw': 'image/x-samsung-srw',
    'pef': 'image/x-pentax-pef', 'raw': 'image/x-panasonic-raw',
    'mp4': 'video/mp4', 'm4v': 'video/x-m4v', 'mov': 'video/quicktime',
    'qt': 'video/quicktime', 'mkv': 'video/x-matroska', 'webm': 'video/webm',
    '3gp': 'video/3gpp', 'avi': 'video/x-msvideo', 'mts': 'video/mp2t',
    'm2ts': 'video/mp2t', 'mpg': 'video/mpeg', 'mpeg': 'video/mpeg',
    'wmv': 'video/x-ms-wmv', 'flv': 'video/x-flv',
    'mp3': 'audio/mpeg', 'wav': 'audio/wav', 'm4a': 'audio/mp4',
}
# A valid 1x1 JPEG.
THUMB = base64.b64decode(
    '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////'
    '////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBAB'
    'AAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=')
REASONS = http.server.BaseHTTPRequestHandler.responses

LOCK = threading.RLock()
LOGLOCK = threading.Lock()
VERBOSE = False


def now_iso(t=None):
    if t is None:
        t = time.time()
    d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    return d.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (d.microsecond // 1000)


def b64sha1(data):
    return base64.b64encode(hashlib.sha1(data).digest()).decode()


def mime_of(name):
    ext = name.rsplit('.', 1)[-1].lower() if '.' in name else ''
    return MIME.get(ext, 'application/octet-stream')


def new_uuid():
    return str(uuid.uuid4())


def js_truthy(v):
    return v not in (None, False, 0, '', 0.0)


# --------------------------------------------------------------------------
# Bytes of an asset.

_BASE = None


def seed_base():
    global _BASE
    if _BASE is None:
        _BASE = hashlib.shake_256(b'fake-immich-base').digest(CHUNK)
    return _BASE


class Blob:
    """kind mem (data), file (path) or seed (size, seed)."""

    def __init__(self, kind, data=None, path=None, size=0, seed=None):
        self.kind, self.data, self.path = kind, data, path
        self._size, self.seed = size, seed
        self._sha1 = None

    @staticmethod
    def from_json(j):
        if j['kind'] == 'mem':
            return Blob('mem', data=base64.b64decode(j['b64']))
        if j['kind'] == 'file':
            return Blob('file', path=j['path'])
        return Blob('seed', size=j['size'], seed=j['seed'])

    def to_json(self):
        if self.kind == 'mem':
            return {'kind': 'mem', 'b64': base64.b64encode(self.data).decode()}
        if self.kind == 'file':
            return {'kind': 'file', 'path': self.path}
        return {'kind': 'seed', 'size': self._size, 'seed': self.seed}

    def size(self):
        if self.kind == 'mem':
            return len(self.data)
        if self.kind == 'file':
            try:
                return os.path.getsize(self.path)
            except OSError:
                return 0
        return self._size

    def mtime(self):
        if self.kind == 'file':
            try:
                return os.path.getmtime(self.path)
            except OSError:
                pass
        return 1704110400.0

    def _seed_chunk(self, i):
        head = hashlib.sha256(('%s:%d' % (self.seed, i)).encode()).digest()
        return head + seed_base()[len(head):]

    def chunks(self, start=0, end=None):
        """Yield the bytes [start, end) in pieces of at most 1 MiB."""
        size = self.size()
        if end is None or end > size:
            end = size
        if start >= end:
            return
        if self.kind == 'mem':
            for o in range(start, end, CHUNK):
                yield self.data[o:min(o + CHUNK, end)]
        elif self.kind == 'file':
            with open(self.path, 'rb') as f:
                f.seek(start)
                left = end - start
                while left > 0:
                    b = f.read(min(CHUNK, left))
                    if not b:
                        break
                    left -= len(b)
                    yield b
        else:
            pos = start
            while pos < end:
                i = pos // CHUNK
                c = self._seed_chunk(i)
                lo = pos - i * CHUNK
                hi = min(CHUNK, end - i * CHUNK)
                yield c[lo:hi]
                pos = i * CHUNK + hi

    def sha1(self):
        if self._sha1 is None:
            h = hashlib.sha1()
            for c in self.chunks():
                h.update(c)
            self._sha1 = base64.b64encode(h.digest()).decode()
        return self._sha1


# --------------------------------------------------------------------------
# Errors.

class ApiError(Exception):
    def __init__(self, status, message, issues=None, v2=None, headers=None):
        super().__init__(message)
        self.status, self.message = status, message
        self.issues = issues          # zod issues (v3 validation)
        self.v2 = v2                  # list of class-validator strings
        self.headers = headers or {}


def bad(message):
    return ApiError(400, message)


class Check:
    """Collects validation issues, zod style (v3) and class-validator (v2)."""

    def __init__(self):
        self.issues, self.v2 = [], []

    def add(self, path, code, message, v2msg, **extra):
        issue = {'code': code}
        issue.update(extra)
        issue['path'] = path
        issue['message'] = message
        self.issues.append(issue)
        self.v2.append(v2msg)

    def raise_if(self):
        if self.issues:
            raise ApiError(400, 'Validation failed', self.issues, self.v2)

    def uuid(self, v, path, name):
        if not isinstance(v, str):
            self.add(path, 'invalid_type',
                     'Invalid input: expected string, received %s' % jstype(v),
                     '%s must be a UUID' % name, expected='string')
        elif not UUID_RE.match(v):
            self.add(path, 'invalid_format', 'Invalid UUID',
                     '%s must be a UUID' % name, origin='string',
                     format='uuid', pattern=UUID_PATTERN)

    def uuids(self, body, key, required=True):
        v = body.get(key) if isinstance(body, dict) else None
        if v is None:
            if required:
                self.add([key], 'invalid_type',
                         'Invalid input: expected array, received undefined',
                         '%s must be an array' % key, expected='array')
            return []
        if not isinstance(v, list):
            self.add([key], 'invalid_type',
                     'Invalid input: expected array, received %s' % jstype(v),
                     '%s must be an array' % key, expected='array')
            return []
        for i, x in enumerate(v):
            if not isinstance(x, str) or not UUID_RE.match(x):
                self.add([key, i], 'invalid_format', 'Invalid UUID',
                         'each value in %s must be a UUID' % key,
                         origin='string', format='uuid', pattern=UUID_PATTERN)
        return v

    def typed(self, body, key, types, tname, nullable=False):
        if key not in body:
            return
        v = body[key]
        if v is None and nullable:
            return
        if isinstance(v, bool) and bool not in types:
            ok = False
        else:
            ok = isinstance(v, types)
        if not ok:
            self.add([key], 'invalid_type',
                     'Invalid input: expected %s, received %s'
                     % (tname, jstype(v)),
                     '%s must be a %s' % (key, tname), expected=tname)

    def rng(self, body, key, lo, hi):
        v = body.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if v < lo:
                self.add([key], 'too_small',
                         'Too small: expected number to be >=%s' % lo,
                         '%s must not be less than %s' % (key, lo),
                         origin='number', minimum=lo, inclusive=True)
            elif v > hi:
                self.add([key], 'too_big',
                         'Too big: expected number to be <=%s' % hi,
                         '%s must not be greater than %s' % (key, hi),
                         origin='number', maximum=hi, inclusive=True)


def jstype(v):
    if v is None:
        return 'null'
    if isinstance(v, bool):
        return 'boolean'
    if isinstance(v, (int, float)):
        return 'number'
    if isinstance(v, str):
        return 'string'
    if isinstance(v, list):
        return 'array'
    return 'object'


def check_body_object(body):
    if not isinstance(body, dict):
        c = Check()
        c.add([], 'invalid_type',
              'Invalid input: expected object, received %s' % jstype(body),
              'body must be an object', expected='object')
        c.raise_if()


# --------------------------------------------------------------------------
# The state.

class State:
    def __init__(self):
        self.apiKey = 'test-key'
        self.permissions = ['all']
        self.features = {k: k in ('duplicateDetection', 'passwordLogin',
                                  'reverseGeocoding', 'search', 'sidecar',
                                  'smartSearch', 'trash', 'map',
                                  'facialRecognition', 'importFaces')
                         for k in FEATURE_KEYS}
        self.trashDays = 30
        self.errorStyle = 'v3'
        self.dropUpdates = []
        self.rejectAlbumAdd = []
        # A new user id per server (--user-id or the library's "user" to
        # choose one): immich-trash keys its one-run-at-a-time lock on it,
        # so two fakes of two tests running at once do not share one.
        self.user = {
            'id': str(uuid.uuid4()),
            'email': 'admin@example.com', 'name': 'Admin',
            'avatarColor': 'primary', 'isAdmin': True,
            'createdAt': '2024-01-01T00:00:00.000Z',
            'updatedAt': '2024-01-01T00:00:00.000Z',
            'profileImagePath': '', 'profileChangedAt':
            '2024-01-01T00:00:00.000Z',
        }
        self.assets = {}          # id -> internal dict
        self.order = []           # ids in insertion order
        self.albums = {}
        self.tags = {}
        self.stacks = {}
        self.people = {}          # id -> {id, name, isHidden}
        self.trashEmptyCalls = 0
        self.requests = 0
        self.counter = 0
        self.state_file = None
        self.dirty = set()
        self.data_dir = None
        self.lib_dir = '.'

    # ---- persistence
    def to_json(self):
        assets = []
        for i in self.order:
            a = dict(self.assets[i])
            a['_blob'] = a['_blob'].to_json()
            assets.append(a)
        return {'apiKey': self.apiKey, 'permissions': self.permissions,
                'features': self.features, 'trashDays': self.trashDays,
                'errorStyle': self.errorStyle,
                'dropUpdates': self.dropUpdates,
                'rejectAlbumAdd': self.rejectAlbumAdd, 'user': self.user,
                'assets': assets, 'albums': list(self.albums.values()),
                'tags': list(self.tags.values()),
                'stacks': list(self.stacks.values()),
                'people': list(self.people.values()),
                'trashEmptyCalls': self.trashEmptyCalls,
                'counter': self.counter}

    def load_json(self, j):
        for k in ('apiKey', 'permissions', 'features', 'trashDays',
                  'errorStyle', 'dropUpdates', 'rejectAlbumAdd', 'user',
                  'trashEmptyCalls', 'counter'):
            if k in j:
                setattr(self, k, j[k])
        for a in j['assets']:
            a['_blob'] = Blob.from_json(a['_blob'])
            self.assets[a['id']] = a
            self.order.append(a['id'])
        self.albums = {x['id']: x for x in j['albums']}
        self.tags = {x['id']: x for x in j['tags']}
        self.stacks = {x['id']: x for x in j['stacks']}
        self.people = {x['id']: x for x in j.get('people', [])}

    META = ('apiKey', 'permissions', 'features', 'trashDays', 'errorStyle',
            'dropUpdates', 'rejectAlbumAdd', 'user', 'trashEmptyCalls',
            'counter')

    def snapshot(self):
        """Write the whole state to the state file; empty the journal."""
        if not self.state_file:
            return
        tmp = self.state_file + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(self.to_json(), f)
        os.replace(tmp, self.state_file)
        open(self.state_file + '.journal', 'w').close()
        self.dirty.clear()

    def save(self):
        """Append what changed to the journal (before the reply is sent)."""
        if not self.state_file:
            return
        assets = []
        for i in self.dirty:
            a = dict(self.assets[i])
            a['_blob'] = a['_blob'].to_json()
            assets.append(a)
        self.dirty.clear()
        rec = {'assets': assets, 'albums': list(self.albums.values()),
               'tags': list(self.tags.values()),
               'stacks': list(self.stacks.values()),
               'people': list(self.people.values()),
               'meta': {k: getattr(self, k) for k in self.META}}
        with open(self.state_file + '.journal', 'a') as f:
            f.write(json.dumps(rec, separators=(',', ':')) + '\n')

    def replay(self):
        try:
            f = open(self.state_file + '.journal')
        except FileNotFoundError:
            return
        with f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    break           # torn last line
                for a in rec['assets']:
                    a['_blob'] = Blob.from_json(a['_blob'])
                    if a['id'] not in self.assets:
                        self.order.append(a['id'])
                    self.assets[a['id']] = a
                self.albums = {x['id']: x for x in rec['albums']}
                self.tags = {x['id']: x for x in rec['tags']}
                self.stacks = {x['id']: x for x in rec['stacks']}
                self.people = {x['id']: x for x in rec.get('people', [])}
                for k, v in rec['meta'].items():
                    setattr(self, k, v)

    # ---- loading a library
    def load_library(self, lib):
        for k in ('apiKey', 'permissions', 'trashDays', 'errorStyle',
                  'dropUpdates', 'rejectAlbumAdd'):
            if k in lib:
                setattr(self, k, lib[k])
        self.features.update(lib.get('features', {}))
        self.user.update(lib.get('user', {}))
        self.add(lib)

    def add(self, lib):
        # "tags": [{"id", "value"}] pre-creates tags with known ids, so a
        # test can write records that name them.
        for tg in lib.get('tags', []):
            t = now_iso()
            v = tg['value'].strip('/')
            self.tags[tg['id']] = {'id': tg['id'], 'name': v.split('/')[-1],
                                   'value': v, 'createdAt': t,
                                   'updatedAt': t}
        for spec in lib.get('assets', []):
            self.add_asset(spec)
        for al in lib.get('albums', []):
            self.add_album(al)

    def add_album(self, al):
        t = now_iso()
        a = {'id': al.get('id') or new_uuid(),
             'albumName': al.get('albumName', 'Album'),
             'description': al.get('description', ''),
             'assetIds': list(al.get('assetIds', [])),
             'createdAt': al.get('createdAt', t),
             'updatedAt': al.get('updatedAt', t),
             'owner': al.get('owner', 'me')}
        self.albums[a['id']] = a
        return a

    def upsert_tag(self, value):
        value = value.strip('/')
        parent = None
        tag = None
        path = []
        for part in value.split('/'):
            path.append(part)
            v = '/'.join(path)
            tag = next((x for x in self.tags.values() if x['value'] == v),
                       None)
            if tag is None:
                t = now_iso()
                tag = {'id': new_uuid(), 'name': part, 'value': v,
                       'createdAt': t, 'updatedAt': t}
                if parent:
                    tag['parentId'] = parent
                self.tags[tag['id']] = tag
            parent = tag['id']
        return tag

    def make_blob(self, spec, aid):
        if 'contentB64' in spec:
            return Blob('mem', data=base64.b64decode(spec['contentB64']))
        if 'content' in spec:
            return Blob('mem', data=spec['content'].encode())
        if 'file' in spec:
            return Blob('file', path=os.path.join(self.lib_dir, spec['file']))
        if 'size' in spec:
            return Blob('seed', size=int(spec['size']),
                        seed=str(spec.get('seed', aid)))
        return Blob('mem', data=('fake bytes of %s' % aid).encode())

    def add_asset(self, spec):
        spec = dict(spec)
        self.counter += 1
        n = self.counter
        aid = spec.pop('id', None) or new_uuid()
        blob = self.make_blob(spec, aid)
        for k in ('content', 'contentB64', 'file', 'size', 'seed'):
            spec.pop(k, None)
        name = spec.pop('originalFileName', None) or 'IMG_%04d.jpg' % n
        mime = spec.pop('originalMimeType', None) or mime_of(name)
        base_t = 1704110400 + 60 * n
        t = now_iso(base_t)
        vis = spec.pop('visibility', None)
        if vis is None:
            vis = 'archive' if spec.get('isArchived') else 'timeline'
        spec.pop('isArchived', None)
        exif = {k: None for k in EXIF_KEYS}
        exif.update(spec.pop('exifInfo', None) or {})
        if exif.get('fileSizeInByte') is None:
            exif['fileSizeInByte'] = blob.size()
        typ = spec.pop('type', None)
        if typ is None:
            typ = 'VIDEO' if mime.startswith('video/') else \
                'AUDIO' if mime.startswith('audio/') else 'IMAGE'
        a = {
            'id': aid, 'createdAt': t, 'ownerId': self.user['id'],
            'libraryId': None, 'type': typ,
            'originalPath': '/usr/src/app/upload/upload/%s/%s/%s/%s'
            % (self.user['id'], aid[0:2], aid[2:4], name)
            if not spec.get('libraryId') else '/mnt/library/%s' % name,
            'originalFileName': name, 'originalMimeType': mime,
            'thumbhash': None, 'fileCreatedAt': t, 'fileModifiedAt': t,
            'localDateTime': exif.get('dateTimeOriginal') and
            local_of(exif['dateTimeOriginal'], exif.get('timeZone')) or t,
            'updatedAt': t, 'isFavorite': False, 'visibility': vis,
            'duration': None, 'livePhotoVideoId': None, 'isOffline': False,
            'hasMetadata': True, 'duplicateId': None, 'width': None,
            'height': None, 'isEdited': False,
        }
        tags = spec.pop('tags', [])
        trashed = spec.pop('isTrashed', False)
        checksum = spec.pop('checksum', None)
        a['_owner'] = spec.pop('owner', 'me')
        if a['_owner'] != 'me':
            a['ownerId'] = 'b7a1b2c3-0000-4000-8000-000000000002'
        a['_thumbnail'] = spec.pop('thumbnail', True)
        a['_missing'] = spec.pop('missing', False)
        a['stackId'] = spec.pop('stackId', None)
        a['_label'] = spec.pop('label', None)
        # "people": [{"id", "name"}]: the people whose faces are on it
        # (PersonResponseDto in GET /assets/{id}; [] in /duplicates, as
        # the real server gives).
        people = spec.pop('people', [])
        faces = spec.pop('faces', [])
        file_dated = spec.pop('dateFrom', None) == 'file' 
        a.update({k: v for k, v in spec.items() if k in DTO_KEYS})
        fw, fh = a['width'] or 100, a['height'] or 75
        a['_faces'] = []
        for p in people:
            self.add_face(a, {'person': p, 'imageWidth': fw,
                              'imageHeight': fh, 'boundingBoxX1': 10,
                              'boundingBoxY1': 10, 'boundingBoxX2': 30,
                              'boundingBoxY2': 30})
        for f in faces:
            self.add_face(a, f)
        a['exifInfo'] = exif
        if file_dated:
            # No date in the file: the server's fallback (getDates), the
            # earliest of fileCreatedAt and the mtime (fileModifiedAt),
            # no time zone; modifyDate is the mtime.
            d = min(a['fileCreatedAt'], a['fileModifiedAt'],
                    key=lambda x: parse_when(x).timestamp())
            d = fmt_utc(parse_when(d))
            exif.update(dateTimeOriginal=d, modifyDate=fmt_utc(
                parse_when(a['fileModifiedAt'])), timeZone=None)
            a['fileCreatedAt'] = a['localDateTime'] = d
        a['_blob'] = blob
        a['_checksumGiven'] = checksum is not None
        if checksum is None and a.get('libraryId'):
            checksum = b64sha1(('path:' + a['originalPath']).encode())
        a['checksum'] = checksum   # None: computed lazily
        a['tagIds'] = [self.upsert_tag(v)['id'] for v in tags]
        a['purged'] = False
        a['trashCount'] = 0
        a['deletedAt'] = None
        if trashed:
            a['deletedAt'] = t
            a['trashCount'] = 1
        if a['stackId'] and a['stackId'] not in self.stacks:
            self.stacks[a['stackId']] = {'id': a['stackId'],
                                         'primaryAssetId': aid}
        if aid not in self.assets:
            self.order.append(aid)
        self.assets[aid] = a
        self.dirty.add(aid)
        return a

    def add_face(self, a, f):
        """A face on asset a (library format); its person is created on
        first sight."""
        p = f.get('person')
        pid = f.get('personId')
        if p:
            pid = p['id']
            if pid not in self.people:
                self.people[pid] = {'id': pid, 'name': p.get('name', ''),
                                    'isHidden': bool(p.get('isHidden'))}
        face = {'id': f.get('id') or new_uuid(), 'personId': pid,
                'sourceType': f.get('sourceType', 'machine-learning'),
                'deletedAt': None}
        for k in ('imageWidth', 'imageHeight', 'boundingBoxX1',
                  'boundingBoxY1', 'boundingBoxX2', 'boundingBoxY2'):
            face[k] = int(f[k])
        a.setdefault('_faces', []).append(face)
        self.dirty.add(a['id'])
        return face

    def faces_of(self, a):
        return [f for f in a.get('_faces', []) if f['deletedAt'] is None]

    def people_of(self, a):
        """The people whose faces are on a, once each, as the server's
        peopleFromFaces."""
        out = []
        for f in self.faces_of(a):
            p = self.people.get(f['personId'])
            if p and p not in out:
                out.append(p)
        return out

    def face_dto(self, f):
        d = {k: f[k] for k in ('id', 'imageHeight', 'imageWidth',
                               'boundingBoxX1', 'boundingBoxX2',
                               'boundingBoxY1', 'boundingBoxY2',
                               'sourceType')}
        p = self.people.get(f['personId'])
        d['person'] = self.person_dto(p) if p else None
        return d

    # ---- access
    def visible(self, aid, own=True):
        """The asset if the key may see it (not purged, not locked, own)."""
        a = self.assets.get(aid)
        if a is None or a['purged'] or a['visibility'] == 'locked':
            return None
        if own and a['_owner'] != 'me':
            return None
        return a

    def require(self, ids, perm):
        out = []
        for i in ids:
            a = self.visible(i)
            if a is None:
                raise bad('Not found or no %s access' % perm)
            out.append(a)
        return out

    def checksum(self, a):
        if a['checksum'] is None:
            a['checksum'] = a['_blob'].sha1()
        return a['checksum']

    # ---- serialisation
    def tag_dto(self, t):
        return {k: t[k] for k in ('id', 'name', 'value', 'createdAt',
                                  'updatedAt', 'color', 'parentId') if k in t}

    def user_dto(self):
        u = self.user
        return {k: u[k] for k in ('id', 'email', 'name', 'profileImagePath',
                                  'avatarColor', 'profileChangedAt')}

    def person_dto(self, p):
        return {'id': p['id'], 'name': p.get('name', ''),
                'birthDate': None, 'isHidden': bool(p.get('isHidden')),
                'isFavorite': False, 'color': '#5a8fbb',
                'thumbnailPath': '/usr/src/app/upload/thumbs/%s.jpeg'
                % p['id'], 'updatedAt': '2024-01-01T00:00:00.000Z'}

    def asset_dto(self, a, tags=True, owner=False, stack=False, people=True):
        d = {}
        d['id'] = a['id']
        d['createdAt'] = a['createdAt']
        d['ownerId'] = a['ownerId']
        if owner:
            d['owner'] = self.user_dto()
        d['libraryId'] = a['libraryId']
        d['type'] = a['type']
        d['originalPath'] = a['originalPath']
        d['originalFileName'] = a['originalFileName']
        d['originalMimeType'] = a['originalMimeType']
        d['thumbhash'] = a['thumbhash']
        d['fileCreatedAt'] = a['fileCreatedAt']
        d['fileModifiedAt'] = a['fileModifiedAt']
        d['localDateTime'] = a['localDateTime']
        d['updatedAt'] = a['updatedAt']
        d['isFavorite'] = bool(a['isFavorite']) and a['_owner'] == 'me'
        d['isArchived'] = a['visibility'] == 'archive'
        d['isTrashed'] = a['deletedAt'] is not None or a['isOffline']
        d['visibility'] = a['visibility']
        d['duration'] = a['duration']
        d['exifInfo'] = dict(a['exifInfo'])
        d['livePhotoVideoId'] = a['livePhotoVideoId']
        if tags:
            d['tags'] = [self.tag_dto(self.tags[t]) for t in a['tagIds']
                         if t in self.tags]
        if people == 'full':
            d['people'] = [self.person_dto(p) for p in self.people_of(a)]
        elif people:
            d['people'] = []
        d['checksum'] = self.checksum(a)
        if stack:
            s = self.stacks.get(a.get('stackId')) if a.get('stackId') else None
            if s:
                cnt = sum(1 for x in self.assets.values()
                          if x.get('stackId') == s['id'] and not x['purged'])
                d['stack'] = {'id': s['id'],
                              'primaryAssetId': s['primaryAssetId'],
                              'assetCount': cnt}
            else:
                d['stack'] = None
        d['isOffline'] = a['isOffline']
        d['hasMetadata'] = a['hasMetadata']
        d['duplicateId'] = a['duplicateId']
        d['resized'] = True
        d['width'] = a['width']
        d['height'] = a['height']
        d['isEdited'] = a['isEdited']
        return d

    def album_assets(self, al):
        return [i for i in al['assetIds']
                if i in self.assets and not self.assets[i]['purged']]

    def album_dto(self, al):
        ids = self.album_assets(al)
        live = [i for i in ids if self.assets[i]['deletedAt'] is None]
        d = {'id': al['id'], 'albumName': al['albumName'],
             'description': al['description'],
             'albumThumbnailAssetId': live[0] if live else None,
             'albumUsers': [{'role': 'owner', 'user': self.user_dto()}],
             'assetCount': len(live), 'createdAt': al['createdAt'],
             'updatedAt': al['updatedAt'], 'hasSharedLink': False,
             'shared': False, 'isActivityEnabled': True, 'order': 'desc'}
        if live:
            dates = sorted(self.assets[i]['fileCreatedAt'] for i in live)
            d['startDate'] = dates[0]
            d['endDate'] = dates[-1]
            d['lastModifiedAssetTimestamp'] = max(
                self.assets[i]['updatedAt'] for i in live)
            d['contributorCounts'] = [{'userId': self.user['id'],
                                       'assetCount': len(live)}]
        return d

    def state_dto(self):
        assets = []
        for i in self.order:
            a = self.assets[i]
            d = self.asset_dto(a, owner=False, stack=True)
            d['purged'] = a['purged']
            d['trashCount'] = a['trashCount']
            d['deletedAt'] = a['deletedAt']
            d['albums'] = [al['id'] for al in self.albums.values()
                           if i in al['assetIds']]
            d['tagValues'] = [self.tags[t]['value'] for t in a['tagIds']
                              if t in self.tags]
            d['size'] = a['_blob'].size()
            d['stackId'] = a.get('stackId')
            d['owner'] = a['_owner']
            d['label'] = a.get('_label')
            assets.append(d)
        albums = []
        for al in self.albums.values():
            d = self.album_dto(al)
            d['assetIds'] = list(al['assetIds'])
            albums.append(d)
        return {'assets': assets, 'albums': albums,
                'tags': [self.tag_dto(t) for t in self.tags.values()],
                'stacks': list(self.stacks.values()),
                'people': list(self.people.values()),
                'faces': {i: self.assets[i]['_faces'] for i in self.order
                          if self.assets[i].get('_faces')},
                'trashEmptyCalls': self.trashEmptyCalls,
                'requests': self.requests,
                'config': {'features': self.features,
                           'errorStyle': self.errorStyle,
                           'permissions': self.permissions,
                           'trashDays': self.trashDays,
                           'dropUpdates': self.dropUpdates,
                           'rejectAlbumAdd': self.rejectAlbumAdd}}

    # ---- operations
    def touch(self, a):
        a['updatedAt'] = now_iso()
        self.dirty.add(a['id'])

    def trash(self, a):
        a['deletedAt'] = now_iso()
        a['trashCount'] += 1
        self.touch(a)

    def purge(self, a):
        a['purged'] = True
        self.dirty.add(a['id'])
        a['deletedAt'] = a['deletedAt'] or now_iso()
        vid = a.get('livePhotoVideoId')
        if vid and vid in self.assets:
            others = [x for x in self.assets.values() if not x['purged'] and
                      x.get('livePhotoVideoId') == vid]
            if not others:
                self.assets[vid]['purged'] = True
                self.dirty.add(vid)
        sid = a.get('stackId')
        if sid and sid in self.stacks:
            rest = [x for x in self.assets.values()
                    if x.get('stackId') == sid and not x['purged']]
            if len(rest) < 2:
                for x in rest:
                    x['stackId'] = None
                    self.dirty.add(x['id'])
                del self.stacks[sid]
            elif self.stacks[sid]['primaryAssetId'] == a['id']:
                self.stacks[sid]['primaryAssetId'] = rest[0]['id']

    def cleanup_singletons(self):
        groups = {}
        for i in self.order:
            a = self.assets[i]
            if a['purged'] or not a['duplicateId']:
                continue
            g = groups.setdefault(a['duplicateId'], [0, []])
            g[1].append(a)
            if a['deletedAt'] is None and not a.get('stackId'):
                g[0] += 1
        for cnt, members in groups.values():
            if cnt == 1:
                for a in members:
                    a['duplicateId'] = None
                    self.touch(a)

    def duplicate_groups(self):
        groups = {}
        for i in self.order:
            a = self.assets[i]
            if (a['purged'] or not a['duplicateId'] or a['_owner'] != 'me' or
                    a['deletedAt'] is not None or a['isOffline'] or
                    a.get('stackId') or
                    a['visibility'] not in ('timeline', 'archive')):
                continue
            groups.setdefault(a['duplicateId'], []).append(a)
        out = []
        for gid, members in groups.items():
            if len(members) < 2:
                continue
            members.sort(key=lambda x: x['localDateTime'])
            out.append((gid, members))
        return out

    def group_has_live(self, gid):
        return any(a['duplicateId'] == gid and not a['purged'] and
                   a['deletedAt'] is None and a['_owner'] == 'me'
                   for a in self.assets.values())


def suggest_keep(members):
    best, bkey = None, None
    for a in members:
        ex = a['exifInfo']
        key = (ex.get('fileSizeInByte') or 0,
               sum(1 for v in ex.values() if js_truthy(v)))
        if bkey is None or key >= bkey:
            best, bkey = a, key
    return [best['id']] if best else []


def parse_when(s):
    """datetime (aware) of an ISO string, or None."""
    if not isinstance(s, str):
        return None
    try:
        d = dt.datetime.fromisoformat(s.replace('Z', '+00:00'))
    except ValueError:
        return None
    return d


def tz_name(off):
    secs = int(off.total_seconds())
    if secs == 0:
        return 'UTC'
    sign = '+' if secs > 0 else '-'
    secs = abs(secs)
    h, m = secs // 3600, (secs % 3600) // 60
    return 'UTC%s%d' % (sign, h) + (':%02d' % m if m else '')


def tz_offset(name):
    m = re.match(r'^UTC(?:([+-])(\d+)(?::(\d\d))?)?$', name or '')
    if not m:
        return None
    if not m.group(1):
        return dt.timedelta(0)
    d = dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))
    return d if m.group(1) == '+' else -d


def fmt_utc(d):
    d = d.astimezone(dt.timezone.utc)
    return d.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (d.microsecond // 1000)


def local_of(when, tz):
    """localDateTime: the wall-clock time in tz, written as UTC."""
    d = parse_when(when)
    if d is None:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone.utc)
    off = tz_offset(tz) if tz else None
    if off is None:
        off = d.utcoffset() or dt.timedelta(0)
    wall = d.astimezone(dt.timezone.utc) + off
    return fmt_utc(wall.replace(tzinfo=dt.timezone.utc))


ST = State()


# --------------------------------------------------------------------------
# Routes.  Each handler gets (h, params, query, body) and returns a
# Resp or raises ApiError.

class Resp:
    def __init__(self, status=200, obj=None, raw=None, headers=None,
                 blob=None, start=0, end=0, ctype=None, reason=None):
        self.status = status
        self.reason = reason
        self.headers = list(headers or [])
        self.blob, self.start, self.end = blob, start, end
        if obj is not None or (raw is None and blob is None and
                               status not in (204, 304)):
            raw = json.dumps(obj, separators=(',', ':')).encode()
            ctype = ctype or 'application/json; charset=utf-8'
        self.raw = raw
        self.ctype = ctype

    def length(self):
        if self.blob is not None:
            return self.end - self.start
        return len(self.raw) if self.raw is not None else 0

    def chunks(self):
        if self.blob is not None:
            yield from self.blob.chunks(self.start, self.end)
        elif self.raw:
            yield self.raw


ROUTES = []


def route(method, pattern, perm):
    def deco(fn):
        ROUTES.append((method, re.compile('^/api' + pattern + '$'), perm, fn))
        return fn
    return deco


def path_uuid(v, name='id'):
    c = Check()
    c.uuid(v, [name], name)
    c.raise_if()


@route('GET', '/server/ping', None)
def r_ping(h, p, q, b):
    return Resp(obj={'res': 'pong'})


@route('GET', '/server/version', None)
def r_version(h, p, q, b):
    return Resp(obj={'major': 3, 'minor': 1, 'patch': 0, 'prerelease': None})


@route('GET', '/server/features', None)
def r_features(h, p, q, b):
    return Resp(obj={k: bool(ST.features.get(k, False))
                     for k in FEATURE_KEYS})


@route('GET', '/server/config', None)
def r_config(h, p, q, b):
    return Resp(obj={'loginPageMessage': '', 'trashDays': ST.trashDays,
                     'userDeleteDelay': 7, 'oauthButtonText': 'Login with OAuth',
                     'isInitialized': True, 'isOnboarded': True,
                     'externalDomain': '', 'publicUsers': True,
                     'mapDarkStyleUrl': 'https://tiles.immich.cloud/v1/style/dark.json',
                     'mapLightStyleUrl': 'https://tiles.immich.cloud/v1/style/light.json',
                     'maintenanceMode': False, 'minFaces': 3})


@route('GET', '/users/me', 'user.read')
def r_me(h, p, q, b):
    u = dict(ST.user_dto())
    u.update({'isAdmin': ST.user.get('isAdmin', True),
              'createdAt': ST.user['createdAt'],
              'updatedAt': ST.user['updatedAt'], 'deletedAt': None,
              'shouldChangePassword': False, 'oauthId': '',
              'storageLabel': 'admin', 'quotaSizeInBytes': None,
              'quotaUsageInBytes': sum(a['_blob'].size()
                                       for a in ST.assets.values()
                                       if not a['purged']),
              'status': 'active', 'license': None})
    return Resp(obj=u)


@route('GET', '/duplicates', 'duplicate.read')
def r_dupes(h, p, q, b):
    ST.cleanup_singletons()
    out = []
    for gid, members in ST.duplicate_groups():
        out.append({'duplicateId': gid,
                    'assets': [ST.asset_dto(a) for a in members],
                    'suggestedKeepAssetIds': suggest_keep(members)})
    return Resp(obj=out)


def dismiss(ids):
    for g in ids:
        if not ST.group_has_live(g):
            raise bad('Not found or no duplicate.delete access')
    for a in ST.assets.values():
        if a['duplicateId'] in ids:
            a['duplicateId'] = None
            ST.touch(a)


@route('DELETE', '/duplicates', 'duplicate.delete')
def r_dupes_delete(h, p, q, b):
    check_body_object(b)
    c = Check()
    ids = c.uuids(b, 'ids')
    c.raise_if()
    dismiss(set(ids))
    h.mutated = True
    return Resp(204)


@route('DELETE', '/duplicates/(?P<id>[^/]+)', 'duplicate.delete')
def r_dupe_delete(h, p, q, b):
    path_uuid(p['id'])
    dismiss({p['id']})
    h.mutated = True
    return Resp(204)


@route('POST', '/duplicates/resolve', 'duplicate.delete')
def r_resolve(h, p, q, b):
    check_body_object(b)
    c = Check()
    groups = b.get('groups')
    if not isinstance(groups, list) or not groups:
        c.add(['groups'], 'too_small' if isinstance(groups, list) else
              'invalid_type', 'Invalid input: expected array',
              'groups must be an array', expected='array')
        c.raise_if()
    for n, g in enumerate(groups):
        if not isinstance(g, dict):
            c.add(['groups', n], 'invalid_type', 'Invalid input',
                  'groups must be objects', expected='object')
            continue
        c.uuid(g.get('duplicateId'), ['groups', n, 'duplicateId'],
               'duplicateId')
        for k in ('keepAssetIds', 'trashAssetIds'):
            v = g.get(k)
            if not isinstance(v, list):
                c.add(['groups', n, k], 'invalid_type',
                      'Invalid input: expected array', '%s must be an array'
                      % k, expected='array')
                continue
            for i, x in enumerate(v):
                c.uuid(x, ['groups', n, k, i], k)
    c.raise_if()
    for g in groups:
        if not ST.group_has_live(g['duplicateId']):
            raise bad('Not found or no duplicate.delete access')
    results = []
    for g in groups:
        gid = g['duplicateId']
        members = [a for a in ST.duplicate_groups_all(gid)]
        if not members:
            results.append({'id': gid, 'success': False,
                            'error': 'not_found'})
            continue
        mids = [a['id'] for a in members]
        keep = [i for i in g['keepAssetIds'] if i in mids]
        trash = [i for i in g['trashAssetIds'] if i in mids]
        if set(keep) & set(trash):
            results.append({'id': gid, 'success': False,
                            'error': 'validation', 'errorMessage':
                            'An asset cannot be in both keep and trash'})
            continue
        if set(keep) | set(trash) != set(mids):
            results.append({'id': gid, 'success': False,
                            'error': 'validation', 'errorMessage':
                            'Every asset must be in either keep or trash'})
            continue
        byid = {a['id']: a for a in members}
        if len(keep) == 1 and trash:
            merge_into(byid[keep[0]], members)
        for i in keep:
            byid[i]['duplicateId'] = None
            ST.touch(byid[i])
        for i in trash:
            a = byid[i]
            a['duplicateId'] = None
            ST.trash(a)
            if not ST.features.get('trash', True):
                ST.purge(a)
        results.append({'id': gid, 'success': True})
    h.mutated = True
    return Resp(obj=results)


def _dga(self, gid):
    ms = [a for a in (self.assets[i] for i in self.order)
          if a['duplicateId'] == gid and not a['purged'] and
          a['_owner'] == 'me' and a['deletedAt'] is None and
          not a.get('stackId') and a['visibility'] in ('timeline', 'archive')]
    ms.sort(key=lambda x: x['localDateTime'])
    return ms


State.duplicate_groups_all = _dga


def merge_into(k, members):
    ex = k['exifInfo']
    k['isFavorite'] = any(a['isFavorite'] for a in members)
    vis = [a['visibility'] for a in members]
    for v in ('locked', 'archive', 'timeline', 'hidden'):
        if v in vis:
            k['visibility'] = v
            break
    ratings = [a['exifInfo'].get('rating') or 0 for a in members]
    if max(ratings) > 0:
        ex['rating'] = max(ratings)
    lines = []
    for a in members:
        for ln in (a['exifInfo'].get('description') or '').split('\n'):
            ln = ln.strip()
            if ln and ln not in lines:
                lines.append(ln)
    ex['description'] = '\n'.join(lines)
    locs = {(a['exifInfo'].get('latitude'), a['exifInfo'].get('longitude'))
            for a in members if a['exifInfo'].get('latitude') is not None}
    if len(locs) == 1:
        ex['latitude'], ex['longitude'] = locs.pop()
    for al in ST.albums.values():
        if al['owner'] == 'me' and any(a['id'] in al['assetIds']
                                       for a in members):
            if k['id'] not in al['assetIds']:
                al['assetIds'].append(k['id'])
    tags = []
    for a in members:
        for t in a['tagIds']:
            if t not in tags:
                tags.append(t)
    k['tagIds'] = tags
    ST.touch(k)


@route('GET', '/assets/(?P<id>[^/]+)', 'asset.read')
def r_asset(h, p, q, b):
    path_uuid(p['id'])
    a = ST.require([p['id']], 'asset.read')[0]
    return Resp(obj=ST.asset_dto(a, owner=True, stack=True, people='full'))


def check_update(b, bulk):
    check_body_object(b)
    c = Check()
    ids = c.uuids(b, 'ids') if bulk else None
    c.typed(b, 'isFavorite', (bool,), 'boolean')
    if 'visibility' in b and b['visibility'] not in VISIBILITIES:
        c.add(['visibility'], 'invalid_value',
              'Invalid option: expected one of "archive"|"timeline"|'
              '"hidden"|"locked"', 'visibility must be one of the following '
              'values: archive, timeline, hidden, locked',
              values=list(VISIBILITIES))
    c.typed(b, 'dateTimeOriginal', (str,), 'string')
    c.typed(b, 'description', (str,), 'string')
    c.typed(b, 'latitude', (int, float), 'number')
    c.typed(b, 'longitude', (int, float), 'number')
    c.rng(b, 'latitude', -90, 90)
    c.rng(b, 'longitude', -180, 180)
    if ('latitude' in b) != ('longitude' in b):
        miss = 'longitude' if 'latitude' in b else 'latitude'
        c.add([miss], 'invalid_type',
              'Invalid input: expected number, received undefined',
              '%s must be a number conforming to the specified constraints'
              % miss, expected='number')
    if 'rating' in b and b['rating'] is not None:
        r = b['rating']
        if isinstance(r, bool) or not isinstance(r, int):
            c.add(['rating'], 'invalid_type',
                  'Invalid input: expected int, received %s' % jstype(r),
                  'rating must be an integer number', expected='int')
        elif r == 0 or r < -1 or r > 5:
            c.add(['rating'], 'custom', 'Invalid input',
                  'rating must be -1 or between 1 and 5')
    if not bulk and 'livePhotoVideoId' in b and b['livePhotoVideoId'] is not None:
        c.uuid(b['livePhotoVideoId'], ['livePhotoVideoId'], 'livePhotoVideoId')
    if bulk:
        if 'duplicateId' in b and b['duplicateId'] is not None and \
                not isinstance(b['duplicateId'], str):
            c.add(['duplicateId'], 'invalid_type', 'Invalid input',
                  'duplicateId must be a string', expected='string')
        c.typed(b, 'dateTimeRelative', (int,), 'int')
        c.typed(b, 'timeZone', (str,), 'string')
        if 'dateTimeRelative' in b and 'dateTimeOriginal' in b:
            c.add(['dateTimeRelative'], 'custom',
                  'dateTimeRelative cannot be combined with dateTimeOriginal',
                  'dateTimeRelative cannot be combined with dateTimeOriginal')
    c.raise_if()
    return ids


def apply_update(a, b, bulk):
    ex = a['exifInfo']
    drop = set(ST.dropUpdates)
    if 'isFavorite' in b and 'isFavorite' not in drop:
        a['isFavorite'] = b['isFavorite']
    if 'visibility' in b and 'visibility' not in drop:
        a['visibility'] = b['visibility']
        if b['visibility'] == 'locked':
            for al in ST.albums.values():
                if a['id'] in al['assetIds']:
                    al['assetIds'].remove(a['id'])
    if 'description' in b and 'description' not in drop:
        ex['description'] = b['description']
    if 'rating' in b and 'rating' not in drop:
        ex['rating'] = b['rating']
    if 'latitude' in b and 'latitude' not in drop and 'longitude' not in drop:
        ex['latitude'] = b['latitude']
        ex['longitude'] = b['longitude']
    if 'dateTimeOriginal' in b and 'dateTimeOriginal' not in drop:
        d = parse_when(b['dateTimeOriginal'])
        if d is None:
            raise ApiError(500, 'Failed to update asset')
        if d.tzinfo is not None:
            ex['timeZone'] = tz_name(d.utcoffset())
        else:
            d = d.replace(tzinfo=dt.timezone.utc)
        ex['dateTimeOriginal'] = fmt_utc(d)
        a['localDateTime'] = local_of(ex['dateTimeOriginal'], ex['timeZone'])
    if bulk:
        if 'timeZone' in b and 'timeZone' not in drop:
            ex['timeZone'] = b['timeZone']
        if 'dateTimeRelative' in b and ex.get('dateTimeOriginal'):
            d = parse_when(ex['dateTimeOriginal']) + \
                dt.timedelta(minutes=b['dateTimeRelative'])
            ex['dateTimeOriginal'] = fmt_utc(d)
            a['localDateTime'] = local_of(ex['dateTimeOriginal'],
                                          ex['timeZone'])
        if 'duplicateId' in b and 'duplicateId' not in drop:
            a['duplicateId'] = b['duplicateId']
    if not bulk and 'livePhotoVideoId' in b:
        v = b['livePhotoVideoId']
        if v is not None:
            vid = ST.visible(v)
            if vid is None or vid['type'] != 'VIDEO':
                raise bad('Not found or no asset.update access')
            vid['visibility'] = 'hidden'
        a['livePhotoVideoId'] = v
    # Immich writes exif fields (description, rating, GPS, date) to
    # asset_exif and touches the asset row, and with it updatedAt, only
    # for fields of the row itself.
    if any(k in b for k in ('isFavorite', 'visibility', 'livePhotoVideoId',
                            'duplicateId')):
        ST.touch(a)
    else:
        ST.dirty.add(a['id'])


@route('PUT', '/assets/(?P<id>[^/]+)', 'asset.update')
def r_asset_put(h, p, q, b):
    path_uuid(p['id'])
    check_update(b, False)
    a = ST.require([p['id']], 'asset.update')[0]
    apply_update(a, b, False)
    h.mutated = True
    return Resp(obj=ST.asset_dto(a, tags=False))


@route('PUT', '/assets', 'asset.update')
def r_assets_put(h, p, q, b):
    ids = check_update(b, True)
    assets = ST.require(ids, 'asset.update')
    for a in assets:
        apply_update(a, b, True)
    h.mutated = True
    return Resp(204)


@route('DELETE', '/assets', 'asset.delete')
def r_assets_delete(h, p, q, b):
    check_body_object(b)
    c = Check()
    ids = c.uuids(b, 'ids')
    c.typed(b, 'force', (bool,), 'boolean')
    c.raise_if()
    assets = ST.require(list(dict.fromkeys(ids)), 'asset.delete')
    for a in assets:
        ST.trash(a)
        if b.get('force'):
            ST.purge(a)
    h.mutated = True
    return Resp(204)


@route('POST', '/trash/restore/assets', 'asset.delete')
def r_restore_assets(h, p, q, b):
    check_body_object(b)
    c = Check()
    ids = c.uuids(b, 'ids')
    c.raise_if()
    assets = ST.require(ids, 'asset.delete')
    for a in assets:
        if a['deletedAt'] is not None and not a['isOffline']:
            a['deletedAt'] = None
            ST.touch(a)
    h.mutated = True
    return Resp(obj={'count': len(ids)})


@route('POST', '/trash/restore', 'asset.delete')
def r_restore_all(h, p, q, b):
    n = 0
    for a in ST.assets.values():
        if (not a['purged'] and a['_owner'] == 'me' and
                a['deletedAt'] is not None and not a['isOffline']):
            a['deletedAt'] = None
            ST.touch(a)
            n += 1
    h.mutated = True
    return Resp(obj={'count': n})


@route('POST', '/trash/empty', 'asset.delete')
def r_trash_empty(h, p, q, b):
    ST.trashEmptyCalls += 1
    n = 0
    for a in list(ST.assets.values()):
        if not a['purged'] and a['_owner'] == 'me' and a['deletedAt']:
            ST.purge(a)
            n += 1
    h.mutated = True
    return Resp(obj={'count': n})


def content_disposition(name, blob_name):
    stem = name.rsplit('.', 1)[0] if '.' in name else name
    ext = '.' + blob_name.rsplit('.', 1)[1] if '.' in blob_name else ''
    return "inline; filename*=UTF-8''" + urllib.parse.quote(stem + ext,
                                                           safe='')


@route('GET', '/assets/(?P<id>[^/]+)/original', 'asset.download')
def r_original(h, p, q, b):
    path_uuid(p['id'])
    a = ST.visible(p['id'])
    if a is None:
        x = ST.assets.get(p['id'])
        if ST.errorStyle == 'v2' or (x is not None and not x['purged']):
            # a foreign or locked asset fails the access check
            raise bad('Not found or no asset.download access')
        raise ApiError(404, 'Not Found')   # v3: unknown or purged
    if a['_missing'] or a['isOffline']:
        raise ApiError(404, 'Not Found')
    blob = a['_blob']
    size = blob.size()
    mtime = blob.mtime()
    etag = 'W/"%x-%x"' % (size, int(mtime * 1000))
    hdrs = [('Cache-Control', 'private, max-age=86400, no-transform, '
             'stale-while-revalidate=2592000, stale-if-error=2592000'),
            ('Content-Disposition', content_disposition(
                a['originalFileName'], a['originalPath'])),
            ('Accept-Ranges', 'bytes'),
            ('Last-Modified', h.date_time_string(int(mtime))),
            ('ETag', etag)]
    ctype = mime_of(a['originalPath'])
    inm = h.headers.get('If-None-Match')
    if inm and (inm.strip() == '*' or etag in [x.strip() for x in
                                               inm.split(',')]):
        return Resp(304, headers=hdrs)
    rng = h.headers.get('Range')
    ifr = h.headers.get('If-Range')
    if rng and ifr and ifr.strip() != etag and \
            ifr.strip() != h.date_time_string(int(mtime)):
        rng = None
    if rng:
        r = parse_range(rng, size)
        if r == 'bad':
            return Resp(416, obj={'message': 'Range Not Satisfiable'},
                        headers=[('Content-Range', 'bytes */%d' % size)])
        if r is not None:
            s, e = r
            hdrs.append(('Content-Range', 'bytes %d-%d/%d' % (s, e - 1, size)))
            return Resp(206, headers=hdrs, blob=blob, start=s, end=e,
                        ctype=ctype)
    return Resp(200, headers=hdrs, blob=blob, start=0, end=size, ctype=ctype)


def parse_range(v, size):
    """(start, end) exclusive, None to ignore the header, 'bad' for 416."""
    m = re.match(r'^\s*bytes\s*=\s*(.*)$', v)
    if not m:
        return None
    specs = [x.strip() for x in m.group(1).split(',') if x.strip()]
    if len(specs) != 1:
        return None
    m = re.match(r'^(\d*)-(\d*)$', specs[0])
    if not m or (m.group(1) == '' and m.group(2) == ''):
        return None
    if m.group(1) == '':
        n = int(m.group(2))
        if n == 0:
            return 'bad'
        return (max(0, size - n), size)
    s = int(m.group(1))
    e = int(m.group(2)) + 1 if m.group(2) else size
    e = min(e, size)
    if s >= size or s >= e:
        return 'bad'
    return (s, e)


@route('GET', '/assets/(?P<id>[^/]+)/thumbnail', 'asset.view')
def r_thumb(h, p, q, b):
    path_uuid(p['id'])
    a = ST.visible(p['id'], own=False)
    if a is None:
        raise bad('Not found or no asset.view access')
    if not a['_thumbnail']:
        raise ApiError(404, 'Not Found')
    return Resp(200, raw=THUMB, ctype='image/jpeg',
                headers=[('Cache-Control', 'private, max-age=86400, '
                          'no-transform')])


@route('POST', '/assets', 'asset.upload')
def r_upload(h, p, q, b):
    form = h.form
    if form is None:
        c = Check()
        c.add(['assetData'], 'custom', 'Invalid input: expected file',
              'assetData is required')
        c.raise_if()
    fields, fpart = form
    c = Check()
    if ST.errorStyle == 'v2':
        for k in ('deviceAssetId', 'deviceId'):
            if not fields.get(k):
                c.add([k], 'invalid_type', 'Invalid input',
                      '%s must be a string' % k)
                c.add([k], 'invalid_type', 'Invalid input',
                      '%s should not be empty' % k)
    for k in ('fileCreatedAt', 'fileModifiedAt'):
        v = fields.get(k)
        if v is None or not ISO_RE.match(v):
            c.add([k], 'invalid_format',
                  'Invalid input: expected ISO 8601 datetime string, '
                  'received %s' % ('undefined' if v is None else 'string'),
                  '%s must be a valid ISO 8601 date string' % k,
                  format='datetime')
    if 'visibility' in fields and fields['visibility'] not in VISIBILITIES:
        c.add(['visibility'], 'invalid_value', 'Invalid option',
              'visibility must be one of the following values')
    if 'isFavorite' in fields and fields['isFavorite'] not in ('true', 'false'):
        c.add(['isFavorite'], 'invalid_type', 'Invalid input',
              'isFavorite must be a boolean value')
    if fields.get('livePhotoVideoId'):
        c.uuid(fields['livePhotoVideoId'], ['livePhotoVideoId'],
               'livePhotoVideoId')
    if fpart is None:
        c.add(['assetData'], 'custom', 'Invalid input: expected file',
              'assetData is required')
    c.raise_if()
    fname, path, sha1, size = fpart
    for a in ST.assets.values():
        if (not a['purged'] and a['_owner'] == 'me' and not a['libraryId'] and
                ST.checksum(a) == sha1):
            os.unlink(path)
            h.mutated = True
            return Resp(200, obj={'status': 'duplicate', 'id': a['id']})
    name = fields.get('filename') or fname or 'file'
    aid = new_uuid()
    dest = os.path.join(ST.data_dir, aid)
    shutil.move(path, dest)
    spec = {'id': aid, 'originalFileName': name,
            'visibility': fields.get('visibility', 'timeline'),
            'isFavorite': fields.get('isFavorite') == 'true',
            'fileCreatedAt': fields['fileCreatedAt'],
            'fileModifiedAt': fields['fileModifiedAt'],
            'localDateTime': fmt_utc(parse_when(fields['fileCreatedAt'])),
            'checksum': sha1}
    if fields.get('livePhotoVideoId'):
        spec['livePhotoVideoId'] = fields['livePhotoVideoId']
    if fields.get('duration'):
        try:
            spec['duration'] = int(fields['duration'])
        except ValueError:
            pass
    a = ST.add_asset(spec)
    a['_blob'] = Blob('file', path=dest)
    a['_blob']._sha1 = sha1
    a['exifInfo']['fileSizeInByte'] = size
    a['createdAt'] = a['updatedAt'] = now_iso()
    a['originalPath'] = '/usr/src/app/upload/upload/%s/%s/%s/%s%s' % (
        ST.user['id'], aid[0:2], aid[2:4], aid,
        ('.' + name.rsplit('.', 1)[1].lower()) if '.' in name else '')
    a['_uploaded'] = True
    h.mutated = True
    return Resp(201, obj={'id': aid, 'status': 'created'})


@route('POST', '/assets/bulk-upload-check', 'asset.upload')
def r_bulk_upload_check(h, p, q, b):
    # (added by helper "trash") Like the server's bulkUploadCheck: every
    # asset of the user with that checksum (base64 or hex), trashed ones
    # included, any library; the last one wins when several match.
    check_body_object(b)
    items = b.get('assets')
    if not isinstance(items, list) or not all(
            isinstance(x, dict) and isinstance(x.get('id'), str) and
            isinstance(x.get('checksum'), str) for x in items):
        c = Check()
        c.add(['assets'], 'invalid_type', 'Invalid input',
              'assets must be an array of {id, checksum}')
        c.raise_if()
    by = {}
    for i in ST.order:
        a = ST.assets.get(i)
        if a is None or a['purged'] or a['_owner'] != 'me':
            continue
        by[ST.checksum(a)] = a
    out = []
    for x in items:
        ck = x['checksum']
        if len(ck) == 40:
            try:
                ck = base64.b64encode(bytes.fromhex(ck)).decode()
            except ValueError:
                pass
        a = by.get(ck)
        if a is None:
            out.append({'id': x['id'], 'action': 'accept'})
        else:
            out.append({'id': x['id'], 'action': 'reject',
                        'reason': 'duplicate', 'assetId': a['id'],
                        'isTrashed': a['deletedAt'] is not None})
    return Resp(obj={'results': out})


@route('GET', '/albums', 'album.read')
def r_albums(h, p, q, b):
    aid = q.get('assetId')
    out = []
    if aid is not None:
        path_uuid(aid, 'assetId')
    for al in ST.albums.values():
        if al['owner'] != 'me':
            continue
        if aid is not None and aid not in ST.album_assets(al):
            continue
        if 'name' in q and al['albumName'] != q['name']:
            continue
        out.append(ST.album_dto(al))
    return Resp(obj=out)


@route('GET', '/albums/(?P<id>[^/]+)', 'album.read')
def r_album(h, p, q, b):
    path_uuid(p['id'])
    al = ST.albums.get(p['id'])
    if al is None or al['owner'] != 'me':
        raise bad('Not found or no album.read access')
    return Resp(obj=ST.album_dto(al))


def add_to_album(al, ids):
    out = []
    for i in ids:
        a = ST.visible(i)
        if a is None:
            out.append({'id': i, 'success': False, 'error': 'no_permission'})
        elif i in al['assetIds']:
            out.append({'id': i, 'success': False, 'error': 'duplicate'})
        else:
            al['assetIds'].append(i)
            al['updatedAt'] = now_iso()
            out.append({'id': i, 'success': True})
    return out


@route('PUT', '/albums/(?P<id>[^/]+)/assets', 'albumAsset.create')
def r_album_add(h, p, q, b):
    path_uuid(p['id'])
    check_body_object(b)
    c = Check()
    ids = c.uuids(b, 'ids')
    c.raise_if()
    al = ST.albums.get(p['id'])
    if al is None:
        raise bad('Album not found')
    if al['owner'] != 'me' or p['id'] in ST.rejectAlbumAdd:
        raise bad('Not found or no albumAsset.create access')
    h.mutated = True
    return Resp(obj=add_to_album(al, ids))


def remove_ids(have, ids):
    """BulkIdResponseDto[] of taking ids out of the list have (FACTS:
    removeAssets in asset.util.ts): not_found when not in it."""
    out = []
    for i in ids:
        if i in have:
            have.remove(i)
            out.append({'id': i, 'success': True})
        else:
            out.append({'id': i, 'success': False, 'error': 'not_found'})
    return out


@route('DELETE', '/albums/(?P<id>[^/]+)/assets', 'albumAsset.delete')
def r_album_remove(h, p, q, b):
    path_uuid(p['id'])
    check_body_object(b)
    c = Check()
    ids = c.uuids(b, 'ids')
    c.raise_if()
    al = ST.albums.get(p['id'])
    if al is None or al['owner'] != 'me':
        raise bad('Not found or no albumAsset.delete access')
    out = remove_ids(al['assetIds'], ids)
    if any(r['success'] for r in out):
        al['updatedAt'] = now_iso()
    h.mutated = True
    return Resp(obj=out)


@route('PUT', '/albums/assets', 'albumAsset.create')
def r_albums_add(h, p, q, b):
    check_body_object(b)
    c = Check()
    alids = c.uuids(b, 'albumIds')
    ids = c.uuids(b, 'assetIds')
    c.raise_if()
    albums = []
    for i in alids:
        al = ST.albums.get(i)
        if al is None or al['owner'] != 'me' or i in ST.rejectAlbumAdd:
            raise bad('Not found or no albumAsset.create access')
        albums.append(al)
    results = []
    for al in albums:
        results += add_to_album(al, ids)
    h.mutated = True
    if any(r['success'] for r in results):
        return Resp(obj={'success': True})
    err = 'duplicate' if results and all(r.get('error') == 'duplicate'
                                         for r in results) else 'no_permission'
    return Resp(obj={'success': False, 'error': err})


@route('GET', '/tags', 'tag.read')
def r_tags(h, p, q, b):
    return Resp(obj=[ST.tag_dto(t) for t in ST.tags.values()])


@route('PUT', '/tags', 'tag.create')
def r_tags_upsert(h, p, q, b):
    check_body_object(b)
    c = Check()
    tags = b.get('tags')
    if not isinstance(tags, list) or not all(isinstance(x, str)
                                              for x in tags):
        c.add(['tags'], 'invalid_type', 'Invalid input: expected array',
              'each value in tags must be a string', expected='array')
    c.raise_if()
    h.mutated = True
    return Resp(obj=[ST.tag_dto(ST.upsert_tag(v)) for v in tags])


@route('PUT', '/tags/(?P<id>[^/]+)/assets', 'tag.asset')
def r_tag_assets(h, p, q, b):
    path_uuid(p['id'])
    check_body_object(b)
    c = Check()
    ids = c.uuids(b, 'ids')
    c.raise_if()
    if p['id'] not in ST.tags:
        raise bad('Not found or no tag.asset access')
    out = []
    for i in ids:
        a = ST.visible(i)
        if a is None:
            out.append({'id': i, 'success': False, 'error': 'no_permission'})
        elif p['id'] in a['tagIds']:
            out.append({'id': i, 'success': False, 'error': 'duplicate'})
        else:
            a['tagIds'].append(p['id'])
            ST.dirty.add(a['id'])   # tag_asset: updatedAt unchanged
            out.append({'id': i, 'success': True})
    h.mutated = True
    return Resp(obj=out)


@route('DELETE', '/tags/(?P<id>[^/]+)/assets', 'tag.asset')
def r_tag_remove(h, p, q, b):
    path_uuid(p['id'])
    check_body_object(b)
    c = Check()
    ids = c.uuids(b, 'ids')
    c.raise_if()
    if p['id'] not in ST.tags:
        raise bad('Not found or no tag.asset access')
    out = []
    for i in ids:
        a = ST.visible(i)
        r = remove_ids(a['tagIds'] if a else [], [p['id']])[0]
        r['id'] = i
        if a and r['success']:
            ST.touch(a)
        out.append(r)
    h.mutated = True
    return Resp(obj=out)


@route('PUT', '/tags/assets', 'tag.asset')
def r_tags_assets(h, p, q, b):
    check_body_object(b)
    c = Check()
    tids = c.uuids(b, 'tagIds')
    ids = c.uuids(b, 'assetIds')
    c.raise_if()
    n = 0
    for t in tids:
        if t not in ST.tags:
            continue
        for i in ids:
            a = ST.visible(i)
            if a is None or t in a['tagIds']:
                continue
            a['tagIds'].append(t)
            ST.dirty.add(a['id'])   # tag_asset: updatedAt unchanged
            n += 1
    h.mutated = True
    return Resp(obj={'count': n})


@route('GET', '/people', 'person.read')
def r_people(h, p, q, b):
    """PeopleResponseDto: people with a face on a timeline asset in no
    trash, named or with at least 3 such faces (getAllForUser)."""
    hidden = q.get('withHidden') == 'true'
    count = {}
    for a in ST.assets.values():
        if a['purged'] or a['deletedAt'] or a['_owner'] != 'me' or \
                a['visibility'] != 'timeline':
            continue
        for f in ST.faces_of(a):
            if f['personId'] in ST.people:
                count[f['personId']] = count.get(f['personId'], 0) + 1
    listed = [ST.people[i] for i in count
              if ST.people[i].get('name') or count[i] >= 3]
    shown = [x for x in listed if hidden or not x.get('isHidden')]
    try:
        size = int(q.get('size', 500))
        page = int(q.get('page', 1))
    except ValueError:
        raise bad('Validation failed')
    if size < 1 or page < 1:
        raise bad('Validation failed')
    return Resp(obj={'total': len(listed),
                     'hidden': sum(1 for x in listed if x.get('isHidden')),
                     'people': [ST.person_dto(x) for x in
                                shown[(page - 1) * size:page * size]],
                     'hasNextPage': len(shown) > page * size})


@route('GET', '/faces', 'face.read')
def r_faces(h, p, q, b):
    c = Check()
    c.uuid(q.get('id'), ['id'], 'id')
    c.raise_if()
    a = ST.require([q['id']], 'face.read')[0]
    return Resp(obj=[ST.face_dto(f) for f in ST.faces_of(a)])


@route('POST', '/faces', 'face.create')
def r_face_create(h, p, q, b):
    check_body_object(b)
    c = Check()
    c.uuid(b.get('assetId'), ['assetId'], 'assetId')
    c.uuid(b.get('personId'), ['personId'], 'personId')
    for k in ('imageWidth', 'imageHeight', 'x', 'y', 'width', 'height'):
        v = b.get(k)
        if isinstance(v, bool) or not isinstance(v, int):
            c.add([k], 'invalid_type',
                  'Invalid input: expected int, received %s' % jstype(v),
                  '%s must be an integer number' % k, expected='int')
    c.raise_if()
    a = ST.require([b['assetId']], 'asset.update')[0]
    if b['personId'] not in ST.people:
        raise bad('Not found or no person.read access')
    ST.add_face(a, {'personId': b['personId'], 'sourceType': 'manual',
                    'imageWidth': b['imageWidth'],
                    'imageHeight': b['imageHeight'],
                    'boundingBoxX1': b['x'], 'boundingBoxY1': b['y'],
                    'boundingBoxX2': b['x'] + b['width'],
                    'boundingBoxY2': b['y'] + b['height']})
    h.mutated = True
    return Resp(201, raw=b'')


@route('DELETE', '/faces/(?P<id>[^/]+)', 'face.delete')
def r_face_delete(h, p, q, b):
    path_uuid(p['id'])
    check_body_object(b)
    c = Check()
    if not isinstance(b.get('force'), bool):
        c.add(['force'], 'invalid_type',
              'Invalid input: expected boolean, received %s'
              % jstype(b.get('force')), 'force must be a boolean value',
              expected='boolean')
    c.raise_if()
    for aid in ST.order:
        a = ST.visible(aid)
        for f in (a.get('_faces', []) if a else []):
            if f['id'] == p['id'] and f['deletedAt'] is None:
                if b['force']:
                    a['_faces'].remove(f)
                else:
                    f['deletedAt'] = now_iso()
                ST.dirty.add(aid)
                h.mutated = True
                return Resp(204)
    raise bad('Not found or no face.delete access')


@route('POST', '/search/metadata', 'asset.read')
def r_search(h, p, q, b):
    if b is None:
        b = {}
    check_body_object(b)
    c = Check()
    if 'id' in b:
        c.uuid(b['id'], ['id'], 'id')
    c.typed(b, 'page', (int,), 'int')
    c.typed(b, 'size', (int,), 'int')
    c.rng(b, 'size', 1, 1000)
    c.rng(b, 'page', 1, 9007199254740991)
    albumIds = c.uuids(b, 'albumIds', required=False) or []
    personIds = c.uuids(b, 'personIds', required=False) or []
    for k in ('updatedAfter', 'updatedBefore'):
        if k in b and (not isinstance(b[k], str) or
                       parse_when(b[k]) is None or
                       parse_when(b[k]).tzinfo is None):
            c.add([k], 'invalid_format', 'Invalid ISO datetime',
                  '%s must be a valid ISO 8601 date string' % k)
    c.raise_if()
    for x in albumIds:
        al = ST.albums.get(x)
        if al is None or al['owner'] != 'me':
            raise bad('Not found or no album.read access')
    items = []
    for i in ST.order:
        a = ST.visible(i)
        if a is None:
            continue
        if a['deletedAt'] and not b.get('withDeleted'):
            continue
        if 'id' in b and a['id'] != b['id']:
            continue
        if 'checksum' in b and ST.checksum(a) != b['checksum']:
            continue
        if 'originalFileName' in b and \
                b['originalFileName'].lower() not in \
                a['originalFileName'].lower():
            continue
        if 'isFavorite' in b and a['isFavorite'] != b['isFavorite']:
            continue
        if 'type' in b and a['type'] != b['type']:
            continue
        if 'visibility' in b:
            if a['visibility'] != b['visibility']:
                continue
        elif a['visibility'] == 'hidden':
            continue
        if 'libraryId' in b and a['libraryId'] != b['libraryId']:
            continue
        # albumIds and personIds: in every one given (Immich's AND).
        if any(a['id'] not in ST.albums[x]['assetIds']
               for x in albumIds):
            continue
        if any(x not in [pp.get('id') for pp in ST.people_of(a)]
               for x in personIds):
            continue
        # updatedAfter/updatedBefore: asset.updatedAt >= / <= (Immich's
        # searchAssetBuilder); updatedAt is set by every change to the
        # asset row (ST.touch), as Immich's trigger does.
        if 'updatedAfter' in b and parse_when(a['updatedAt']) < \
                parse_when(b['updatedAfter']):
            continue
        if 'updatedBefore' in b and parse_when(a['updatedAt']) > \
                parse_when(b['updatedBefore']):
            continue
        items.append(a)
    items.sort(key=lambda x: x['fileCreatedAt'],
               reverse=b.get('order', 'desc') == 'desc')
    size = b.get('size', 250)
    page = b.get('page', 1)
    sl = items[(page - 1) * size:page * size]
    more = len(items) > page * size
    dtos = []
    for a in sl:
        d = ST.asset_dto(a, tags=False,
                         people='full' if b.get('withPeople') else False)
        if not b.get('withExif'):
            del d['exifInfo']
        dtos.append(d)
    return Resp(obj={'albums': {'total': 0, 'count': 0, 'items': [],
                                'facets': []},
                     'assets': {'total': len(sl), 'count': len(sl),
                                'items': dtos, 'facets': [],
                                'nextPage': str(page + 1) if more else None}})


@route('POST', '/stacks', 'stack.create')
def r_stack_create(h, p, q, b):
    # StackService.create, StackRepository.create: a stack whose primary is
    # among the ids is merged in (its other members join, it is deleted);
    # the other ids leave any stack they were in (that stack is left as it
    # is, as the server does); the first id becomes the primary.
    check_body_object(b)
    c = Check()
    ids = c.uuids(b, 'assetIds')
    if isinstance(b.get('assetIds'), list) and len(b['assetIds']) < 2:
        c.add(['assetIds'], 'too_small',
              'Too small: expected array to have >=2 items',
              'assetIds must contain at least 2 elements', origin='array',
              minimum=2, inclusive=True)
    c.raise_if()
    ST.require(ids, 'asset.update')
    members = list(dict.fromkeys(ids))
    for sid0 in [x['id'] for x in ST.stacks.values()
                 if x['primaryAssetId'] in ids]:
        for i in ST.order:
            a = ST.assets[i]
            if a.get('stackId') == sid0:
                if a['deletedAt'] is None and i not in members:
                    members.append(i)
                a['stackId'] = None
                ST.touch(a)
        del ST.stacks[sid0]
    sid = new_uuid()
    ST.stacks[sid] = {'id': sid, 'primaryAssetId': ids[0]}
    for i in members:
        a = ST.assets[i]
        a['stackId'] = sid
        ST.touch(a)
    h.mutated = True
    return Resp(201, obj=stack_dto(sid))


def stack_dto(sid):
    # mapStack: the primary first; members not in the trash (withAssets)
    s = ST.stacks[sid]
    ms = [ST.assets[i] for i in ST.order
          if ST.assets[i].get('stackId') == sid and
          not ST.assets[i]['purged'] and ST.assets[i]['deletedAt'] is None]
    ms.sort(key=lambda a: a['id'] != s['primaryAssetId'])
    return {'id': sid, 'primaryAssetId': s['primaryAssetId'],
            'assets': [ST.asset_dto(a, tags=False) for a in ms]}


def own_stacks(ids, perm):
    """StackAccess: every id a stack of the user, else 400 for all."""
    for i in ids:
        if i not in ST.stacks:
            raise bad('Not found or no %s access' % perm)


def delete_stacks(ids):
    # The stack rows go; the members' stackId is set null (ON DELETE SET
    # NULL); their duplicateId is left as it is.
    for i in ST.order:
        a = ST.assets[i]
        if a.get('stackId') in ids:
            a['stackId'] = None
            ST.touch(a)
    for sid in ids:
        ST.stacks.pop(sid, None)


@route('GET', '/stacks', 'stack.read')
def r_stacks(h, p, q, b):
    pid = q.get('primaryAssetId')
    if pid is not None:
        c = Check()
        c.uuid(pid, ['primaryAssetId'], 'primaryAssetId')
        c.raise_if()
    return Resp(obj=[stack_dto(x['id']) for x in list(ST.stacks.values())
                     if pid is None or x['primaryAssetId'] == pid])


@route('GET', '/stacks/(?P<id>[^/]+)', 'stack.read')
def r_stack(h, p, q, b):
    path_uuid(p['id'])
    own_stacks([p['id']], 'stack.read')
    return Resp(obj=stack_dto(p['id']))


@route('DELETE', '/stacks', 'stack.delete')
def r_stacks_delete(h, p, q, b):
    check_body_object(b)
    c = Check()
    ids = c.uuids(b, 'ids')
    c.raise_if()
    own_stacks(ids, 'stack.delete')
    delete_stacks(set(ids))
    h.mutated = True
    return Resp(204)


@route('DELETE', '/stacks/(?P<id>[^/]+)', 'stack.delete')
def r_stack_delete(h, p, q, b):
    path_uuid(p['id'])
    own_stacks([p['id']], 'stack.delete')
    delete_stacks({p['id']})
    h.mutated = True
    return Resp(204)


# --------------------------------------------------------------------------
# Faults and the request log.

FAULTS = []
LOG = []
LOGFILE = None


def take_fault(method, path, text):
    with LOCK:
        for r in FAULTS:
            if r.get('method') and r['method'].upper() != method:
                continue
            if r.get('path') and not re.search(r['path'], path):
                continue
            if r.get('bodyRegex') and not re.search(r['bodyRegex'], text):
                continue
            r['_seen'] = r.get('_seen', 0) + 1
            if r['_seen'] <= r.get('skip', 0):
                continue
            r['_used'] = r.get('_used', 0) + 1
            times = r.get('times', 1)
            if times >= 0 and r['_used'] >= times:
                FAULTS.remove(r)
            return r
    return None


def write_log(entry):
    with LOGLOCK:
        LOG.append(entry)
        if LOGFILE:
            LOGFILE.write(json.dumps(entry, separators=(',', ':')) + '\n')
            LOGFILE.flush()


# --------------------------------------------------------------------------
# Multipart.

def parse_multipart(path, ctype):
    """(fields, (filename, tmppath, sha1_b64, size) | None) of the body."""
    m = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', ctype)
    if not m:
        raise bad('Multipart: Boundary not found')
    boundary = (m.group(1) or m.group(2)).encode()
    delim = b'--' + boundary
    fields, fpart = {}, None
    size = os.path.getsize(path)
    if size == 0:
        raise bad('Multipart: Unexpected end of form')
    with open(path, 'rb') as f, \
            mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        pos = mm.find(delim)
        if pos < 0:
            raise bad('Multipart: Unexpected end of form')
        while True:
            pos += len(delim)
            if mm[pos:pos + 2] == b'--':
                break
            if mm[pos:pos + 2] == b'\r\n':
                pos += 2
            hend = mm.find(b'\r\n\r\n', pos)
            if hend < 0:
                raise bad('Multipart: Unexpected end of form')
            hdrs = mm[pos:hend].decode('utf-8', 'replace')
            body_start = hend + 4
            nxt = mm.find(b'\r\n' + delim, body_start)
            if nxt < 0:
                raise bad('Multipart: Unexpected end of form')
            disp = ''
            for line in hdrs.split('\r\n'):
                if line.lower().startswith('content-disposition:'):
                    disp = line
            nm = re.search(r'\bname="([^"]*)"', disp)
            fn = re.search(r'\bfilename="([^"]*)"', disp)
            name = nm.group(1) if nm else ''
            if fn is not None:
                if name == 'assetData':
                    fd, tmp = tempfile.mkstemp(dir=ST.data_dir,
                                               prefix='up-')
                    h = hashlib.sha1()
                    with os.fdopen(fd, 'wb') as out:
                        for o in range(body_start, nxt, CHUNK):
                            c = mm[o:min(o + CHUNK, nxt)]
                            h.update(c)
                            out.write(c)
                    fpart = (fn.group(1), tmp,
                             base64.b64encode(h.digest()).decode(),
                             nxt - body_start)
            else:
                fields[name] = mm[body_start:nxt].decode('utf-8', 'replace')
            pos = nxt + 2
    return fields, fpart


# --------------------------------------------------------------------------
# The HTTP handler.

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def version_string(self):
        return 'fake-immich/3.1.0'

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY,
                                       1)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if VERBOSE:
            sys.stderr.write('fake_immich: %s\n' % (fmt % args))

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    # -- reading the body
    def read_body(self, to_file):
        te = self.headers.get('Transfer-Encoding', '').lower()
        cl = self.headers.get('Content-Length')
        out = tempfile.TemporaryFile() if not to_file else \
            tempfile.NamedTemporaryFile(dir=ST.data_dir, prefix='req-',
                                        delete=False)
        n = 0
        if 'chunked' in te:
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                sz = int(line.split(b';')[0].strip() or b'0', 16)
                if sz == 0:
                    while self.rfile.readline(65537) not in (b'\r\n', b'\n',
                                                             b''):
                        pass
                    break
                left = sz
                while left > 0:
                    b = self.rfile.read(min(CHUNK, left))
                    if not b:
                        break
                    out.write(b)
                    left -= len(b)
                    n += len(b)
                self.rfile.readline(65537)
        elif cl:
            left = int(cl)
            while left > 0:
                b = self.rfile.read(min(CHUNK, left))
                if not b:
                    break
                out.write(b)
                left -= len(b)
                n += len(b)
        out.flush()
        if to_file:
            out.close()
            return out.name, n
        out.seek(0)
        data = out.read()
        out.close()
        return data, n

    def send_reply(self, resp, fault=None):
        """Send resp, damaged as fault says.  Returns the status sent."""
        action = fault.get('action') if fault else None
        length = resp.length()
        self.send_response(resp.status, getattr(resp, 'reason', None))
        self.send_header('X-Correlation-ID', self.corr)
        if resp.ctype:
            self.send_header('Content-Type', resp.ctype)
        for k, v in resp.headers:
            self.send_header(k, v)
        if resp.status not in (204, 304):
            self.send_header('Content-Length', str(length))
        if action in ('reset', 'short', 'stall', 'trickle'):
            self.send_header('Connection', 'close')
        self.end_headers()
        if self.command == 'HEAD':
            return
        limit = None
        if action in ('reset', 'short', 'stall', 'trickle'):
            limit = int(fault.get('afterBytes', 0))
        flip = None
        if action == 'wrongbytes' and length > 0:
            flip = int(fault.get('at', length // 2))
            flip = min(max(flip, 0), length - 1)
        sent = 0
        rest = b''
        try:
            for c in resp.chunks():
                if limit is not None and sent + len(c) >= limit:
                    if action == 'trickle':
                        rest = c[limit - sent:]
                    c = c[:limit - sent]
                    self.wfile.write(c)
                    sent += len(c)
                    break
                if flip is not None and sent <= flip < sent + len(c):
                    c = bytearray(c)
                    c[flip - sent] ^= 0xFF
                    c = bytes(c)
                self.wfile.write(c)
                sent += len(c)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        if action == 'trickle':
            self.trickle(resp, fault, rest, sent)
        elif action == 'stall':
            time.sleep(float(fault.get('seconds', 5)))
            self.close_connection = True
        elif action == 'short':
            self.close_connection = True
        elif action == 'reset':
            self.abort()

    def trickle(self, resp, fault, rest, sent):
        """The body after the first afterBytes, at bytesPerSecond."""
        rate = max(float(fault.get('bytesPerSecond', 1)), 0.01)
        step = max(1, int(rate / 10))
        end = time.time() + float(fault.get('seconds', 10))
        chunks = resp.chunks()
        # Skip what was sent; rest is the remainder of the last chunk.
        skip = sent + len(rest)
        for c in chunks:
            if skip >= len(c):
                skip -= len(c)
                continue
            c = c[skip:]
            skip = 0
            break
        else:
            c = b''
        pending = [rest, c] if rest else [c]
        self.close_connection = True
        try:
            for data in itertools.chain(pending, chunks):
                for i in range(0, len(data), step):
                    if time.time() >= end:
                        return
                    time.sleep(step / rate)
                    self.wfile.write(data[i:i + step])
        except (BrokenPipeError, ConnectionResetError):
            return

    def abort(self):
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack('ii', 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def error_resp(self, e):
        if ST.errorStyle == 'v2':
            msg = e.v2 if e.v2 else e.message
            body = {'message': msg,
                    'error': REASONS.get(e.status, ('Error',))[0],
                    'statusCode': e.status, 'correlationId': self.corr}
        else:
            body = {'message': e.message}
            if e.issues is not None:
                body['errors'] = e.issues
        return Resp(e.status, obj=body, headers=list(e.headers.items()))

    def handle_any(self):
        t0 = time.time()
        self.corr = self.headers.get('X-Correlation-ID') or new_uuid()
        u = urllib.parse.urlsplit(self.path)
        path = u.path
        qs = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        query = {k: v[0] if len(v) == 1 else v for k, v in qs.items()}
        method = self.command
        if path.startswith('/_fake/'):
            return self.control(method, path, query)
        ctype = self.headers.get('Content-Type', '')
        multipart = ctype.lower().startswith('multipart/form-data')
        self.form = None
        self.mutated = False
        body = None
        logbody = None
        body_err = None
        tmp = None
        if multipart:
            tmp, n = self.read_body(True)
        else:
            raw, n = self.read_body(False)
            if n:
                try:
                    body = json.loads(raw)
                    logbody = body
                except ValueError as e:
                    body_err = str(e)
                    logbody = raw.decode('utf-8', 'replace')
        entry = {'t': t0, 'method': method, 'path': path, 'query': {
            k: v for k, v in query.items() if k != 'apiKey'},
            'body': logbody, 'status': None, 'fault': None,
            'range': self.headers.get('Range'),
            'keyInQuery': 'apiKey' in query, 'correlationId': self.corr}
        extra = {k: v for k, v in self.headers.items()
                 if k.lower() not in STD_HEADERS}
        if extra:
            entry['headers'] = extra
        with LOCK:
            ST.requests += 1
        fault = take_fault(method, path, json.dumps(
            logbody, separators=(',', ':')) if logbody is not None else '')
        action = fault.get('action', 'status') if fault else None
        if fault:
            entry['fault'] = action
        try:
            if action == 'delay' and not fault.get('after'):
                time.sleep(float(fault.get('seconds', 1)))
            if action == 'close' and not fault.get('process'):
                entry['status'] = 0
                self.close_connection = True
                if fault.get('rst'):
                    self.abort()
                return
            if action == 'status' and not fault.get('process'):
                resp = self.fault_resp(fault)
            else:
                if multipart and tmp:
                    try:
                        self.form = parse_multipart(tmp, ctype)
                        logbody = dict(self.form[0])
                        if self.form[1]:
                            fp = self.form[1]
                            logbody['assetData'] = {
                                'filename': fp[0], 'size': fp[3],
                                'sha1': fp[2]}
                        entry['body'] = logbody
                    except ApiError as e:
                        body_err = e.message
                if not multipart and 'json' not in ctype.lower():
                    body, body_err = None, None   # express ignores it
                resp = self.dispatch(method, path, query, body, body_err)
                if self.form and self.form[1] and \
                        os.path.exists(self.form[1][1]):
                    os.unlink(self.form[1][1])
                if action == 'status':
                    resp = self.fault_resp(fault)
                if action == 'delay' and fault.get('after'):
                    time.sleep(float(fault.get('seconds', 1)))
                if action == 'close':
                    entry['status'] = 0
                    self.close_connection = True
                    if fault.get('rst'):
                        self.abort()
                    return
            entry['status'] = resp.status
            # Logged before the reply goes out, so a client that has its
            # reply finds its request in the log.
            write_log(entry)
            entry = None
            self.send_reply(resp, fault)
        finally:
            if tmp and os.path.exists(tmp):
                os.unlink(tmp)
            if entry is not None:
                write_log(entry)

    def fault_resp(self, fault):
        st = int(fault.get('status', 503))
        hdrs = list((fault.get('headers') or {}).items())
        if fault.get('retryAfter') is not None:
            hdrs.append(('Retry-After', str(fault['retryAfter'])))
        if fault.get('text') is not None:
            return Resp(st, raw=fault['text'].encode(), headers=hdrs,
                        ctype='text/html', reason=fault.get('reason'))
        if st in (204, 304):    # no body, or the connection is garbled
            return Resp(st, headers=hdrs, reason=fault.get('reason'))
        body = fault.get('body')
        if body is None:
            body = {'message': REASONS.get(st, ('Error',))[0]}
        return Resp(st, obj=body, headers=hdrs, reason=fault.get('reason'))

    def dispatch(self, method, path, query, body, body_err):
        if method == 'HEAD':
            method = 'GET'
        found = None
        for m, rx, perm, fn in ROUTES:
            mm = rx.match(path)
            if mm:
                if m == method or (method == 'PATCH' and m == 'PUT'):
                    found = (perm, fn, mm.groupdict())
                    break
        if not found:
            msg = 'Cannot %s %s' % (method, path)
            return self.error_resp(ApiError(404, msg))
        perm, fn, params = found
        try:
            with LOCK:
                if perm is not None:
                    key = self.headers.get('x-api-key') or \
                        query.get('apiKey')
                    if not key:
                        raise ApiError(401, 'Authentication required')
                    if key != ST.apiKey:
                        raise ApiError(401, 'Invalid API key')
                    if 'all' not in ST.permissions and \
                            perm not in ST.permissions:
                        raise ApiError(403, 'Missing required permission: %s'
                                       % perm)
                if body_err is not None:
                    raise bad(body_err)
                resp = fn(self, params, query, body if body is not None
                          else ({} if method != 'GET' else None))
                if self.mutated or ST.dirty:
                    ST.save()
                return resp
        except ApiError as e:
            return self.error_resp(e)
        except Exception:
            traceback.print_exc()
            return self.error_resp(ApiError(500, 'Internal server error'))

    # -- control endpoints
    def control(self, method, path, query):
        raw, n = self.read_body(False)
        try:
            body = json.loads(raw) if n else None
        except ValueError as e:
            return self.send_ctl(400, {'message': str(e)})
        try:
            with LOCK:
                out = self.control_locked(method, path, body)
        except ApiError as e:
            return self.send_ctl(e.status, {'message': e.message})
        except Exception as e:
            traceback.print_exc()
            return self.send_ctl(500, {'message': repr(e)})
        self.send_ctl(200, out)

    def control_locked(self, method, path, body):
        if path == '/_fake/faults':
            if method == 'POST':
                rules = body if isinstance(body, list) else [body]
                for r in rules:
                    if not isinstance(r, dict):
                        raise bad('a fault rule is an object')
                    FAULTS.append(dict(r))
                return {'queued': len(FAULTS)}
            if method == 'DELETE':
                FAULTS.clear()
                return {'queued': 0}
            return FAULTS
        if path == '/_fake/state':
            return ST.state_dto()
        if path == '/_fake/log':
            with LOGLOCK:
                return list(LOG)
        if path == '/_fake/config' and method == 'POST':
            for k in ('errorStyle', 'permissions', 'apiKey', 'trashDays',
                      'dropUpdates', 'rejectAlbumAdd'):
                if k in body:
                    setattr(ST, k, body[k])
            ST.features.update(body.get('features', {}))
            ST.save()
            return ST.state_dto()['config']
        if path == '/_fake/add' and method == 'POST':
            ST.add(body)
            ST.save()
            return {'assets': len(ST.assets), 'albums': len(ST.albums)}
        if path == '/_fake/mutate' and method == 'POST':
            a = ST.assets.get(body.get('id'))
            if a is None:
                raise ApiError(404, 'no such asset')
            mutate(a, body)
            ST.save()
            return ST.asset_dto(a, stack=True)
        raise ApiError(404, 'unknown control endpoint %s %s' % (method, path))

    def send_ctl(self, status, obj):
        self.corr = getattr(self, 'corr', new_uuid())
        self.send_reply(Resp(status, obj=obj))


def mutate(a, body):
    s = dict(body.get('set') or {})
    if 'exifInfo' in s:
        a['exifInfo'].update(s.pop('exifInfo'))
    if 'tags' in s:
        a['tagIds'] = [ST.upsert_tag(v)['id'] for v in s.pop('tags')]
    if 'isTrashed' in s:
        if s.pop('isTrashed'):
            ST.trash(a)
        else:
            a['deletedAt'] = None
    for k in ('thumbnail', 'missing', 'owner'):
        if k in s:
            a['_' + k] = s.pop(k)
    if 'isArchived' in s:
        a['visibility'] = 'archive' if s.pop('isArchived') else 'timeline'
    a.update(s)
    if 'content' in body or 'contentB64' in body:
        a['_blob'] = ST.make_blob(body, a['id'])
        if not body.get('keepChecksum'):
            a['checksum'] = None if not a['libraryId'] else a['checksum']
            a['exifInfo']['fileSizeInByte'] = a['_blob'].size()
    if body.get('trash'):
        ST.trash(a)
    if body.get('restore'):
        a['deletedAt'] = None
    if body.get('purge'):
        ST.purge(a)
    if body.get('addToAlbum'):
        al = ST.albums[body['addToAlbum']]
        if a['id'] not in al['assetIds']:
            al['assetIds'].append(a['id'])
            al['updatedAt'] = now_iso()   # as Immich's addAssets
    ST.touch(a)


def watch(pid):
    while True:
        time.sleep(1)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        if isinstance(e, (ConnectionError, TimeoutError)) and not VERBOSE:
            return
        super().handle_error(request, client_address)


def main():
    global VERBOSE, LOGFILE
    ap = argparse.ArgumentParser(description='fake Immich server')
    ap.add_argument('--library')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--port-file')
    ap.add_argument('--log')
    ap.add_argument('--state-file')
    ap.add_argument('--data-dir')
    ap.add_argument('--watch-pid', type=int,
                    help='exit when this process is gone')
    ap.add_argument('--user-id', help='the user id (default: a new one)')
    ap.add_argument('--verbose', action='store_true')
    args = ap.parse_args()
    if args.user_id:
        ST.user['id'] = args.user_id
    if args.watch_pid:
        threading.Thread(target=watch, args=(args.watch_pid,),
                         daemon=True).start()
    VERBOSE = args.verbose
    ST.state_file = args.state_file
    if args.data_dir:
        ST.data_dir = args.data_dir
    elif args.state_file:
        ST.data_dir = args.state_file + '.data'
    else:
        ST.data_dir = tempfile.mkdtemp(prefix='fake-immich-')
        import atexit
        atexit.register(shutil.rmtree, ST.data_dir, True)
    os.makedirs(ST.data_dir, exist_ok=True)
    if args.state_file and os.path.exists(args.state_file):
        with open(args.state_file) as f:
            ST.load_json(json.load(f))
        ST.replay()
        ST.snapshot()
    elif args.library:
        ST.lib_dir = os.path.dirname(os.path.abspath(args.library))
        with open(args.library) as f:
            ST.load_library(json.load(f))
        ST.snapshot()
    if args.log:
        LOGFILE = open(args.log, 'a')
    srv = Server(('127.0.0.1', args.port), Handler)
    port = srv.server_address[1]
    if args.port_file:
        with open(args.port_file + '.tmp', 'w') as f:
            f.write('%d\n' % port)
        os.replace(args.port_file + '.tmp', args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
