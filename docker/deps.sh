#!/bin/sh
# Installs the Debian packages of docker/packages.txt that are missing.
# Usage: docker/deps.sh [ROLE...]   (no role: every role)
# Quiet and quick when everything is present; apt-get runs only for what is
# missing, so it is safe to call before every `make run` and `make test`.
set -eu
list="$(dirname "$0")/packages.txt"

want=$(awk -v roles=" $* " '
	/^# role:/ { role = $3; next }
	/^#/ || NF == 0 { next }
	roles == "  " || index(roles, " " role " ") { print $1 ":" ($2 == "" ? "-" : $2) }
' "$list")

missing=""
for item in $want; do
	pkg=${item%%:*}
	cmd=${item#*:}
	if [ "$cmd" != "-" ] && command -v "$cmd" >/dev/null 2>&1; then
		continue
	fi
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = "installed" ] || missing="$missing $pkg"
done

[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run 'make deps' as root)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
