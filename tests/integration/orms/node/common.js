// What every app of the matrix shares: reading the database error out of an
// ORM's wrapper, and the transaction flow's expected failure.
'use strict';

// The SQLSTATE and message of the database error behind whatever an ORM wrapped
// it in (Prisma's driverAdapterError, TypeORM's driverError, Sequelize's parent,
// Drizzle's cause, ...): the innermost one wins, since wrappers carry codes of
// their own (Prisma's P2003 looks like a SQLSTATE).
const WRAPPED = ['cause', 'driverError', 'parent', 'original', 'meta', 'driverAdapterError'];
const SQLSTATE = /^[0-9A-Z]{5}$/;

function describe(err) {
  const seen = new Set();
  const walk = (e, depth) => {
    if (!e || typeof e !== 'object' || seen.has(e) || depth > 6) return null;
    seen.add(e);
    for (const key of WRAPPED) {
      const inner = walk(e[key], depth + 1);
      if (inner) return inner;
    }
    const code = [e.originalCode, e.code].find((c) => typeof c === 'string' && SQLSTATE.test(c));
    if (!code) return null;
    const out = { sqlstate: code, error: String(e.originalMessage || e.message) };
    if (e.detail) out.detail = String(e.detail);
    return out;
  };
  return walk(err, 0) || { sqlstate: null, error: String((err && err.stack) || err) };
}

// Runs work that must fail with `sqlstate` (and so roll back); returns the
// SQLSTATE, or rethrows whatever else went wrong (a pgmoat rejection included).
async function failsWith(sqlstate, work) {
  try {
    await work();
  } catch (err) {
    if (describe(err).sqlstate === sqlstate) return sqlstate;
    throw err;
  }
  throw new Error(`expected SQLSTATE ${sqlstate}, but the work succeeded`);
}

module.exports = { describe, failsWith };
