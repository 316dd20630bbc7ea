#!/bin/sh
# Issue OCPP security profile 3 certificates with openssl.
#
#   deploy/charger-cert.sh ca DIR                  a new charger CA in DIR (ca.key, ca.crt)
#   deploy/charger-cert.sh issue DIR ID [CSR]      a certificate for charge point ID, signed by
#                                                  the CA in DIR: DIR/ID.crt (and DIR/ID.key
#                                                  when no CSR from the charger is given)
#
# The subject's CN is the charge point id, exactly as in the charger's URL (OCPP 2.0.1 security
# whitepaper: the CN carries the charging station's identity, the O the operator's name, from
# CA_ORGANIZATION when set); a CSR's own subject is replaced.
# Keep ca.key offline; nginx needs only ca.crt (ssl_client_certificate).
set -eu

DAYS="${DAYS:-825}"

usage() {
    sed -n '2,12p' "$0" >&2
    exit 2
}

[ $# -ge 2 ] || usage
command="$1"
dir="$2"

case "$command" in
ca)
    mkdir -p "$dir"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 3650 \
        -subj "/O=${CA_ORGANIZATION:-Charging operator}/CN=${CA_NAME:-Charger CA}" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign"
    chmod 600 "$dir/ca.key"
    ;;
issue)
    [ $# -ge 3 ] || usage
    id="$3"
    csr="${4:-}"
    case "$id" in
    "" | *:*) echo "charge point id: 1 to 48 characters without ':'" >&2; exit 2 ;;
    esac
    [ "${#id}" -le 48 ] || { echo "charge point id: at most 48 characters" >&2; exit 2; }
    # The file name keeps the id readable but safe; the CN keeps it exact.
    name=$(printf '%s' "$id" | tr -c 'A-Za-z0-9._-' '_')
    # openssl's -subj separates attributes with '/': escape it and the backslash in the id.
    subject_id=$(printf '%s' "$id" | sed 's/[\\/]/\\&/g')
    subject="${CA_ORGANIZATION:+/O=$CA_ORGANIZATION}/CN=$subject_id"
    if [ -z "$csr" ]; then
        csr="$dir/$name.csr"
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$dir/$name.key" -out "$csr" -subj "$subject"
        chmod 600 "$dir/$name.key"
    fi
    extensions=$(mktemp)
    trap 'rm -f "$extensions"' EXIT
    printf '%s\n' "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyAgreement" \
        "extendedKeyUsage=clientAuth" >"$extensions"
    openssl x509 -req -in "$csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
        -days "$DAYS" -sha256 -subj "$subject" -extfile "$extensions" \
        -out "$dir/$name.crt"
    openssl x509 -in "$dir/$name.crt" -noout -subject -fingerprint -sha256
    ;;
*)
    usage
    ;;
esac
