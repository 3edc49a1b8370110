# Sourced by the bench scripts that run builds alternating against one sandbox per size
# (csv-memory-ab.sh, metadata-export-ab.sh): their arguments and the name of a build.
# ab_args <script> <default sizes> <its arguments…>: sets work (a folder, created), builds
# (dist/ folders, "." for this tree), sizes and rounds (ROUNDS, default 3).
ab_args() {
  local script=$1 defaults=$2
  shift 2
  work=${1:?usage: $script <workdir> "<builds>" [sizes…]}
  read -r -a builds <<< "${2:-.}"
  shift 2 || shift $#
  if [ $# -gt 0 ]; then sizes=("$@"); else read -r -a sizes <<< "$defaults"; fi
  rounds="${ROUNDS:-3}"
  mkdir -p "$work"
}
# build_name <build dir>: "this" for this tree, else the folder's name.
build_name() { if [ "$1" = . ]; then echo this; else basename "$1"; fi; }
