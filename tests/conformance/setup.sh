#!/bin/sh
# SPDX-License-Identifier: ISC
# Installs Prism (npm @stoplight/prism-cli, the version pinned in
# package-lock.json) into tests/conformance/node_modules, which git ignores.
# Needs node and npm (Node.js 18 or later) and the npm registry.  Does
# nothing when the pinned version is already there.
set -eu
cd "$(dirname "$0")"
want=$(sed -n 's/.*"@stoplight\/prism-cli": *"\([^"]*\)".*/\1/p' package.json)
have=$(node_modules/.bin/prism --version 2>/dev/null || :)
[ -n "$have" ] && [ "$have" = "$want" ] && exit 0
for c in node npm; do
	command -v $c >/dev/null 2>&1 || {
		echo "conformance setup: $c is missing (apt-get install nodejs npm)" >&2
		exit 1
	}
done
start=$(date +%s)
if [ -f package-lock.json ]; then
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2
else
	npm install --no-audit --no-fund --ignore-scripts --loglevel=error >&2
fi
echo "conformance setup: prism $(node_modules/.bin/prism --version)" \
    "installed in $(($(date +%s) - start)) s" >&2
