#!/bin/sh
# Usage: run-with-xensim.sh XENSIM TEST [ARGS...]
# Brings a simulated Xen host up in a fresh directory, runs TEST with the shim
# preloaded, and takes the host down again whatever TEST did.
set -u
xensim=$1
shift
dir=$(mktemp -d "${TMPDIR:-/tmp}/stubdomd-xensim-XXXXXX") || exit 99
cleanup() { "$xensim" down "$dir" >/dev/null 2>&1; rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
"$xensim" up "$dir" || exit 99
. "$dir/env"
LD_PRELOAD="$XENSIM_PRELOAD${LD_PRELOAD:+:$LD_PRELOAD}" "$@"
