# The calls-csv columns from `rcbs … --ndjson` lines, as a jq user writes it (bench/csv-export.sh).
.recording as $r | $r.mediaFiles[] | [$r.id, $r.startTime, $r.stopTime, .parameters.ani, .parameters.dnis, .parameters.agentId, .parameters.username, .tenant, .mediaId, .type, .duration, .size, ""] | @csv
