// Runs one ORM app's flows (../flows.json) through pgmoat and prints one JSON line
// per flow: {flow, ok, value | error, sqlstate, start, end}; start/end are Unix
// seconds so test_orms.py can tell which audit records each flow produced.
// Usage: node run.js STACK POSTGRES_URL   (STACK: a file of this directory)
'use strict';
const spec = require('../flows.json');

const [stack, url] = process.argv.slice(2);
const app = require(`./${stack}.js`);
const { describe } = require('./common');

const now = () => (performance.timeOrigin + performance.now()) / 1000;

async function main() {
  const ctx = { url, stack };
  for (const flow of spec.flows) {
    const start = now();
    let line;
    try {
      line = { flow, ok: true, value: await app[flow](ctx, spec[flow]) };
    } catch (err) {
      line = { flow, ok: false, ...describe(err) };
    }
    line.start = start;
    line.end = now();
    process.stdout.write(JSON.stringify(line) + '\n');
  }
  if (app.close) await app.close(ctx).catch(() => {});
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
