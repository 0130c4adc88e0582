// node-postgres through pgmoat: runs the scenario named on the command line and
// prints what the app observed as JSON, for test_clients.py to assert on.
const { Client } = require("pg");

async function observe(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, code: e.code, message: e.message, detail: e.detail, hint: e.hint, position: e.position };
  }
}

async function main() {
  const [scenario, connectionString] = process.argv.slice(2);
  const client = new Client({ connectionString });
  await client.connect();
  const out = {};
  if (scenario === "crud") {
    out.insert = await observe(async () =>
      (await client.query("INSERT INTO node_items (name, qty) VALUES ($1, $2) RETURNING id", ["bolt", 5])).rows[0].id);
    out.select = await observe(async () =>
      (await client.query("SELECT name, qty FROM node_items WHERE id = $1", [out.insert.value])).rows[0]);
    out.update = await observe(async () =>
      (await client.query("UPDATE node_items SET qty = qty + $1 WHERE name = $2", [2, "bolt"])).rowCount);
    out.literal = await observe(() => client.query("SELECT * FROM node_items WHERE name = 'bolt'"));
    out.after = await observe(async () => (await client.query("SELECT count(*)::int AS n FROM node_items")).rows[0].n);
  } else if (scenario === "transaction") {
    await client.query("BEGIN");
    await client.query("INSERT INTO client_rows (source, n) VALUES ($1, $2)", ["node", 1]);
    out.rejected = await observe(() => client.query("DELETE FROM client_rows"));
    out.next = await observe(() => client.query("SELECT 1"));
    out.commit = await observe(async () => (await client.query("COMMIT")).command);
  }
  await client.end();
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
