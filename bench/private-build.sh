# Sourced by the bench scripts (not run): private_build <dir> compiles this tree into
# <dir>/dist with the package layout rcbs resolves (dist, pipelines, schemas,
# package.json, a link to node_modules), so a benchmark is not disturbed by an engineer
# rebuilding dist/ mid-run. Sets RCBS_SNAPSHOT_CLI to its cli.js.
private_build() {
  local snap=$1
  rm -rf "$snap"; mkdir -p "$snap"
  npx tsc -p tsconfig.build.json --outDir "$snap/dist" >/dev/null
  cp -r pipelines schemas package.json "$snap/"
  ln -s "$PWD/node_modules" "$snap/node_modules"
  RCBS_SNAPSHOT_CLI="$snap/dist/cli.js"
}
