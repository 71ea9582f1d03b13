#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""cdp.py CHROME URL [EXPR...]: opens URL in headless Chromium, driven over
the DevTools protocol on a pipe (--remote-debugging-pipe: no port, no
network), waits until the page's <html> has the attribute data-full (the
review page has read all of its data), then evaluates each JavaScript
EXPR in the page in turn (a promise is awaited) and prints its value as
one line of JSON.  Two EXPRs are not JavaScript: "RELOAD" reloads the
page and waits until it is ready again; "KEY:k" types key k (a
character, or a DOM key name such as Backspace) as a person would;
"@FILE" evaluates the JavaScript in FILE (for one longer than a command
line takes).
With CDP_DOWNLOADS=DIR, a download goes to DIR, and cdp.py waits for
each one begun to complete before the next EXPR; "DOWNLOAD" waits for
one to begin (and complete) and prints its file name.  Every host name
resolves to nothing.  Exits 1 when the page is not ready within
CDP_TIMEOUT seconds (default 60)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

chrome, url, exprs = sys.argv[1], sys.argv[2], sys.argv[3:]
timeout = float(os.environ.get('CDP_TIMEOUT', '60'))
to_r, to_w = os.pipe()          # commands: Chromium reads its fd 3
from_r, from_w = os.pipe()      # replies: Chromium writes its fd 4
ud = tempfile.mkdtemp(prefix='cdp.')


def fds():
    a, b = os.dup(to_r), os.dup(from_w)
    os.dup2(a, 3)
    os.dup2(b, 4)


proc = subprocess.Popen(
    [chrome, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
     '--no-first-run', '--disable-background-networking',
     '--disable-component-update', '--disable-sync',
     '--remote-debugging-pipe', '--user-data-dir=' + ud,
     '--host-resolver-rules=MAP * ~NOTFOUND', 'about:blank'],
    preexec_fn=fds, close_fds=False, stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_r)
os.close(from_w)
buf, last = b'', 0


def message():
    global buf
    while b'\0' not in buf:
        chunk = os.read(from_r, 65536)
        if not chunk:
            sys.exit('cdp.py: chromium closed the pipe')
        buf += chunk
    line, buf = buf.split(b'\0', 1)
    return json.loads(line)


events = []
downloads = {}                  # guid: state, from the browser's events


def note(m):
    events.append(m['method'])
    p = m.get('params', {})
    if m['method'] in ('Browser.downloadWillBegin',
                       'Browser.downloadProgress') and 'guid' in p:
        downloads[p['guid']] = p.get('state', 'inProgress')
        if 'suggestedFilename' in p:
            names.append(p['suggestedFilename'])


names = []


def call(method, params=None, session=None):
    global last
    last += 1
    msg = {'id': last, 'method': method, 'params': params or {}}
    if session:
        msg['sessionId'] = session
    os.write(to_w, json.dumps(msg).encode() + b'\0')
    while True:
        reply = message()
        if 'method' in reply:
            note(reply)
        elif reply.get('id') == last:
            if 'error' in reply:
                sys.exit('cdp.py: %s: %s' % (method, reply['error']))
            return reply['result']


def wait_event(name):
    while name not in events:
        m = message()
        if 'method' in m:
            note(m)


def wait_downloads():
    while any(v == 'inProgress' for v in downloads.values()):
        m = message()
        if 'method' in m:
            note(m)


def key(k, session):
    text = k if len(k) == 1 else ''
    for t in ('keyDown', 'keyUp'):
        p = {'type': t, 'key': k}
        if t == 'keyDown' and text:
            p['text'] = text
        if len(k) == 1 and k.isalpha():
            p['code'] = 'Key' + k.upper()
            p['windowsVirtualKeyCode'] = ord(k.upper())
        elif len(k) == 1 and k.isdigit():
            p['code'] = 'Digit' + k
            p['windowsVirtualKeyCode'] = ord(k)
        elif k == 'Backspace':
            p['code'] = 'Backspace'
            p['windowsVirtualKeyCode'] = 8
        call('Input.dispatchKeyEvent', p, session)


def evaluate(expr, session):
    r = call('Runtime.evaluate', {'expression': expr, 'awaitPromise': True,
                                  'returnByValue': True}, session)
    if 'exceptionDetails' in r:
        return {'exception': r['exceptionDetails'].get('text')}
    return r.get('result', {}).get('value')


status = 0
try:
    target = call('Target.createTarget', {'url': 'about:blank'})['targetId']
    s = call('Target.attachToTarget', {'targetId': target,
                                       'flatten': True})['sessionId']
    if os.environ.get('CDP_DOWNLOADS'):
        call('Browser.setDownloadBehavior', {
            'behavior': 'allow', 'eventsEnabled': True,
            'downloadPath': os.path.abspath(os.environ['CDP_DOWNLOADS'])})
    call('Page.enable', {}, s)
    call('Page.navigate', {'url': url}, s)
    wait_event('Page.loadEventFired')
    ready = """new Promise(function (ok) { (function check() {
        if (document.documentElement.hasAttribute('data-full')) ok(true);
        else setTimeout(check, 20); })(); })"""

    def wait_ready():
        r = call('Runtime.evaluate', {'expression': ready,
                                      'awaitPromise': True,
                                      'timeout': int(timeout * 1000)}, s)
        if r.get('result', {}).get('value') is not True:
            print('cdp.py: %s: not ready in %g s' % (url, timeout),
                  file=sys.stderr)
            sys.exit(1)
    wait_ready()
    for e in exprs:
        if e == 'RELOAD':
            events.clear()
            call('Page.reload', {}, s)
            wait_event('Page.loadEventFired')
            wait_ready()
            print(json.dumps('reloaded'))
        elif e == 'DOWNLOAD':
            wait_event('Browser.downloadWillBegin')
            wait_downloads()
            print(json.dumps(names[-1] if names else None))
        elif e.startswith('KEY:'):
            key(e[4:], s)
            print(json.dumps('key ' + e[4:]))
        else:
            if e.startswith('@'):
                with open(e[1:], encoding='utf-8') as f:
                    e = f.read()
            print(json.dumps(evaluate(e, s), ensure_ascii=False))
        wait_downloads()
finally:
    try:
        call('Browser.close')
    except SystemExit:
        pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.rmtree(ud, ignore_errors=True)
