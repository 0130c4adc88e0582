// node-postgres through a transaction pool (test_pooling.py): a named statement
// prepared once and executed while another client holds a server connection in a
// transaction, and every other time after the backend it last ran on was terminated
// (argv[3]: a direct connection to the server), so that it runs on several server
// connections; then a pg.Pool of clients running the same named statement at once.
// Prints what it saw as JSON.
const { Client, Pool } = require("pg");

async function main() {
  const connectionString = process.argv[2];
  const a = new Client({ connectionString });
  const holder = new Client({ connectionString });
  const killer = new Client({ connectionString: process.argv[3] });
  await a.connect();
  await holder.connect();
  await killer.connect();
  const named = (i) => ({ name: "double_it", text: "SELECT $1::int * 2 AS v, pg_backend_pid() AS pid", values: [i] });
  const out = { values: [], pids: [], held: [] };
  for (let i = 0; i < 6; i++) {
    if (i % 2 === 1) await killer.query("SELECT pg_terminate_backend($1, 5000)", [out.pids[out.pids.length - 1]]);
    let r = await a.query(named(i));
    out.values.push(r.rows[0].v);
    out.pids.push(r.rows[0].pid);
    await holder.query("BEGIN");
    out.held.push((await holder.query("SELECT pg_backend_pid() AS pid")).rows[0].pid);
    r = await a.query(named(i + 100));
    out.values.push(r.rows[0].v);
    out.pids.push(r.rows[0].pid);
    await holder.query("COMMIT");
  }
  await a.end();
  await holder.end();
  await killer.end();

  const pool = new Pool({ connectionString, max: 12 });
  const runs = [];
  for (let i = 0; i < 60; i++) runs.push(pool.query(named(i)).then((r) => r.rows[0].v === i * 2));
  out.pool_ok = (await Promise.all(runs)).every(Boolean);
  await pool.end();
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
