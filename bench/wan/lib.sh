# Shared by the WAN bench scripts (sourced, not run): the link model (bench/wan/link.ts) in front
# of local servers, and its measured capacity.
# Model figures from the environment: WAN_RTT (ms, 40), WAN_CONN (MiB/s per connection, 16),
# WAN_LINK (MiB/s for all connections, 64), WAN_QUEUE (KiB per direction, 2048); WAN_TIMELINE (a file:
# the link appends its byte totals there, for bench/wan/timeline.mjs).

WAN_RTT=${WAN_RTT:-40}
WAN_CONN=${WAN_CONN:-16}
WAN_LINK=${WAN_LINK:-64}
WAN_QUEUE=${WAN_QUEUE:-2048}

# start_wan_link <work> <upstream port>…: one link (with its probe) in front of 127.0.0.1:<port>
# for each; sets LINK_PID and LINK_PROBE, adds the pid to BENCH_PIDS (killed at exit by
# bench/peers/lib.sh's trap) and stops by itself after 2 hours. wan_port <port> gives the link's port.
start_wan_link() {
  local work=$1; shift
  local cli forwards=() p
  cli=$(bash bench/wan/build.sh)
  WAN_CLI=(node "$cli")
  for p in "$@"; do forwards+=(--forward "127.0.0.1:$p"); done
  "${WAN_CLI[@]}" serve --rtt "$WAN_RTT" --conn-mibps "$WAN_CONN" --link-mibps "$WAN_LINK" --queue-kib "$WAN_QUEUE" \
    --max-seconds 7200 --probe ${WAN_TIMELINE:+--timeline "$WAN_TIMELINE"} "${forwards[@]}" > "$work/link.out" 2> "$work/link.err" &
  LINK_PID=$!
  BENCH_PIDS="${BENCH_PIDS:-} $LINK_PID"
  for _ in $(seq 1 120); do grep -q '^READY' "$work/link.out" 2>/dev/null && break; sleep 0.5; done
  grep -q '^READY' "$work/link.out" || { cat "$work/link.err" >&2; echo "WAN link failed to start" >&2; exit 1; }
  LINK_PROBE=$(awk '/^PROBE/ {print $2}' "$work/link.out")
  LINK_OUT=$work/link.out
  echo "WAN link (RTT $WAN_RTT ms, $WAN_CONN MiB/s per connection, $WAN_LINK MiB/s link, queue $WAN_QUEUE KiB): $(grep '^FORWARD' "$work/link.out" | tr '\n' ' ')" >&2
}

wan_port() { awk -v up="127.0.0.1:$1" '$1 == "FORWARD" && $3 == up {print $2}' "$LINK_OUT"; }

# link_bench_sandbox: puts the bench sandbox's S3 and GWS (bench_start's $WORK/config.properties
# and S3_ENDPOINT) behind one link: rcbs's config, S3_ENDPOINT and rclone's endpoint then go
# through it.
link_bench_sandbox() {
  local gws_port s3_port
  gws_port=$(sed -n 's|^gwsUriPrefix = http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$WORK/config.properties")
  s3_port=${S3_ENDPOINT##*:}
  start_wan_link "$WORK" "$s3_port" "$gws_port"
  sed -i "s|^gwsUriPrefix = http://127.0.0.1:$gws_port/|gwsUriPrefix = http://127.0.0.1:$(wan_port "$gws_port")/|; s|^s3Endpoint = .*|s3Endpoint = http://127.0.0.1:$(wan_port "$s3_port")|" "$WORK/config.properties"
  export S3_ENDPOINT=http://127.0.0.1:$(wan_port "$s3_port")
  export RCLONE_CONFIG_BENCH_ENDPOINT=$S3_ENDPOINT
  grep -E '^(gwsUriPrefix|s3Endpoint)' "$WORK/config.properties" >&2
}

# wan_capacity <file>: 16 streams of 8 MiB at once through the link to its probe; appends
# "<MiB/s> <fairness> <first byte ms>" to <file> and prints the measurement on stderr.
wan_capacity() {
  local line
  line=$(timeout 120 "${WAN_CLI[@]}" measure --port "$LINK_PROBE" --streams 16 --mib 8)
  echo "capacity: $line" >&2
  node -e 'const m = JSON.parse(process.argv[1].replace(/^MEASURE /, "")); console.log(m.mibps, m.fairness, m.firstByteMsMedian)' "$line" >> "$1"
}

# wan_round <round> <rounds> <label> <items…>: starts one round: prints it, measures the model's
# capacity (appended to $WORK/capacity.runs) and sets ORDER to the items rotated by the round.
wan_round() {
  local round=$1 rounds=$2 label=$3; shift 3
  local items=("$@") i
  ORDER=()
  for i in $(seq 0 $(($# - 1))); do ORDER+=("${items[$(( (i + round) % $# ))]}"); done
  echo "round $round/$rounds: $label${ORDER[*]} ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  wan_capacity "$WORK/capacity.runs"
}

# wan_link_cpu: CPU seconds (user+sys) the link process has used so far.
wan_link_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$LINK_PID/stat"
}
