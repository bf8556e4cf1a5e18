#!/usr/bin/env bash
# test-ca.sh DIR [CA-NAME]: a private CA and a server certificate for the test
# servers (Dovecot, OpenLDAP, the Carbonio emulator), once per DIR:
#   DIR/ca.pem, DIR/ca.key          the CA clients are told to trust
#   DIR/server.crt, DIR/server.key  for localhost and 127.0.0.1, signed by it
# Nothing is written when DIR/server.crt exists. Keys are mode 0600.
set -euo pipefail
dir=${1:?usage: test-ca.sh DIR [CA-NAME]}
name=${2:-carbonio-migrate test CA}
if ! command -v openssl >/dev/null 2>&1; then
    echo "test-ca.sh: openssl not found; install it with scripts/install-test-deps.sh (as root)" >&2
    exit 3
fi
[ -s "$dir/server.crt" ] && exit 0
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 3650 \
    -subj "/CN=$name" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=localhost" 2>/dev/null
printf '%s\n' \
    "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" >"$dir/server.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 8)" -days 825 -sha256 \
    -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
rm -f "$dir/server.csr" "$dir/server.ext"
chmod 600 "$dir/ca.key" "$dir/server.key"
