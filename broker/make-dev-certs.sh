#!/bin/sh
# Development certificates for the broker, head office and kiosks.
#
#   broker/make-dev-certs.sh OUT_DIR [KIOSK_ID ...]
#
# Makes, in OUT_DIR: a development CA (ca.crt, ca.key), the broker's server certificate
# (server.crt, server.key; SAN 127.0.0.1 and localhost), head office's client certificate
# (hq.crt, hq.key; CN=hq) and one client certificate per kiosk id (ID.crt, ID.key; CN=ID).
# The broker uses each client certificate's CN as the user name, so the ACL keys on it.
# Keys are written with mode 0600. Existing files are kept (the CA is reused), so the script
# can be run again to add kiosks. Not for production: use your own CA there.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 OUT_DIR [KIOSK_ID ...]" >&2
    exit 2
fi
out=$1
shift
days=${CERT_DAYS:-825}
mkdir -p "$out"
umask 077

if [ ! -f "$out/ca.key" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
        -subj "/CN=loyalty development CA" -keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null
fi

# issue NAME CN KIND(server|client)
issue() {
    name=$1
    cn=$2
    kind=$3
    [ -f "$out/$name.crt" ] && return 0
    ext="$out/$name.ext"
    if [ "$kind" = server ]; then
        printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$ext"
    else
        printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >"$ext"
    fi
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -subj "/CN=$cn" \
        -keyout "$out/$name.key" -out "$out/$name.csr" 2>/dev/null
    openssl x509 -req -in "$out/$name.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
        -days "$days" -sha256 -extfile "$ext" -out "$out/$name.crt" 2>/dev/null
    rm -f "$out/$name.csr" "$ext"
}

issue server localhost server
issue hq hq client
for id in "$@"; do
    case $id in
        *[!a-z0-9-]* | -* | "")
            echo "$0: bad kiosk id: $id" >&2
            exit 2
            ;;
    esac
    issue "$id" "$id" client
done

chmod 600 "$out"/*.key
chmod 644 "$out"/*.crt
echo "certificates in $out"
