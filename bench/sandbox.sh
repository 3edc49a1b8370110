# Sourced by the bench scripts that need a local sandbox.
# start_sandbox <dir> <rcbs sandbox command line…>: runs it with `--dir <dir>` in the background,
# waits for "rcbs sandbox ready" (exits the script with the sandbox's stderr if it dies first),
# then exports the credentials it printed. SANDBOX_PID is its pid, for the caller to stop.
start_sandbox() {
  local dir=$1
  shift
  mkdir -p "$dir"
  "$@" --dir "$dir" > "$dir/out.txt" 2> "$dir/err.txt" &
  SANDBOX_PID=$!
  until grep -q 'rcbs sandbox ready' "$dir/out.txt" 2>/dev/null; do
    kill -0 "$SANDBOX_PID" 2>/dev/null || { echo "sandbox failed:" >&2; cat "$dir/err.txt" >&2; exit 1; }
    sleep 0.5
  done
  eval "$(grep '^export ' "$dir/out.txt")"
}

# stop_sandbox: stops the sandbox start_sandbox started last, if it still runs (for a trap too).
stop_sandbox() {
  [ -n "${SANDBOX_PID:-}" ] || return 0
  kill "$SANDBOX_PID" 2>/dev/null || true
  wait "$SANDBOX_PID" 2>/dev/null || true
  SANDBOX_PID=
}
