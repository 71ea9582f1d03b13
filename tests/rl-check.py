#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Checks for the shared rate limit tests (tests/0200-ratelimit.t).

  rl-check.py window RATE BURST SLACK [FILE...]
      FILE holds one time per line, in seconds, or "A <ns>" lines from
      t-rl, or a fake-server NDJSON log (its "t" keys).  Checks that no
      window of length t holds more than BURST + RATE * (t + SLACK)
      requests; exit 1 if one does.  Prints the count, the achieved rate
      ((n - BURST) / span, the rate GCRA converges to) and the worst window.
  rl-check.py inflight FILE...
      FILEs hold t-rl "A <ns>" / "R <ns>" lines, one file per process.
      Prints the most slots held at once.
"""
import json
import sys


def times(paths):
    out = []
    for p in paths:
        with open(p) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                if line.startswith("{"):
                    out.append(float(json.loads(line)["t"]))
                elif line.startswith("A "):
                    out.append(int(line[2:]) / 1e9)
                elif line.startswith("R "):
                    continue
                else:
                    out.append(float(line))
    out.sort()
    return out


def window(rate, burst, slack, paths):
    t = times(paths)
    n = len(t)
    worst = None  # (excess, count, length, i, j)
    need = 0.0  # the least slack that would pass
    for i in range(n):
        for j in range(i + burst, n):
            count = j - i + 1
            need = max(need, (count - burst) / rate - (t[j] - t[i]))
            allowed = burst + rate * (t[j] - t[i] + slack)
            excess = count - allowed
            if worst is None or excess > worst[0]:
                worst = (excess, count, t[j] - t[i], i, j)
    span = t[-1] - t[0] if n > 1 else 0.0
    achieved = (n - burst) / span if span > 0 else float("inf")
    print("n=%d span=%.3fs rate=%.2f/s slack needed %.1fms" %
          (n, span, achieved, need * 1e3))
    if worst is not None:
        print("worst window: %d requests in %.4fs (#%d at +%.4fs to #%d),"
              " allowed %.2f" % (worst[1], worst[2], worst[3] + 1,
                                 t[worst[3]] - t[0], worst[4] + 1,
                                 worst[1] - worst[0]))
        if worst[0] > 1e-9:
            print("VIOLATION: more than %g + %g*(t + %g)" %
                  (burst, rate, slack))
            return 1
    return 0


def inflight(paths):
    ev = []
    for p in paths:
        with open(p) as f:
            for line in f:
                k, _, v = line.strip().partition(" ")
                if k in ("A", "R"):
                    # A release sorts before an acquire at the same time.
                    ev.append((int(v), 1 if k == "A" else 0))
    ev.sort()
    cur = most = 0
    for _, a in ev:
        cur += 1 if a else -1
        most = max(most, cur)
    print(most)
    return 0


def main(argv):
    if len(argv) >= 5 and argv[1] == "window":
        return window(float(argv[2]), int(argv[3]), float(argv[4]),
                      argv[5:])
    if len(argv) >= 3 and argv[1] == "inflight":
        return inflight(argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
