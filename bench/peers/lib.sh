# Shared by bench/backup-vs-peers.sh and bench/one-object-1gib.sh (sourced, not run).
# Starts the sandbox server (bench/peers/serve.mjs), runs each tool against the same
# s3rver under /usr/bin/time, checks every output file's MD5, and prints medians.

need_tools() {
  local missing=()
  command -v rclone >/dev/null || missing+=(rclone)
  [ -x /usr/bin/aws ] || missing+=(awscli)
  [ -x /usr/bin/time ] || missing+=(time)
  command -v bc >/dev/null || missing+=(bc)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} (Debian packages)" >&2
    apt-get install -y "${missing[@]}" >/dev/null
  fi
  # The Debian awscli, not whatever `aws` comes first on PATH (pyenv's may be awscli 1).
  AWS=/usr/bin/aws
}

# start_server <work> <sizes>: seeds the sandbox and waits for READY; sets SERVER_PID.
start_server() {
  local work=$1 sizes=$2
  node --openssl-legacy-provider bench/peers/serve.mjs "$work" "$sizes" > "$work/serve.out" 2> "$work/serve.err" &
  SERVER_PID=$!
  until grep -q '^READY' "$work/serve.out" 2>/dev/null; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$work/serve.err" >&2; echo "sandbox server failed to start" >&2; exit 1; }
    sleep 0.5
  done
  # shellcheck disable=SC1091
  . "$work/env.sh"
  # The machine's AWS_CA_BUNDLE makes rclone 1.60 refuse to start (it is irrelevant over http).
  unset AWS_CA_BUNDLE
  export AWS_DEFAULT_REGION=us-east-1
  export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other RCLONE_CONFIG_BENCH_ENDPOINT=$S3_ENDPOINT \
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
    RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true RCLONE_CONFIG_BENCH_REGION=us-east-1 RCLONE_CONFIG=/dev/null
  TOTAL_BYTES=$(awk '{s+=$2} END {print s}' "$work/sizes.txt")
  sed 's/^READY/server:/' "$work/serve.out" >&2
}

# bench_start <name> <sizes>: everything a figure needs before it runs: a work folder
# (removed at exit, with the server and any pid the caller adds to BENCH_PIDS), the tools, a
# build, the sandbox server. Sets WORK and SERVER_PID.
bench_start() {
  WORK=$(mktemp -d "/tmp/$1.XXXXXX")
  SERVER_PID=
  BENCH_PIDS=
  trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; for p in $BENCH_PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT
  need_tools
  npm run build >/dev/null
  start_server "$WORK" "$2"
}

# CPU seconds (user+sys) the server process has used so far.
server_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$SERVER_PID/stat"
}

# tool_command <tool> <work> <out>: the command line of one tool writing into <out>.
tool_command() {
  local tool=$1 work=$2 out=$3
  case $tool in
    rcbs-t*) echo "env RCBS_NUM_THREADS=${tool#rcbs-t} RCBS_TARGET_DIR=$out node dist/cli.js -config $work/config.properties" ;;
    # An earlier rcbs, built by bench/build-ref.sh into RCBS_REF_DIR: before/after in one run.
    rcbs-ref-t*) echo "env RCBS_NUM_THREADS=${tool#rcbs-ref-t} RCBS_TARGET_DIR=$out node ${RCBS_REF_DIR:?set RCBS_REF_DIR (bench/build-ref.sh)}/dist/cli.js -config $work/config.properties" ;;
    rclone) echo "rclone copy --transfers 16 bench:$S3_BUCKET/$S3_PREFIX $out" ;;
    rclone-t*) echo "rclone copy --transfers ${tool#rclone-t} bench:$S3_BUCKET/$S3_PREFIX $out" ;;
    awscli) echo "$AWS --endpoint-url $S3_ENDPOINT s3 cp --recursive --quiet s3://$S3_BUCKET/$S3_PREFIX $out" ;;
    awscli-t*) # max_concurrent_requests (default 10) lives only in the AWS config file.
      printf '[default]\ns3 =\n  max_concurrent_requests = %s\n' "${tool#awscli-t}" > "$work/aws-$tool.config"
      echo "env AWS_CONFIG_FILE=$work/aws-$tool.config $AWS --endpoint-url $S3_ENDPOINT s3 cp --recursive --quiet s3://$S3_BUCKET/$S3_PREFIX $out" ;;
    sdk-floor) echo "node bench/peers/sdk-floor.mjs $work $out" ;;
    sdk-undici) echo "env SDK_HANDLER=undici node bench/peers/sdk-floor.mjs $work $out" ;;
    *) echo "unknown tool $tool" >&2; exit 1 ;;
  esac
}

# check_output <tool> <work> <out>: every object present under <out> with the right MD5.
check_output() {
  local tool=$1 work=$2 out=$3 key size md5 file bad=0
  while read -r key size md5; do
    if [[ $tool == rcbs-* ]]; then
      file=$(find "$out" -name "${key#"$S3_PREFIX"}.bin" -print -quit)
    else
      file=$out/${key#"$S3_PREFIX"}
    fi
    if [ -z "$file" ] || [ ! -f "$file" ] || [ "$(stat -c %s "$file")" != "$size" ] || [ "$(md5sum < "$file" | cut -c1-32)" != "$md5" ]; then
      echo "$tool: $key missing or different in $out" >&2; bad=1
    fi
  done < "$work/sizes.txt"
  if [[ $tool == rcbs-* ]]; then
    local json; json=$(find "$out" -name '*.json' -not -path '*/.rcbs/*' | wc -l)
    [ "$json" = "$(wc -l < "$work/sizes.txt")" ] || { echo "$tool: $json metadata JSON files, expected one per recording" >&2; bad=1; }
  fi
  return $bad
}

# run_once <tool> <work>: one timed run; appends "wall rss_kb user sys server_cpu sync_s" to <work>/<tool>.runs
# and "<start epoch ms> <end epoch ms>" to <work>/<tool>.spans (for bench/wan/timeline.mjs)
run_once() {
  local tool=$1 work=$2
  local out=$work/out-$1 cmd before after s0 s1 t0 t1
  rm -rf "$out"; mkdir -p "$out"; sync
  cmd=$(tool_command "$tool" "$work" "$out")
  before=$(server_cpu)
  t0=$(date +%s%3N)
  # shellcheck disable=SC2086
  # Bounded: a run that hangs fails the bench after RUN_TIMEOUT seconds (default 900).
  /usr/bin/time -f '%e %M %U %S' -o "$work/time.txt" timeout -k 10 "${RUN_TIMEOUT:-900}" $cmd > "$work/$tool.stdout" 2> "$work/$tool.stderr" \
    || { cat "$work/$tool.stderr" >&2; echo "$tool failed (command: $cmd)" >&2; exit 1; }
  t1=$(date +%s%3N)
  after=$(server_cpu)
  echo "$t0 $t1" >> "$work/$tool.spans"
  # The peers do not fsync; rcbs fsyncs every file before its rename. The time to make the
  # peers' output durable too is reported beside their wall time.
  s0=$(date +%s.%N); sync; s1=$(date +%s.%N)
  check_output "$tool" "$work" "$out" || exit 1
  echo "$(cat "$work/time.txt") $(echo "$after - $before" | bc -l) $(echo "$s1 - $s0" | bc -l)" >> "$work/$tool.runs"
  rm -rf "$out"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v c="$1" '{print $c}' "$2"; }

# run_rounds <work> <rounds> <tools...>: rotates the order each round.
run_rounds() {
  local work=$1 rounds=$2; shift 2
  local tools=("$@") n=${#tools[@]} round i
  for tool in "${tools[@]}"; do : > "$work/$tool.runs"; : > "$work/$tool.spans"; done
  for round in $(seq 1 "$rounds"); do
    local order=()
    for i in $(seq 0 $((n - 1))); do order+=("${tools[$(( (i + round) % n ))]}"); done
    echo "round $round/$rounds: ${order[*]}" >&2
    for tool in "${order[@]}"; do run_once "$tool" "$work"; done
  done
}

# report <work> <baseline tool> <tools...>: the table.
report() {
  local work=$1; shift
  local tools=("$@") t
  local mib; mib=$(echo "$TOTAL_BYTES / 1048576" | bc -l)
  printf '| tool | median wall s | MiB/s | vs rclone | vs awscli | wall+sync s | peak RSS MB (max) | client CPU s | s3rver CPU s |\n|---|---|---|---|---|---|---|---|---|\n'
  local rclone_wall awscli_wall
  # A peer left out of the tools list shows as "-" in its ratio column.
  rclone_wall=$( [ -f "$work/rclone.runs" ] && col 1 "$work/rclone.runs" | median || echo 0)
  awscli_wall=$( [ -f "$work/awscli.runs" ] && col 1 "$work/awscli.runs" | median || echo 0)
  for t in "${tools[@]}"; do
    local wall rss user sys srv syncs
    wall=$(col 1 "$work/$t.runs" | median)
    rss=$(col 2 "$work/$t.runs" | sort -n | tail -1)
    user=$(col 3 "$work/$t.runs" | median); sys=$(col 4 "$work/$t.runs" | median)
    srv=$(col 5 "$work/$t.runs" | median)
    syncs=$(awk '{print $1 + $6}' "$work/$t.runs" | median)
    local vs_rclone=- vs_awscli=-
    [ "$rclone_wall" != 0 ] && vs_rclone=$(printf '%.2fx' "$(echo "$rclone_wall / $wall" | bc -l)")
    [ "$awscli_wall" != 0 ] && vs_awscli=$(printf '%.2fx' "$(echo "$awscli_wall / $wall" | bc -l)")
    printf '| %s | %.2f | %.0f | %s | %s | %.2f | %d | %.2f | %.2f |\n' "$t" "$wall" "$(echo "$mib / $wall" | bc -l)" \
      "$vs_rclone" "$vs_awscli" "$syncs" "$((rss / 1024))" \
      "$(echo "$user + $sys" | bc -l)" "$srv"
  done
}
