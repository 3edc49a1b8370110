// When a run reaches the milestones of its start, in ms after the process started, printed on
// stderr at exit: "running pipeline" logged, the first connection dialled (node:net's
// diagnostics channel), the GWS settings request sent and answered, the
// first recordings page sent and the first three answered (undici's diagnostics channel), the
// first S3 GET started (node:http's). Loaded with --require:
//   node -r ./bench/startup-marks.cjs dist/cli.js -config <config.properties>
// Used for BENCHMARKS.md's start-up marks (medians over alternating runs of the builds compared).
const dc = require('node:diagnostics_channel');
const marks = {};
const mark = (name) => {
  marks[name] ??= Math.round(performance.now());
};
dc.subscribe('undici:client:sendHeaders', ({ request }) => {
  if (request.path.includes('/settings')) mark('settings-sent');
  else if (request.path.includes('/recordings')) mark('first-page-sent');
});
// Answers' headers: the settings call's, then each of the first recordings pages' (the
// first to answer may be an empty slice's: with gwsConcurrency > 1 the slices go at once).
let pages = 0;
dc.subscribe('undici:request:headers', ({ request }) => {
  if (request.path.includes('/settings')) mark('settings-answered');
  else if (request.path.includes('/recordings') && pages < 3) mark(`page-${++pages}-answered`);
});
dc.subscribe('http.client.request.start', () => mark('first-s3-get'));
// The process's first outgoing TCP connection: the first GWS one (dialled at prepare, or by
// undici for the settings call).
dc.subscribe('net.client.socket', () => mark('first-connect'));
const write = process.stderr.write.bind(process.stderr);
process.stderr.write = (chunk, ...rest) => {
  if (String(chunk).includes('running pipeline')) mark('running');
  return write(chunk, ...rest);
};
process.on('exit', () => write(`startup-marks ${JSON.stringify(marks)}\n`));
