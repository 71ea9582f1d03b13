#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Conformance shim: puts Prism (an OpenAPI validating proxy) between the
tools and the fake Immich server, without letting Prism touch the bytes.

  tool --> front --> Prism (proxy --errors, the real spec) --> back --> fake
           (one per session)                                  (shared)

Prism validates every request against the spec and every reply against the
spec, but it cannot carry bytes (it decodes every non-JSON body as UTF-8 and
buffers at most 10 MB of request), and it matches the spec's paths without
the spec's relative server "/api".  So:

  front  receives the tool's request, keeps its exact bytes under an id,
         strips "/api", and sends Prism the same request (a multipart
         upload with each file part replaced by a short placeholder) plus
         the header x-conformance-id.
  back   is Prism's upstream: it sends the tool's ORIGINAL request to the
         fake, keeps the fake's exact reply (damage included: a reset, a
         short body, no reply), and answers Prism with the same status and
         headers and, for JSON, the same body.  A reply that is not JSON (a
         download) is not read: Prism gets its headers and an empty body,
         and the front streams the body from the fake as it comes, so the
         tool sees the fake's own timing (a stall, a cut) byte for byte.
  front  then answers the tool with the fake's exact reply, unless Prism
         found a violation (of severity error, not exempt below), in which
         case the tool gets Prism's own reply (422 for a bad request, 500
         with the explanation for a bad reply), so the tool and its test
         fail with Prism's explanation.

Every request is logged, one JSON line per request, to the session's log:
  {"method", "path", "status" (what the fake answered, or null), "prism"
   (Prism's status), "validated": bool, "violations": [{location, severity,
   message}], "exempt": [reasons], "tool": sent by an immich-* binary}
tests/lib.sh (prism_check) counts them when the test ends.

Exemptions (each is a place where the spec is known to be narrower than the
real server, see ../shared/immich/FACTS.md, or where the reply is a fault
the fake injected on purpose):
  - a status the spec does not list, when it is 4xx or 5xx: the spec lists
    no error replies at all, the real server answers 400/401/403/404/... with
    {"message"} (FACTS §1, §2), and injected 429/5xx faults are by design.
  - GET /assets/{id}/original and /thumbnail: 206 (Range), 304
    (If-None-Match) and 416 answers, and a Content-Type looked up from the
    file's extension (the spec says only 200 application/octet-stream;
    FACTS §5; the thumbnail is sent by the same sendFile).
  - after the fake was made to claim Immich 2.x (GET /server/version with
    major 2, as tests of 2.x compatibility do): the 3.1 spec does not
    apply, so requests go straight to the fake, unvalidated, until it
    claims 3.x again.
  - exifInfo.rating below 1 in a reply: the spec says 1..5, but updates
    accept -1 (rejected) and replies are not validated, and 2.x stored 0
    (FACTS §0, §4).
  - a reply the fake damaged on purpose (reset, short body, stall, close):
    Prism cannot validate half a reply.

USAGE
  shim.py --spec SPEC --prism PRISM --port-file PF [--prism-log LOG]
          [--watch-pid PID] [--timeout SECONDS]
  Starts Prism and the back end, and writes the control port to PF once
  Prism answers.  Control (plain HTTP on 127.0.0.1):
    POST   /session  {"upstream": "http://127.0.0.1:N", "log": "/path"}
                     -> {"port": P}: a new front listening on P
    PUT    /session/P {"upstream": ...}  re-point a front (fake restarted)
    DELETE /session/P  close a front
    GET    /ping
  SIGTERM stops Prism and exits.
"""

import argparse
import http.client
import http.server
import itertools
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
       "te", "trailers", "transfer-encoding", "upgrade", "expect", "host",
       "content-length"}
STASH = {}
STASH_LOCK = threading.Lock()
IDS = itertools.count(1)
PRISM_PORT = None
SPOOL = 64 << 20
ORIGINAL = re.compile(r"^/assets/[^/]+/(original|thumbnail)$")


def read_body(handler):
	"""The request body, de-chunked."""
	h = handler.headers
	if "chunked" in (h.get("Transfer-Encoding") or "").lower():
		out = bytearray()
		while True:
			line = handler.rfile.readline()
			n = int(line.split(b";")[0].strip() or b"0", 16)
			if n == 0:
				while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
					pass
				return bytes(out)
			out += handler.rfile.read(n)
			handler.rfile.readline()
	n = int(h.get("Content-Length") or 0)
	return handler.rfile.read(n) if n else b""


def fwd_headers(headers):
	return [(k, v) for k, v in headers.items() if k.lower() not in HOP]


def sanitize_multipart(body, ctype):
	"""The same multipart body with every file part's bytes replaced by a
	short ASCII placeholder (Prism decodes bodies as text)."""
	m = re.search(r'boundary="?([^";]+)"?', ctype)
	if not m:
		return body
	b = b"--" + m.group(1).encode()
	parts = body.split(b)
	out = [parts[0]]
	for p in parts[1:]:
		head, sep, content = p.partition(b"\r\n\r\n")
		if sep and b"filename=" in head:
			n = len(content) - 2 if content.endswith(b"\r\n") else len(content)
			content = b"(%d bytes)\r\n" % max(n, 0)
		out.append(head + sep + content)
	return b.join(out)


class Front(http.server.BaseHTTPRequestHandler):
	protocol_version = "HTTP/1.1"

	def log_message(self, *a):
		pass

	def handle_one_request(self):
		try:
			super().handle_one_request()
		except (BrokenPipeError, ConnectionResetError):
			self.close_connection = True

	def do_any(self):
		sess = self.server.session
		body = read_body(self)
		url = urllib.parse.urlsplit(self.path)
		path = url.path
		rid = "%d-%d" % (os.getpid(), next(IDS))
		ent = {"method": self.command, "path": path,
		       "query": url.query, "headers": fwd_headers(self.headers),
		       "body": body, "upstream": sess["upstream"], "resp": None}
		rec = {"method": self.command, "path": path, "status": None,
		       "prism": None, "validated": False, "violations": [],
		       "exempt": [], "tool": (self.headers.get("User-Agent")
		       or "").startswith("immich-dedupe/")}
		why = None
		if not path.startswith("/api/"):
			why = "not under /api"
		elif sess.get("v2"):
			why = "an Immich 2.x server emulated (the spec is 3.1's)"
		if why:
			# Straight to the fake, unvalidated.
			ent["resp"] = fetch_upstream(ent)
			rec["exempt"].append(why)
			rec["status"] = ent["resp"].get("status")
			self.log(rec)
			return self.replay(ent["resp"])
		with STASH_LOCK:
			STASH[rid] = ent
		try:
			pbody = body
			ctype = self.headers.get("Content-Type") or ""
			if ctype.lower().startswith("multipart/form-data"):
				pbody = sanitize_multipart(body, ctype)
			hdrs = dict(fwd_headers(self.headers))
			hdrs["x-conformance-id"] = rid
			if pbody or self.command in ("POST", "PUT", "PATCH", "DELETE"):
				hdrs["Content-Length"] = str(len(pbody))
			target = path[4:] + ("?" + url.query if url.query else "")
			c = http.client.HTTPConnection("127.0.0.1", PRISM_PORT,
			    timeout=600)
			c.request(self.command, target, body=pbody or None,
			    headers=hdrs)
			pr = c.getresponse()
			pdata = pr.read()
			pstatus = pr.status
			pviol = pr.getheader("sl-violations")
			ptype = pr.getheader("Content-Type") or ""
			c.close()
		finally:
			with STASH_LOCK:
				STASH.pop(rid, None)
		rec["prism"] = pstatus
		resp = ent["resp"]
		viol = []
		if pviol:
			try:
				viol = json.loads(pviol)
			except ValueError:
				viol = [{"severity": "Error", "message": pviol}]
		if resp is None:
			# Prism refused the request itself (422, 401, 404 no
			# such route, ...): a request violation.
			detail = pdata.decode("utf-8", "replace")
			try:
				d = json.loads(detail)
				detail = d.get("detail") or d.get("title") or detail
				viol += d.get("validation") or []
			except ValueError:
				pass
			rec["violations"] = [{"severity": "Error",
			    "message": "Prism refused the request: %d %s" %
			    (pstatus, detail)}] + viol
			rec["validated"] = True
			self.log(rec)
			return self.send_raw(pstatus, [("Content-Type", ptype)],
			    pdata)
		rec["status"] = resp.get("status")
		if path == "/api/server/version" and resp.get("status") == 200:
			# A test may make the fake claim 2.x (FACTS §0): from
			# then on, until it claims 3.x again, nothing is
			# validated against the 3.1 spec.
			try:
				resp["body"].seek(0)
				major = json.load(resp["body"]).get("major")
				sess["v2"] = isinstance(major, int) and major < 3
			except (ValueError, AttributeError, KeyError):
				pass
		kept, exempt = [], []
		for v in viol:
			why = exemption(ent, resp, v)
			if sess.get("v2"):
				why = "an Immich 2.x server emulated " \
				    "(the spec is 3.1's)"
			if why:
				exempt.append("%s: %s" % (why, v.get("message")))
			else:
				kept.append(v)
		if resp.get("damage"):
			exempt.append("damaged on purpose (%s): not validated" %
			    resp["damage"])
			kept = []
		else:
			rec["validated"] = True
		rec["violations"], rec["exempt"] = kept, exempt
		self.log(rec)
		if any(v.get("severity") == "Error" for v in kept):
			if resp.get("live"):
				resp["live"][0].close()
			return self.send_raw(pstatus, [("Content-Type", ptype)],
			    pdata)
		return self.replay(resp)

	do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_any

	def log(self, rec):
		with self.server.session["lock"]:
			with open(self.server.session["log"], "a") as f:
				f.write(json.dumps(rec) + "\n")

	def send_raw(self, status, headers, data):
		self.send_response_only(status)
		for k, v in headers:
			self.send_header(k, v)
		self.send_header("Content-Length", str(len(data)))
		self.end_headers()
		if self.command != "HEAD":
			self.wfile.write(data)

	def replay(self, resp):
		"""The fake's reply, byte for byte, damage included."""
		if resp.get("status") is None:
			self.close_connection = True
			self.connection.shutdown(socket.SHUT_RDWR)
			return
		self.send_response_only(resp["status"], resp["reason"])
		for k, v in resp["headers"]:
			if k.lower() not in HOP or k.lower() == "content-length":
				self.send_header(k, v)
		live = resp.get("live")
		if live:
			if resp["length"] is None:
				self.send_header("Connection", "close")
				self.close_connection = True
			self.end_headers()
			return self.stream(live, resp["length"])
		if resp["length"] is None and resp["status"] not in (204, 304):
			self.send_header("Content-Length", str(resp["size"]))
		self.end_headers()
		f = resp["body"]
		f.seek(0)
		while True:
			chunk = f.read(1 << 20)
			if not chunk:
				break
			self.wfile.write(chunk)
		f.close()
		if resp.get("damage"):
			self.cut(resp["damage"])

	def stream(self, live, length):
		c, r = live
		n, damage = 0, None
		try:
			while True:
				chunk = r.read1(65536)
				if not chunk:
					break
				self.wfile.write(chunk)
				self.wfile.flush()
				n += len(chunk)
		except http.client.IncompleteRead as e:
			self.wfile.write(e.partial)
			damage = "short"
		except (ConnectionResetError, BrokenPipeError):
			damage = "reset"
		except (OSError, http.client.HTTPException):
			damage = "short"
		finally:
			c.close()
		if damage is None and length is not None and n < int(length):
			damage = "short"
		if damage:
			self.cut(damage)

	def cut(self, damage):
		"""Ends the connection as the fake did: RST or FIN."""
		self.wfile.flush()
		self.close_connection = True
		if damage == "reset":
			time.sleep(0.1)		# the bytes first, then the RST
			self.connection.setsockopt(socket.SOL_SOCKET,
			    socket.SO_LINGER, struct.pack("ii", 1, 0))
		else:
			self.connection.shutdown(socket.SHUT_WR)


def exemption(ent, resp, v):
	"""Why a violation is not one (None if it is)."""
	msg = v.get("message") or ""
	status = resp.get("status") or 0
	apath = ent["path"][4:]
	if msg.startswith("Unable to match the returned status code") and \
	    status >= 400:
		return "error status %d (the spec lists no error replies)" % status
	loc = ".".join(str(x) for x in v.get("location") or [])
	if loc.startswith("response.body") and \
	    loc.endswith("exifInfo.rating") and msg.endswith("must be >= 1"):
		return "exifInfo.rating -1 or 0 (FACTS §4: updates accept -1, " \
		    "replies are not validated; 0 from 2.x data)"
	if ORIGINAL.match(apath) and ent["method"] == "GET":
		if msg.startswith("Unable to match the returned status code") \
		    and status in (206, 304, 416):
			return "download %d (FACTS §5: Range/conditional)" % status
		if msg.startswith("The received media type"):
			return "download Content-Type from the file's extension " \
			    "(FACTS §5; thumbnails are sent the same way)"
	return None


def fetch_upstream(ent):
	"""Sends the tool's original request to the fake; returns its reply
	as {status, reason, headers, length, body (file), size, damage}."""
	u = urllib.parse.urlsplit(ent["upstream"])
	target = ent["path"] + ("?" + ent["query"] if ent["query"] else "")
	hdrs = dict(ent["headers"])
	if ent["body"] or ent["method"] in ("POST", "PUT", "PATCH", "DELETE"):
		hdrs["Content-Length"] = str(len(ent["body"]))
	out = {"status": None, "damage": None}
	try:
		c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
		c.request(ent["method"], target, body=ent["body"] or None,
		    headers=hdrs)
		r = c.getresponse()
	except (OSError, http.client.HTTPException):
		out["damage"] = "no reply"
		return out
	out.update(status=r.status, reason=r.reason,
	    headers=r.getheaders(), length=r.getheader("Content-Length"))
	if "json" not in (r.getheader("Content-Type") or "").lower() and \
	    r.status not in (204, 304) and ent["method"] != "HEAD":
		# Bytes (a download): Prism gets the headers only, and the
		# front streams the body as it comes, so the tool sees the
		# fake's timing (a stall, a kill mid-file) as it would.
		out["live"] = (c, r)
		return out
	f = tempfile.SpooledTemporaryFile(max_size=SPOOL)
	try:
		while True:
			chunk = r.read1(65536)
			if not chunk:
				break
			f.write(chunk)
	except http.client.IncompleteRead as e:
		f.write(e.partial)
		out["damage"] = "short"
	except (ConnectionResetError, BrokenPipeError):
		out["damage"] = "reset"
	except (OSError, http.client.HTTPException) as e:
		out["damage"] = "error: %s" % e
	c.close()
	out["size"] = f.tell()
	# http.client's read(n) returns b"" at an early EOF, without raising.
	if out["damage"] is None and out["length"] is not None and \
	    r.status not in (204, 304) and ent["method"] != "HEAD" and \
	    out["size"] < int(out["length"]):
		out["damage"] = "short"
	out["body"] = f
	return out


class Back(http.server.BaseHTTPRequestHandler):
	"""Prism's upstream."""
	protocol_version = "HTTP/1.1"

	def log_message(self, *a):
		pass

	def do_any(self):
		read_body(self)		# Prism's copy; the original is stashed
		rid = self.headers.get("x-conformance-id")
		with STASH_LOCK:
			ent = STASH.get(rid)
		if ent is None:
			self.send_response(502)
			self.send_header("Content-Length", "0")
			self.end_headers()
			return
		resp = fetch_upstream(ent)
		ent["resp"] = resp
		if resp["status"] is None:
			self.close_connection = True
			self.connection.shutdown(socket.SHUT_RDWR)
			return
		ctype = ""
		self.send_response_only(resp["status"], resp["reason"])
		for k, v in resp["headers"]:
			if k.lower() in HOP:
				continue
			if k.lower() == "content-type":
				ctype = v.lower()
			self.send_header(k, v)
		body = b""
		if not resp.get("live") and not resp["damage"] and \
		    "json" in ctype and resp["size"] <= SPOOL:
			resp["body"].seek(0)
			body = resp["body"].read()
		self.send_header("Content-Length", str(len(body)))
		self.end_headers()
		self.wfile.write(body)

	do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_any


class Server(http.server.ThreadingHTTPServer):
	daemon_threads = True
	allow_reuse_address = True


SESSIONS = {}


class Control(http.server.BaseHTTPRequestHandler):
	protocol_version = "HTTP/1.1"

	def log_message(self, *a):
		pass

	def reply(self, code, obj):
		data = json.dumps(obj).encode()
		self.send_response(code)
		self.send_header("Content-Type", "application/json")
		self.send_header("Content-Length", str(len(data)))
		self.end_headers()
		self.wfile.write(data)

	def do_GET(self):
		self.reply(200, {"prism": PRISM_PORT, "sessions": len(SESSIONS)})

	def do_POST(self):
		req = json.loads(read_body(self) or b"{}")
		srv = Server(("127.0.0.1", 0), Front)
		srv.session = {"upstream": req["upstream"], "log": req["log"],
		    "lock": threading.Lock()}
		port = srv.server_address[1]
		SESSIONS[port] = srv
		threading.Thread(target=srv.serve_forever, daemon=True).start()
		self.reply(200, {"port": port})

	def do_PUT(self):
		req = json.loads(read_body(self) or b"{}")
		srv = SESSIONS.get(int(self.path.rsplit("/", 1)[-1]))
		if srv is None:
			return self.reply(404, {"message": "no such session"})
		srv.session["upstream"] = req["upstream"]
		self.reply(200, {})

	def do_DELETE(self):
		read_body(self)
		srv = SESSIONS.pop(int(self.path.rsplit("/", 1)[-1]), None)
		if srv is not None:
			threading.Thread(target=srv.shutdown, daemon=True).start()
		self.reply(200, {})


def free_port():
	s = socket.socket()
	s.bind(("127.0.0.1", 0))
	p = s.getsockname()[1]
	s.close()
	return p


def main():
	global PRISM_PORT
	ap = argparse.ArgumentParser()
	ap.add_argument("--spec", required=True)
	ap.add_argument("--prism", required=True)
	ap.add_argument("--port-file", required=True)
	ap.add_argument("--prism-log", default=os.devnull)
	ap.add_argument("--timeout", type=float, default=180)
	ap.add_argument("--watch-pid", type=int, default=0,
	    help="exit (stopping Prism) when this process is gone")
	a = ap.parse_args()

	back = Server(("127.0.0.1", 0), Back)
	threading.Thread(target=back.serve_forever, daemon=True).start()
	upstream = "http://127.0.0.1:%d" % back.server_address[1]
	log = open(a.prism_log, "ab")
	for attempt in range(5):
		PRISM_PORT = free_port()
		prism = subprocess.Popen([a.prism, "proxy", "--errors",
		    "-h", "127.0.0.1", "-p", str(PRISM_PORT), a.spec, upstream],
		    stdout=log, stderr=log, stdin=subprocess.DEVNULL)

		def stop(*_):
			prism.terminate()
			try:
				prism.wait(5)
			except subprocess.TimeoutExpired:
				prism.kill()
			os._exit(0)
		signal.signal(signal.SIGTERM, stop)
		signal.signal(signal.SIGINT, stop)
		deadline = time.monotonic() + a.timeout
		up = False
		while time.monotonic() < deadline and prism.poll() is None:
			try:
				c = http.client.HTTPConnection("127.0.0.1",
				    PRISM_PORT, timeout=5)
				c.request("GET", "/server/ping")
				c.getresponse().read()
				up = True
				break
			except OSError:
				time.sleep(0.2)
		if up:
			break
		if prism.poll() is None:
			print("shim: Prism did not answer within %gs" % a.timeout,
			    file=sys.stderr)
			stop()
	else:
		print("shim: Prism did not start (see %s)" % a.prism_log,
		    file=sys.stderr)
		sys.exit(1)
	ctl = Server(("127.0.0.1", 0), Control)
	tmp = a.port_file + ".tmp"
	with open(tmp, "w") as f:
		f.write("%d\n" % ctl.server_address[1])
	os.rename(tmp, a.port_file)
	threading.Thread(target=lambda: (prism.wait(), os._exit(1)),
	    daemon=True).start()
	if a.watch_pid:
		def watch():
			while True:
				try:
					os.kill(a.watch_pid, 0)
				except ProcessLookupError:
					stop()
				time.sleep(0.5)
		threading.Thread(target=watch, daemon=True).start()
	ctl.serve_forever()


if __name__ == "__main__":
	main()
