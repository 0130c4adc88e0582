"""Exemptions that carried values, and set_config for any parameter (issue 12
classes 2 and 3, SECURITY.md F15 and F16), through pgmoat against a real
PostgreSQL with the shipped baseline enforcing and users.password_hash closed.

An exemption (a cast to interval or reg*, a select list, ORDER BY, a comment)
lets a literal through because it cannot be a value that reached the query.
Each test below smuggles a value through one such place to where it acts as a
value (a condition, an UPDATE, an ordering oracle, a cast error), over the
simple and the extended protocol: pgmoat must refuse it, the server's log must
not hold it, and the data must be as it was."""
import pytest

from holes import (allowed, attack, connect, enforcing, marked, marker, never_ran, rejected_by_pgmoat,
                   run)


def roles_intact(postgres):
    assert postgres.sql("SELECT string_agg(role, ',' ORDER BY id) FROM users", "app") == "member,member,member"


# ---- casts: a typed constant only while the value stays typed -------------------

@pytest.mark.parametrize("sql", [
    # an outer cast turns the interval/regclass back into a plain value
    "SELECT email FROM users WHERE id = '2'::regclass",
    "SELECT email FROM users WHERE id = 2::regclass",
    "SELECT email FROM users WHERE id = 'pg_class'::regclass::oid::int8 - 1257",
    "SELECT email FROM users WHERE role = ('1 day'::interval)::text",
    "SELECT email FROM users WHERE id = extract(day FROM '2 days'::interval)",
    "SELECT email FROM users WHERE id = '2 days'::interval / '1 day'::interval",
    "SELECT email FROM users WHERE id = true::int",
    "SELECT email FROM users WHERE id = (true::int + true::int)",
    "UPDATE users SET role = 'pg_class'::regclass WHERE id = 1",
    "UPDATE users SET role = true::text WHERE id = 1",
    "INSERT INTO users (id, email) VALUES (9, 'users'::regclass)",
])
def test_a_cast_that_turns_back_into_a_value_is_a_value(enforcing, postgres, sql):
    attack(enforcing, postgres, sql, "parameters")
    roles_intact(postgres)
    assert postgres.sql("SELECT count(*) FROM users", "app") == "3"


def test_a_cast_that_stays_typed_is_still_exempt(enforcing, postgres):
    assert allowed(enforcing, postgres, "SELECT id FROM users WHERE created_at > now() - '7 days'::interval "
                                        "ORDER BY id") == [["1"], ["2"], ["3"]]
    assert allowed(enforcing, postgres, "SELECT 'users'::regclass::text") == [["users"]]
    assert allowed(enforcing, postgres, "SELECT '2024-01-02'::date") == [["2024-01-02"]]


# ---- sub-selects: their select list goes where the sub-select's value goes ------

@pytest.mark.parametrize("sql", [
    "SELECT email FROM users WHERE role = (SELECT 'member') AND id = (SELECT 2)",
    "SELECT email FROM users WHERE id IN (SELECT 2)",
    "SELECT email FROM users WHERE id = ANY (SELECT 2)",
    "UPDATE users SET role = (SELECT 'admin') WHERE id = (SELECT 1)",
    "UPDATE users SET (role, email) = (SELECT 'admin', 'x') WHERE id = 1",
    "INSERT INTO users (id, email, role) SELECT 9, 'mallory@example.com', 'admin'",
    "SELECT u.email FROM users u JOIN (SELECT 2 AS id) v ON v.id = u.id",
    "SELECT email FROM users, (SELECT 'admin'::text) s WHERE role <> s.text",
    "WITH v AS (SELECT 'admin' AS r) UPDATE users SET role = v.r FROM v WHERE users.id IN (SELECT 1)",
])
def test_a_sub_select_carries_its_value_to_where_it_goes(enforcing, postgres, sql):
    attack(enforcing, postgres, sql, "parameters")
    roles_intact(postgres)
    assert postgres.sql("SELECT count(*) FROM users", "app") == "3"


def test_values_that_go_to_the_client_are_still_exempt(enforcing, postgres):
    rows = allowed(enforcing, postgres, "SELECT 'label' AS kind, (SELECT 1) AS one, id FROM users "
                                        "WHERE EXISTS (SELECT 1 FROM orders WHERE orders.user_id = users.id) "
                                        "ORDER BY 3")
    assert rows == [["label", "1", "1"], ["label", "1", "2"]]
    rows = allowed(enforcing, postgres, "WITH RECURSIVE tree AS (SELECT id, 1 AS depth FROM users WHERE id = $1 "
                                        "UNION ALL SELECT u.id, t.depth + 1 FROM users u JOIN tree t ON u.id = t.id + $2) "
                                        "SELECT * FROM tree ORDER BY depth", ["1", "1"])
    assert rows == [["1", "1"], ["2", "2"], ["3", "3"]]


# ---- ORDER BY and GROUP BY: only the key itself ------------------------------------

@pytest.mark.parametrize("sql,rule", [
    # the blind oracle: the order of two rows tells a secret's characters
    ("SELECT id FROM users ORDER BY CASE WHEN (SELECT password_hash FROM users WHERE id = 1) LIKE 'hash-a%' "
     "THEN id ELSE -id END", "column"),
    ("SELECT id FROM users ORDER BY CASE WHEN (SELECT email FROM users WHERE id = 1) LIKE 'ann%' "
     "THEN id ELSE -id END", "parameters"),
    ("SELECT id FROM users ORDER BY CASE substr(email, 1, 1) WHEN 'a' THEN 0 ELSE 1 END", "parameters"),
    ("SELECT id FROM users ORDER BY (email > 'b') DESC", "parameters"),
    ("SELECT count(*) FROM users GROUP BY (email > 'b')", "parameters"),
])
def test_comparisons_in_order_by_and_group_by_are_comparisons(enforcing, postgres, sql, rule):
    attack(enforcing, postgres, sql, rule)


def test_the_sort_key_itself_is_still_exempt(enforcing, postgres):
    assert allowed(enforcing, postgres, "SELECT id, email FROM users ORDER BY 1 DESC") == [
        ["3", "cy@example.com"], ["2", "bob@example.com"], ["1", "ann@example.com"]]


# ---- the red team's string templates: a quote closed inside an exempt literal ----

# The app splices a label into its select list: SELECT '<label>' AS label, name FROM products.
TEMPLATE = "SELECT '{}' AS label, name FROM products ORDER BY 2"


@pytest.mark.parametrize("injected,rule", [
    # read every password hash: the UNION the closed quote opens
    ("x', password_hash FROM users UNION SELECT '', '", "column"),
    ("x', email FROM users --", "comment_truncation"),
    ("x' AS label, name FROM products UNION SELECT email, password_hash FROM users --", "column"),
    # write role = 'admin' on every row: a second statement, or a WITH
    ("x'; UPDATE users SET role = 'admin' --", "stacked_statements"),
    ("x' AS label, name FROM products, (WITH u AS (UPDATE users SET role = 'admin' RETURNING 1) SELECT * FROM u) w --",
     "require_where"),
    # extract through a cast error: the value is in the error message
    ("x' || (SELECT password_hash FROM users WHERE id = 1)::int || '", "column"),
    ("x' || (SELECT email FROM users WHERE id = 1)::int || '", "parameters"),
])
def test_injected_text_in_a_string_template_is_refused(enforcing, postgres, injected, rule):
    attack(enforcing, postgres, TEMPLATE.format(injected), rule, protocols=("simple",))
    roles_intact(postgres)


@pytest.mark.parametrize("sql", [
    "SELECT name FROM products UNION SELECT email FROM users --' ORDER BY 1",
    "SELECT name FROM products WHERE id = $1 -- AND tenant_id = 5",
    "SELECT name FROM products ORDER BY name -- LIMIT 10",
])
def test_a_trailing_comment_holding_sql_is_truncation_after_any_token(enforcing, postgres, sql):
    attack(enforcing, postgres, sql, "comment_truncation", params=["1"] if "$1" in sql else None)


def test_orm_and_human_comments_pass(enforcing, postgres):
    assert allowed(enforcing, postgres, "SELECT name FROM products WHERE id = $1 "
                                        "/*application:Shop,controller:products,action:show*/", ["1"]) == [["pen"]]
    assert allowed(enforcing, postgres, "SELECT name FROM products WHERE id = $1 -- the product", ["2"]) == [["ink"]]


# ---- set_config: only a constant name of an allowed parameter -------------------

def show(c, parameter):
    err, rows, _ = run(c, f"SHOW {parameter}")
    assert err is None, err
    return rows[0][0]


CHANGED = {"search_path": "pg_temp,public", "standard_conforming_strings": "off", "client_encoding": "SJIS",
           "synchronous_commit": "off", "default_transaction_read_only": "on"}


@pytest.mark.parametrize("parameter", sorted(CHANGED))
@pytest.mark.parametrize("form", ["parameter", "column", "expression", "sub-select", "second call"])
def test_set_config_with_a_name_that_is_not_a_constant_never_runs(enforcing, postgres, parameter, form):
    value = CHANGED[parameter]
    sql, params = {
        "parameter": ("SELECT set_config($1, $2, false)", [parameter, value]),
        "column": ("SELECT set_config(name, $2, false) FROM pg_settings WHERE name = $1", [parameter, value]),
        "expression": ("SELECT set_config(lower($1), $2, false)", [parameter.upper(), value]),
        "sub-select": ("SELECT set_config((SELECT name FROM pg_settings WHERE name = $1), $2, false)",
                       [parameter, value]),
        "second call": ("SELECT set_config('TimeZone', $3, false), set_config($1, $2, false)",
                        [parameter, value, "UTC"]),
    }[form]
    c = connect(enforcing)
    before = show(c, parameter)
    mark = marker()
    err, _, _ = run(c, marked(sql, mark), params, "extended")
    rejected_by_pgmoat(err, "function", sql)
    assert show(c, parameter) == before
    never_ran(postgres, mark)


def test_set_config_of_an_allowed_parameter_named_as_a_constant_runs(enforcing, postgres):
    c = connect(enforcing)
    err, _, _ = run(c, "SELECT set_config('TimeZone'::text, $1, false)", ["Asia/Tokyo"], "extended")
    assert err is None, err
    assert show(c, "TimeZone") == "Asia/Tokyo"
