from conftest import APP, APP_PASSWORD, psql


def test_psql_query_through_pgmoat(pgmoat):
    r = psql(pgmoat, "SELECT 40 + 2 AS answer", args=["-A", "-t"])
    assert r.stdout.strip() == "42"
