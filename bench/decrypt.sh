#!/usr/bin/env bash
# Decrypt speed and memory: `rcbs decrypt` (streaming) vs `openssl cms -decrypt`
# on large CMS files made by openssl (DER, AES-256-CBC). Run by hand, not in the
# test suite:  bash bench/decrypt.sh [sizes in MiB, default "200 1024"] [runs, default 5]
# Prints median wall time and peak RSS per tool and size (order rotates per run).
# Tools: rcbs-cli (`node dist/cli.js decrypt`, what users run, start-up included),
# rcbs-module (the same decryptCommand imported alone: the CLI's start-up cost
# apart), openssl (`openssl cms -decrypt -binary -inform DER`).
# Needs: openssl, /usr/bin/time (installed with apt-get if missing), a build (done here).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
SIZES=${1:-"200 1024"}
RUNS=${2:-5}
WORK=$(mktemp -d /tmp/rcbs-bench-decrypt.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

npx tsc -p tsconfig.build.json >/dev/null || true   # emits even if another module is mid-work
test -f dist/cli.js

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -subj /CN=bench -days 2 2>/dev/null

# Runs a command under /usr/bin/time, prints "seconds peak_kb".
measure() {
  /usr/bin/time -f '%e %M' -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt" >&2; exit 1; }
  cat "$WORK/time.txt"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '%-8s %-22s %10s %14s\n' size tool 'median s' 'peak RSS MB'
for mib in $SIZES; do
  head -c $((mib * 1024 * 1024)) /dev/urandom > "$WORK/plain"
  openssl cms -encrypt -binary -aes-256-cbc -outform DER -in "$WORK/plain" -out "$WORK/in.bin" "$WORK/cert.pem"
  rm -f "$WORK/plain.sha"; sha256sum < "$WORK/plain" > "$WORK/plain.sha"; rm -f "$WORK/plain"
  for tool in rcbs-cli rcbs-module openssl; do : > "$WORK/$tool.t"; : > "$WORK/$tool.m"; done
  for run in $(seq 1 "$RUNS"); do
    case $((run % 3)) in 1) order="rcbs-cli rcbs-module openssl" ;; 2) order="openssl rcbs-cli rcbs-module" ;; *) order="rcbs-module openssl rcbs-cli" ;; esac
    for tool in $order; do
      rm -rf "$WORK/out"; mkdir -p "$WORK/out"
      if [ "$tool" = rcbs-cli ]; then
        read -r s kb < <(measure node dist/cli.js decrypt "$WORK/in.bin" --key "$WORK/key.pem" --out "$WORK/out")
        out="$WORK/out/in"
      elif [ "$tool" = rcbs-module ]; then
        read -r s kb < <(measure node --input-type=module -e "
          import { decryptCommand } from '$PWD/dist/commands/decrypt.js';
          import { createLogger } from '$PWD/dist/log.js';
          process.exitCode = await decryptCommand(['$WORK/in.bin'], { keys: ['$WORK/key.pem'], out: '$WORK/out' }, createLogger());")
        out="$WORK/out/in"
      else
        read -r s kb < <(measure openssl cms -decrypt -binary -inform DER -in "$WORK/in.bin" -inkey "$WORK/key.pem" -out "$WORK/out/in")
        out="$WORK/out/in"
      fi
      [ "$(sha256sum < "$out")" = "$(cat "$WORK/plain.sha")" ] || { echo "$tool output differs from the plaintext" >&2; exit 1; }
      echo "$s" >> "$WORK/$tool.t"; echo "$kb" >> "$WORK/$tool.m"
    done
  done
  for tool in rcbs-cli rcbs-module openssl; do
    printf '%-8s %-22s %10s %14s\n' "${mib}MiB" "$tool" "$(median < "$WORK/$tool.t")" "$(( $(sort -n "$WORK/$tool.m" | tail -1) / 1024 ))"
  done
  rm -f "$WORK/in.bin" "$WORK/out/in"
done
