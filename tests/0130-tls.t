#!/bin/sh
# A home server's TLS: nginx in front of the fake with a certificate from a
# private CA made here (openssl), on 127.0.0.1 only.  Without the CA every
# request fails, clearly; with IMMICH_CA_FILE, SSL_CERT_FILE or
# CURL_CA_BUNDLE it works; behind mutual TLS it works with
# IMMICH_CLIENT_CERT/IMMICH_CLIENT_KEY; the headers of IMMICH_HEADERS_FILE
# reach the server on every request and are never in a message.
. "$(dirname "$0")/lib.sh"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || skip_all "needs nginx (Debian package nginx)"
command -v openssl >/dev/null && command -v jq >/dev/null &&
    command -v curl >/dev/null || skip_all "needs openssl, jq and curl"
for b in immich-dupes immich-consolidate immich-fetch immich-verify \
    immich-trash; do
	command -v $b >/dev/null || skip_all "$b not built yet"
done
plan 22

python3 "$TESTDIR/mklib.py" --groups 3 >"$T/lib.json" || exit 1
fake_start "$T/lib.json"
UPSTREAM=${IMMICH_INSTANCE_URL#http://}

# ---- The CA, a server certificate for 127.0.0.1 it signed, a client
# certificate it signed, and a second CA that signed nothing here.
P=$T/pki
mkdir -p "$P"
ossl() { openssl "$@" >>"$P/log" 2>&1 || { echo "Bail out! openssl $1 failed";
    sed 's/^/# /' "$P/log"; exit 255; }; }
ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Test Home CA" \
    -keyout "$P/ca.key" -out "$P/ca.pem"
ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Other CA" \
    -keyout "$P/other.key" -out "$P/other.pem"
ossl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$P/server.key" -out "$P/server.csr"
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
    >"$P/server.ext"
ossl x509 -req -in "$P/server.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" \
    -CAcreateserial -days 2 -extfile "$P/server.ext" -out "$P/server.pem"
ossl req -newkey rsa:2048 -nodes -subj "/CN=phone" \
    -keyout "$P/client.key" -out "$P/client.csr"
printf 'extendedKeyUsage=clientAuth\n' >"$P/client.ext"
ossl x509 -req -in "$P/client.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" \
    -CAcreateserial -days 2 -extfile "$P/client.ext" -out "$P/client.pem"
chmod 600 "$P/client.key"

# ---- nginx: port A plain TLS, port B mutual TLS, both to the fake.
N=$T/nginx
mkdir -p "$N/tmp"
set -- $(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
A=$1 B=$2
proxy="proxy_pass http://$UPSTREAM; proxy_http_version 1.1;
	proxy_set_header Connection \"\"; proxy_buffering off;
	proxy_request_buffering off;"
cat >"$N/nginx.conf" <<EOF
daemon off;
master_process off;
pid $N/nginx.pid;
error_log $N/error.log warn;
events { worker_connections 64; }
http {
	access_log off;
	client_max_body_size 0;
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fastcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	ssl_certificate $P/server.pem;
	ssl_certificate_key $P/server.key;
	server { listen 127.0.0.1:$A ssl; location / { $proxy } }
	server {
		listen 127.0.0.1:$B ssl;
		ssl_client_certificate $P/ca.pem;
		ssl_verify_client on;
		location / { $proxy }
	}
}
EOF
"$NGINX" -p "$N" -c "$N/nginx.conf" -e "$N/error.log" 2>>"$N/error.log" &
ngx=$!
at_exit "kill $ngx 2>/dev/null"
i=0
until curl -s -o /dev/null --cacert "$P/ca.pem" \
    "https://127.0.0.1:$A/api/server/features"; do
	if [ $i -ge 100 ] || ! kill -0 $ngx 2>/dev/null; then
		echo "Bail out! nginx did not start"
		sed 's/^/# /' "$N/error.log"
		exit 255
	fi
	sleep 0.1
	i=$((i + 1))
done
export IMMICH_INSTANCE_URL="https://127.0.0.1:$A"
unset SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE IMMICH_CA_FILE
export IMMICH_RETRIES=1
SECRET=tok-7e1a9f0c-secret
printf '# for the access proxy\nX-Access-Token: %s\nCF-Access-Client-Id: app.access\n' \
    "$SECRET" >"$T/headers"
chmod 600 "$T/headers"
export IMMICH_HEADERS_FILE="$T/headers"
logged() { fake_log_count 'true'; }
oneline() { printf '%s' "$1" | tr '\n' ' '; }

# ---- Without the CA: a clear failure, nothing reaches the server.
before=$(logged)
run immich-dupes
is "$rc:$out" "3:" "no CA: exit 3, no records"
like "$err" "unable to get local issuer certificate \(if the server's certificate is from your own CA, set IMMICH_CA_FILE to that CA's certificate\)" \
    "no CA: says why and what to set"
is "$(logged)" "$before" "no CA: no request reached the server"
IMMICH_CA_FILE=$P/other.pem run immich-dupes
like "$rc:$(oneline "$err")" "^3:.*not signed by the CA in IMMICH_CA_FILE \($P/other.pem\)" \
    "another CA in IMMICH_CA_FILE: exit 3, the file named"
IMMICH_CA_FILE=$P/ca.pem IMMICH_INSTANCE_URL=https://localhost:$A \
    run immich-dupes
like "$rc:$(oneline "$err")" "^3:.*\(the certificate is for another name: put the name it was issued for in IMMICH_INSTANCE_URL\)" \
    "a certificate for another name: exit 3, says so"
IMMICH_CA_FILE=$T/nonexistent.pem run immich-dupes
like "$rc:$err" "^2:immich-dupes: IMMICH_CA_FILE: $T/nonexistent.pem: No such file" \
    "a missing IMMICH_CA_FILE: exit 2"

# ---- With IMMICH_CA_FILE: the whole pipeline, with the extra headers.
export IMMICH_CA_FILE="$P/ca.pem"
before=$(logged)
{ immich-dupes 2>"$T/e1"; echo $? >"$T/rc1"; } |
{ immich-consolidate 2>"$T/e2"; echo $? >"$T/rc2"; } |
{ immich-fetch -d "$T/backup" 2>"$T/e3"; echo $? >"$T/rc3"; } |
{ immich-verify 2>"$T/e4"; echo $? >"$T/rc4"; } |
{ immich-trash 2>"$T/e5"; echo $? >"$T/rc5"; } >"$T/done.ndjson"
is "$(cat "$T/rc1" "$T/rc2" "$T/rc3" "$T/rc4" "$T/rc5" | tr '\n' ' ')" \
    "0 0 0 0 0 " "IMMICH_CA_FILE: the pipeline runs through nginx"
is "$(jq -c 'select(.trashed)' "$T/done.ndjson" | wc -l | tr -d ' ')" 3 \
    "IMMICH_CA_FILE: every group done"
n=$(logged)
is "$(fake_log_count '.headers["X-Access-Token"] == "'$SECRET'" and
    .headers["CF-Access-Client-Id"] == "app.access"')" "$((n - before))" \
    "the extra headers are on every one of the $((n - before)) requests"
unlike "$(cat "$T/e1" "$T/e2" "$T/e3" "$T/e4" "$T/e5")" \
    "$SECRET|X-Access|can be read" "the pipeline's messages: no header, no warning"
unset IMMICH_CA_FILE

# ---- The variables the curl tool honours.
SSL_CERT_FILE=$P/ca.pem run immich-dupes
is "$rc" 0 "SSL_CERT_FILE: works"
CURL_CA_BUNDLE=$P/ca.pem run immich-dupes
is "$rc" 0 "CURL_CA_BUNDLE: works"
IMMICH_CA_FILE=$P/ca.pem CURL_CA_BUNDLE=$P/other.pem SSL_CERT_FILE=$P/other.pem \
    run immich-dupes
is "$rc" 0 "IMMICH_CA_FILE wins over CURL_CA_BUNDLE and SSL_CERT_FILE"
CURL_CA_BUNDLE=$P/ca.pem SSL_CERT_FILE=$P/other.pem run immich-dupes
is "$rc" 0 "CURL_CA_BUNDLE wins over SSL_CERT_FILE, as in curl"

# ---- Mutual TLS.
export IMMICH_CA_FILE="$P/ca.pem" IMMICH_INSTANCE_URL="https://127.0.0.1:$B"
before=$(logged)
run immich-dupes
is "$rc:$out" "3:" "mutual TLS without a client certificate: exit 3"
like "$err" "set IMMICH_CLIENT_CERT and IMMICH_CLIENT_KEY" \
    "mutual TLS without a client certificate: says what to set"
is "$(logged)" "$before" "mutual TLS without a client certificate: nothing reached the server"
IMMICH_CLIENT_CERT=$P/client.pem IMMICH_CLIENT_KEY=$P/client.key \
    run immich-dupes
is "$rc:$(($(logged) - before))" "0:1" \
    "mutual TLS with IMMICH_CLIENT_CERT and IMMICH_CLIENT_KEY: works"
chmod 644 "$P/client.key"
IMMICH_CLIENT_CERT=$P/client.pem IMMICH_CLIENT_KEY=$P/client.key \
    run immich-dupes
like "$rc:$err" "^0:immich-dupes: IMMICH_CLIENT_KEY: $P/client.key can be read by others" \
    "a client key readable by others: warned"
export IMMICH_INSTANCE_URL="https://127.0.0.1:$A"

# ---- The header values are redacted from what the server says.
fake_ctl POST /_fake/faults '[{"path": "^/api/duplicates$", "action": "status",
    "status": 400, "body": {"message": "token '$SECRET' is not valid here"}}]' \
    >/dev/null
run immich-dupes
like "$rc:$(oneline "$err")" "^3:.*token \*\*\* is not valid here" \
    "a reply that echoes a header value: redacted"
unlike "$err" "$SECRET" "a reply that echoes a header value: not shown"
chmod 644 "$T/headers"
run immich-dupes
like "$err" "IMMICH_HEADERS_FILE: $T/headers can be read by others" \
    "a headers file readable by others: warned"
