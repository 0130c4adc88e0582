"""The demo's app: a shop's data access as an AI coding agent might write it,
once right and twice wrong. scripts/demo.py's tour runs it through pgmoat:

    /usr/bin/python3 demo/shop.py DSN orders 42            # parameterized: passes
    /usr/bin/python3 demo/shop.py DSN orders-spliced 42    # the same query, the value spliced in
    /usr/bin/python3 demo/shop.py DSN customer EMAIL       # a spliced login lookup

It prints what the app got: the rows, or the error exactly as psycopg raised it.
"""
import sys

import psycopg


def orders_of(conn, customer_id):
    # Right: the value travels as a bind parameter, apart from the SQL text.
    return conn.execute("SELECT id, status, created_at FROM orders WHERE customer_id = %s ORDER BY id",
                        [customer_id]).fetchall()


def orders_of_spliced(conn, customer_id):
    # Wrong: the same query with the value pasted into the text.
    return conn.execute(f"SELECT id, status, created_at FROM orders WHERE customer_id = {customer_id} ORDER BY id"
                        ).fetchall()


def customer_by_email(conn, email):
    # Wrong, and what SQL injection rides on: a login form's input in the text.
    return conn.execute(f"SELECT id, name FROM customers WHERE email = '{email}'").fetchall()


QUERIES = {"orders": orders_of, "orders-spliced": orders_of_spliced, "customer": customer_by_email}


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in QUERIES:
        sys.exit(f"usage: {sys.argv[0]} DSN {{{'|'.join(QUERIES)}}} VALUE")
    dsn, query, value = sys.argv[1:]
    try:
        with psycopg.connect(dsn, application_name="shop", autocommit=True) as conn:
            rows = QUERIES[query](conn, value)
    except psycopg.Error as e:
        # What the app's error log would show.
        d = e.diag
        print(f"{type(e).__module__}.{type(e).__name__}: {d.message_primary}")
        for label, text in (("SQLSTATE", d.sqlstate), ("DETAIL", d.message_detail), ("HINT", d.message_hint)):
            if text:
                print(f"{label}: {text}")
        sys.exit(1)
    print(f"{len(rows)} row(s)")
    for row in rows:
        print("  " + " | ".join(str(v) for v in row))


if __name__ == "__main__":
    main()
