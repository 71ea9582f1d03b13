#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Writes a GET /api/duplicates response with N groups (default 100000) of
2-4 realistic AssetResponseDto objects (full exifInfo, tags) to stdout, for
tests/bench/dupes.sh.  Deterministic for a given N and seed."""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
out = sys.stdout
cams = [("Apple", "iPhone 13 Pro", "iPhone 13 Pro back triple camera 5.7mm f/1.5"),
        ("Canon", "Canon EOS R5", "RF24-105mm F4 L IS USM"),
        ("SONY", "ILCE-7M3", "FE 24-70mm F2.8 GM"),
        ("samsung", "SM-G991B", None), (None, None, None)]
exts = [("jpg", "image/jpeg"), ("HEIC", "image/heic"), ("CR2", "image/x-canon-cr2"),
        ("jpg", "image/jpeg"), ("JPG", "image/jpeg")]
seq = 0


def uid():
    global seq
    seq += 1
    return "%08x-%04x-4%03x-8%03x-%012x" % (rnd.getrandbits(32), rnd.getrandbits(16),
                                            rnd.getrandbits(12), rnd.getrandbits(12), seq)


def s(v):
    return "null" if v is None else '"%s"' % v


def asset(dup, base, t, owner):
    aid = uid()
    make, model, lens = cams[rnd.randrange(len(cams))]
    ext, mime = exts[rnd.randrange(len(exts))]
    w, h = rnd.choice([(4032, 3024), (3024, 4032), (1920, 1080), (8192, 5464), (2048, 1536)])
    size = rnd.randrange(200000, 30000000)
    gps = rnd.random() < 0.6
    lat = "%.6f" % (rnd.uniform(-60, 70)) if gps else "null"
    lon = "%.6f" % (rnd.uniform(-180, 180)) if gps else "null"
    ts = "2023-%02d-%02dT%02d:%02d:%02d.000Z" % t
    desc = '"Holiday \\"%d\\" at the lake"' % seq if rnd.random() < 0.1 else '""'
    tags = ('[{"id":"%s","name":"Trip","value":"Places/Trip","createdAt":"2024-01-02T03:04:05.000Z",'
            '"updatedAt":"2024-01-02T03:04:05.000Z","color":null,"parentId":null}]' % uid()
            if rnd.random() < 0.3 else "[]")
    return ('{"id":"%s","ownerId":"%s","type":"IMAGE","thumbhash":"1QcSHQRnh493V4dIh4eXh1h4kJUI",'
            '"originalPath":"/usr/src/app/upload/upload/%s/%s/%s.%s","originalFileName":"%s.%s",'
            '"originalMimeType":"%s","fileCreatedAt":"%s","fileModifiedAt":"%s","localDateTime":"%s",'
            '"updatedAt":"2024-03-01T10:00:00.000Z","createdAt":"2024-02-01T10:00:00.000Z",'
            '"isFavorite":%s,"isArchived":false,"isTrashed":false,"isOffline":false,'
            '"visibility":"timeline","duration":null,"livePhotoVideoId":null,"hasMetadata":true,'
            '"width":%d,"height":%d,"libraryId":null,"checksum":"%s","duplicateId":"%s",'
            '"resized":true,"isEdited":false,"people":[],"tags":%s,'
            '"exifInfo":{"make":%s,"model":%s,"exifImageWidth":%d,"exifImageHeight":%d,'
            '"fileSizeInByte":%d,"orientation":"1","dateTimeOriginal":"%s","modifyDate":"%s",'
            '"timeZone":"Europe/Amsterdam","lensModel":%s,"fNumber":%s,"focalLength":%s,"iso":%s,'
            '"exposureTime":%s,"latitude":%s,"longitude":%s,"city":%s,"state":%s,"country":%s,'
            '"description":%s,"projectionType":null,"rating":%s}}'
            % (aid, owner, owner, aid[:2], base, ext, base, ext, mime, ts, ts, ts,
               "true" if rnd.random() < 0.05 else "false", w, h,
               "%027x=" % rnd.getrandbits(108), dup, tags, s(make), s(model), w, h, size, ts,
               ts, s(lens), "1.8" if make else "null", "5.7" if make else "null",
               str(rnd.choice([50, 100, 400])) if make else "null",
               '"1/120"' if make else "null", lat, lon,
               s("Amsterdam") if gps else "null", s("North Holland") if gps else "null",
               s("Netherlands") if gps else "null", desc,
               rnd.choice(["null", "null", "3", "5", "-1"])))


owner = uid()
out.write("[")
for g in range(n):
    dup = uid()
    t = (rnd.randrange(1, 13), rnd.randrange(1, 29), rnd.randrange(24), rnd.randrange(60),
         rnd.randrange(60))
    k = rnd.choice([2, 2, 2, 3])
    assets = [asset(dup, "IMG_%04d" % rnd.randrange(10000), t, owner) for _ in range(k)]
    out.write('%s{"duplicateId":"%s","assets":[%s],"suggestedKeepAssetIds":["%s"]}'
              % ("," if g else "", dup, ",".join(assets), assets[0][7:43]))
out.write("]\n")
