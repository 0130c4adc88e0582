"""Runs one Python ORM app's flows (../flows.json) through pgmoat and prints one
JSON line per flow: {flow, ok, value | error, sqlstate, start, end}.
Usage: /usr/bin/python3 run.py STACK POSTGRES_URL
STACK: sqlalchemy-psycopg2, sqlalchemy-asyncpg or django-psycopg2."""
import importlib
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SQLSTATE = re.compile(r"^[0-9A-Z]{5}$")


def describe(err):
    """The SQLSTATE and message of the database error behind the ORM's wrappers
    (SQLAlchemy's .orig, Django's __cause__, asyncpg's own exception): the
    innermost one, whose message is the server's."""
    found, seen = None, set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        code = getattr(err, "pgcode", None) or getattr(err, "sqlstate", None)
        if isinstance(code, str) and SQLSTATE.match(code):
            diag = getattr(err, "diag", None)
            message = getattr(diag, "message_primary", None) or getattr(err, "message", None) or str(err)
            detail = getattr(diag, "message_detail", None) or getattr(err, "detail", None)
            found = {"sqlstate": code, "error": message.strip()}
            if detail:
                found["detail"] = detail
        err = getattr(err, "orig", None) or err.__cause__ or err.__context__
    return found


def fails_with(sqlstate, work):
    """Runs work that must fail with sqlstate (and so roll back); returns the
    SQLSTATE, or re-raises whatever else went wrong (a pgmoat rejection included)."""
    try:
        work()
    except Exception as e:
        d = describe(e)
        if d and d["sqlstate"] == sqlstate:
            return sqlstate
        raise
    raise AssertionError(f"expected SQLSTATE {sqlstate}, but the work succeeded")


def main():
    stack, url = sys.argv[1:3]
    with open(os.path.join(HERE, "..", "flows.json")) as f:
        spec = json.load(f)
    module, _, driver = stack.partition("-")
    app = importlib.import_module(f"{module}_app").App(url, driver, stack)
    for flow in spec["flows"]:
        start = time.time()
        try:
            line = {"flow": flow, "ok": True, "value": getattr(app, flow)(**spec.get(flow, {}))}
        except Exception as e:  # one flow's failure must not stop the others
            line = {"flow": flow, "ok": False, **(describe(e) or {"sqlstate": None, "error": repr(e)})}
        line["start"], line["end"] = start, time.time()
        print(json.dumps(line), flush=True)
    app.close()


if __name__ == "__main__":
    main()
