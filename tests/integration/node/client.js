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

// Large messages: what the app observes, and whether the session is usable after.
async function large(client, kind, size) {
  const notices = [];
  client.on("notice", (n) => notices.push(n.message.length));
  const result = await observe(async () => {
    if (kind === "bind_text") return (await client.query("SELECT length($1::text) AS n", ["t".repeat(size)])).rows[0].n;
    if (kind === "bind_binary")
      return (await client.query("SELECT length($1::bytea) AS n", [Buffer.alloc(size, 7)])).rows[0].n;
    if (kind === "parse")
      return (await client.query(`SELECT $1::int + 1 AS n /*${"x".repeat(size - 40)}*/`, [41])).rows[0].n;
    if (kind === "simple_query") return (await client.query(`SELECT /*${"x".repeat(size - 30)}*/ 42 AS n`)).rows[0].n;
    if (kind === "big_value")
      return (await client.query("SELECT repeat($1::text, $2::int) AS v", ["v", size])).rows[0].v.length;
    if (kind === "notice") {
      await client.query("SELECT big_notice($1)", [size]);
      return notices;
    }
    if (kind === "error") return (await client.query("SELECT big_error($1)", [size])).rows;
    throw new Error("unknown kind " + kind);
  });
  if (!result.ok) result.message = result.message.length;
  const usable = (await client.query("SELECT 7 AS n")).rows[0].n;
  return { result, usable };
}

async function main() {
  const [scenario, connectionString, ...args] = process.argv.slice(2);
  const client = new Client({ connectionString });
  await client.connect();
  let out = {};
  if (scenario === "large") {
    out = await large(client, args[0], Number(args[1]));
  } else if (scenario === "crud") {
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
  } else if (scenario === "affected_rows") {
    // max_rows_affected (args: the table, the cap): both protocols, in and outside a transaction.
    const [table, cap] = [args[0], Number(args[1])];
    const count = async (q) => (await q).rowCount;
    out.extended_over = await observe(() => count(client.query(`UPDATE ${table} SET v = v + 1 WHERE id <= $1`, [cap + 1])));
    out.extended_under = await observe(() => count(client.query(`UPDATE ${table} SET v = v + 1 WHERE id <= $1`, [cap])));
    out.simple_over = await observe(() => count(client.query(`UPDATE ${table} SET v = v + 1 WHERE id <= ${cap + 1}`)));
    out.simple_under = await observe(() => count(client.query(`DELETE FROM ${table} WHERE id > ${cap * 2}`)));
    await client.query("BEGIN");
    out.tx_over = await observe(() => count(client.query(`UPDATE ${table} SET v = v + 100 WHERE id <= $1`, [cap + 1])));
    out.tx_next = await observe(() => client.query("SELECT 1"));
    out.tx_end = await observe(async () => (await client.query("COMMIT")).command);
    out.after = await observe(async () => (await client.query("SELECT 1 AS n")).rows[0].n);
  }
  await client.end();
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
