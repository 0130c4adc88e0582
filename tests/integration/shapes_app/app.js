// The shape lock test's small app, node-postgres half (server-side binding): runs
// one flow with its value and prints {"ok", "rows"} or {"ok": false, "code", "message", "hint"}.
// One flow splices its value into the SQL text, as careless code does.
const { Client } = require("pg");

const flows = {
  customer_by_email: (v) => ["SELECT id, name FROM customers WHERE email = $1", [v]],
  latest_orders: (v) => ["SELECT id, total FROM orders ORDER BY id DESC LIMIT " + v, []],  // spliced
};

async function main() {
  const [flow, value, url] = process.argv.slice(2);
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const [text, params] = flows[flow](value);
    const r = await client.query(text, params);
    console.log(JSON.stringify({ ok: true, rows: r.rows.length }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, code: e.code, message: e.message, hint: e.hint }));
  } finally {
    await client.end();
  }
}
main();
