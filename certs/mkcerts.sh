#!/bin/sh
# Makes the local root CA and the nginx server certificate (design §5).
#
# Writes ca.key ca.crt server.key server.crt (PEM; keys 0600, certificates 0644) to
# $CERTS_DIR, by default certs/local/ next to this script (made 0700). Safe to run
# before every start: while the files are valid it changes nothing. It renews the
# server certificate, with a new key, when it expires within 7 days, when its SAN no
# longer names the configured host, or when the current CA did not sign it; it remakes
# the CA (and then the server certificate) only when the CA is missing, invalid, or
# would expire before a fresh server certificate. Prints one line; exits non-zero
# with a message on failure.
#
# Environment:
#   CERTS_DIR      output directory (default: certs/local next to this script)
#   CHAT_HOSTNAME  the site's DNS name (or IPv4 address), in the SAN (default: `hostname`)
#   CHAT_EXTRA_HOSTNAMES  more names for the SAN, space- or comma-separated
#                  (default: localhost 127.0.0.1; empty: none)
#   CERT_DAYS      server certificate validity in days (default 90)
#   CA_DAYS        CA validity in days (default 3650)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${CERTS_DIR:-$here/local}
cert_days=${CERT_DAYS:-90}
ca_days=${CA_DAYS:-3650}
renew_before=604800	# seconds: renew the server certificate a week before it expires

die() {
	printf 'certs: %s\n' "$*" >&2
	exit 1
}

days_ok() {
	case $1 in '' | *[!0-9]* | 0*) return 1 ;; esac
	[ "$1" -le 36500 ]
}

command -v openssl >/dev/null 2>&1 || die "openssl not found (apt-get install openssl)"
days_ok "$cert_days" || die "CERT_DAYS must be a whole number of days, 1..36500 (got '$cert_days')"
days_ok "$ca_days" || die "CA_DAYS must be a whole number of days, 1..36500 (got '$ca_days')"
[ "$ca_days" -gt "$cert_days" ] || die "CA_DAYS ($ca_days) must be more than CERT_DAYS ($cert_days)"

# The configured host names: lower case, each a DNS name or IPv4 address, so that none
# can smuggle extra entries into the SAN string below. The extra names come first (by
# default localhost and 127.0.0.1), then CHAT_HOSTNAME; each once.
given=${CHAT_HOSTNAME:-$(hostname 2>/dev/null || uname -n)}
extra=${CHAT_EXTRA_HOSTNAMES-localhost 127.0.0.1}
label='[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?'
host=""
san="" san_text=""
set -f	# a name is never a file pattern
for name in $(printf '%s' "$extra" | tr ',' ' ') "$given"; do
	h=$(printf '%s' "$name" | tr '[:upper:]' '[:lower:]')
	if [ "${#h}" -gt 253 ] || ! printf '%s\n' "$h" | grep -Eqx "$label(\\.$label)*"; then
		[ "$name" = "$given" ] && die "CHAT_HOSTNAME '$given' is not a valid host name"
		die "CHAT_EXTRA_HOSTNAMES: '$name' is not a valid host name"
	fi
	host=$h
	if printf '%s\n' "$h" | grep -Eqx '[0-9]{1,3}(\.[0-9]{1,3}){3}'; then
		entry="IP:$h" text="IP Address:$h"
	else
		entry="DNS:$h" text="DNS:$h"
	fi
	case ", $san, " in *", $entry, "*) continue ;; esac
	san=${san:+$san, }$entry
	san_text=${san_text:+$san_text, }$text
done
set +f
CERTS_SAN=$san
CERTS_CA_CN="E2EE Chat local CA ($host)"
export CERTS_SAN CERTS_CA_CN

ca_key=$out/ca.key
ca_crt=$out/ca.crt
srv_key=$out/server.key
srv_crt=$out/server.crt
why=""	# set by ca_ok/server_ok: why the files must be remade

# is_p384_sha384 CERT: is the key ECDSA P-384 and the signature ECDSA-SHA384?
is_p384_sha384() {
	text=$(openssl x509 -in "$1" -noout -text 2>/dev/null) || return 1
	case $text in *"ASN1 OID: secp384r1"*) ;; *) return 1 ;; esac
	case $text in *"Signature Algorithm: ecdsa-with-SHA384"*) ;; *) return 1 ;; esac
}

# same_key KEY CERT: does the private key belong to the certificate?
same_key() {
	k=$(openssl pkey -in "$1" -pubout 2>/dev/null) || return 1
	c=$(openssl x509 -in "$2" -noout -pubkey 2>/dev/null) || return 1
	[ "$k" = "$c" ]
}

ca_ok() {
	if [ ! -s "$ca_key" ] || [ ! -s "$ca_crt" ]; then
		why="no CA"
		return 1
	fi
	why="CA invalid"
	is_p384_sha384 "$ca_crt" || return 1
	same_key "$ca_key" "$ca_crt" || return 1
	openssl x509 -in "$ca_crt" -noout -ext basicConstraints 2>/dev/null | grep -q 'CA:TRUE' || return 1
	openssl verify -x509_strict -CAfile "$ca_crt" "$ca_crt" >/dev/null 2>&1 || return 1
	why="CA expires before a new server certificate would"
	openssl x509 -in "$ca_crt" -noout -checkend $((cert_days * 86400)) >/dev/null 2>&1 || return 1
	why=""
}

# server_ok SECONDS: is the server certificate sound and valid for SECONDS more?
server_ok() {
	if [ ! -s "$srv_key" ] || [ ! -s "$srv_crt" ]; then
		why="no server certificate"
		return 1
	fi
	why="server certificate invalid"
	is_p384_sha384 "$srv_crt" || return 1
	same_key "$srv_key" "$srv_crt" || return 1
	why="server certificate not signed by the current CA"
	openssl verify -x509_strict -purpose sslserver -CAfile "$ca_crt" "$srv_crt" >/dev/null 2>&1 || return 1
	why="server certificate expires within $(($1 / 86400)) days"
	openssl x509 -in "$srv_crt" -noout -checkend "$1" >/dev/null 2>&1 || return 1
	why="host name changed"
	got=$(openssl x509 -in "$srv_crt" -noout -ext subjectAltName 2>/dev/null | sed -n '2s/^ *//p')
	[ "$got" = "$san_text" ] || return 1
	why=""
}

expiry() {
	openssl x509 -in "$srv_crt" -noout -enddate | sed 's/^notAfter=//'
}

if [ -d "$out" ] && ca_ok && server_ok "$renew_before"; then
	echo "certs: up to date ($srv_crt expires $(expiry))"
	exit 0
fi

# Something must be written: work in a private directory beside the output so that
# each finished file is moved into place atomically, and hold a lock so that two runs
# at once cannot mix a CA from one with a server certificate from the other.
if [ ! -d "$out" ]; then
	mkdir -p "$(dirname "$out")" || die "cannot create $out"
	mkdir -m 0700 "$out" 2>/dev/null || [ -d "$out" ] || die "cannot create $out"
fi
umask 077
work=$(mktemp -d "$out/.work.XXXXXX") || die "cannot write to $out"
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM
if command -v flock >/dev/null 2>&1; then
	exec 9<"$out"
	flock 9 || die "cannot lock $out"
fi

# quietly CMD...: run CMD with its chatter kept aside; on failure show it and stop.
quietly() {
	if ! "$@" >"$work/log" 2>&1; then
		cat "$work/log" >&2
		die "failed: $*"
	fi
}

serial() {
	echo "0x$(openssl rand -hex 16)"
}

# new_key FILE: a fresh ECDSA P-384 private key (PKCS#8 PEM).
new_key() {
	quietly openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
		-pkeyopt ec_param_enc:named_curve -out "$1"
}

# install_pair NAME: move the new NAME.key and NAME.crt from the work directory into place.
install_pair() {
	chmod 0600 "$work/$1.key"
	chmod 0644 "$work/$1.crt"
	mv -f "$work/$1.key" "$out/$1.key"
	mv -f "$work/$1.crt" "$out/$1.crt"
}

make_ca() {
	new_key "$work/ca.key"
	quietly openssl req -x509 -new -config "$here/ca.cnf" -key "$work/ca.key" \
		-sha384 -days "$ca_days" -set_serial "$(serial)" -out "$work/ca.crt"
	install_pair ca
}

make_server() {
	new_key "$work/server.key"
	quietly openssl req -new -config "$here/server.cnf" -key "$work/server.key" \
		-out "$work/server.csr"
	quietly openssl x509 -req -in "$work/server.csr" -CA "$ca_crt" -CAkey "$ca_key" \
		-sha384 -days "$cert_days" -set_serial "$(serial)" \
		-extfile "$here/server.cnf" -extensions v3_server -out "$work/server.crt"
	install_pair server
}

# Decide again under the lock: another run may have just done the work.
if ! ca_ok; then
	ca_why=$why
	make_ca
	make_server
	server_ok 0 || die "made a server certificate that does not check out ($why)"
	echo "certs: made CA $ca_crt ($ca_why) and $srv_crt for $san (expires $(expiry)); trust the new CA"
elif ! server_ok "$renew_before"; then
	srv_why=$why
	make_server
	server_ok 0 || die "made a server certificate that does not check out ($why)"
	echo "certs: made $srv_crt for $san ($srv_why; expires $(expiry))"
else
	echo "certs: up to date ($srv_crt expires $(expiry))"
fi
