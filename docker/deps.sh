#!/bin/sh
# Installs the Debian packages of docker/packages.txt that are missing.
# Usage: docker/deps.sh [ROLE...]   (no role: every role)
# Silent and quick (one dpkg-query) when everything is present; apt-get runs
# only for what is missing, its chatter kept in a log that is shown only if it
# fails. So it is safe to call before every `make run` and `make test`.
set -eu
list="$(dirname "$0")/packages.txt"

for role in "$@"; do
	grep -qx "# role: $role" "$list" || { echo "deps: no role '$role' in $list" >&2; exit 2; }
done

want=$(awk -v roles=" $* " '
	/^# role:/ { role = $3; next }
	/^#/ || NF == 0 { next }
	roles == "  " || index(roles, " " role " ") { print $1 ":" ($2 == "" ? "-" : $2) }
' "$list")

pkgs=""
for item in $want; do
	cmd=${item#*:}
	# A command already on PATH stands for its package (Node.js from elsewhere).
	if [ "$cmd" != "-" ] && command -v "$cmd" >/dev/null 2>&1; then
		continue
	fi
	pkgs="$pkgs ${item%%:*}"
done
[ -z "$pkgs" ] && exit 0

# shellcheck disable=SC2086
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $pkgs 2>/dev/null |
	awk '$2 == "installed" { print $1 }') || true
missing=""
for pkg in $pkgs; do
	printf '%s\n' "$installed" | grep -qx "$pkg" || missing="$missing $pkg"
done

[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run 'make deps' as root)" >&2
	exit 1
fi
echo "deps: installing$missing"
log=$(mktemp /tmp/deps.XXXXXX)
export DEBIAN_FRONTEND=noninteractive
# Debian starts a server as its package is installed: nginx with its default
# site on port 80, MariaDB on 3306. The project runs instances of its own, so
# the machine's must not start now (policy-rc.d answers "not allowed"), nor at
# boot (disabled below). A policy already in place is left as it is.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# docker/deps.sh: no service starts while packages are installed\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
	made_policy=1
fi
trap '[ -z "$made_policy" ] || rm -f "$policy"' EXIT
# shellcheck disable=SC2086
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	echo "deps: apt-get failed (the whole log: $log)" >&2
	exit 1
fi
rm -f "$log"
for pair in nginx:nginx mariadb-server:mariadb; do
	case " $missing " in *" ${pair%%:*} "*) ;; *) continue ;; esac
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now --quiet "${pair#*:}.service" >/dev/null 2>&1 || true
	fi
done
