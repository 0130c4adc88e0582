// The statement that carries a client's settings (startup parameters, plain SETs)
// onto the server connection it lands on in transaction mode: only what differs,
// names compared as PostgreSQL compares GUC names (case-insensitively), the last
// of a repeated name winning. Values are SQL, as written after `SET name TO`.
#include "pgmoat/common/sql_quote.h"
#include "pgmoat/session/server_connection.h"

#include <doctest/doctest.h>

using pgmoat::quote_literal;
using pgmoat::session::apply_parameters;
using pgmoat::session::Parameters;

TEST_CASE("the same settings on the server connection: nothing to send") {
    Parameters p{{"application_name", "'pgbench'"}, {"statement_timeout", "'5s'"}};
    CHECK(apply_parameters(p, p) == "");
    CHECK(apply_parameters({}, {}) == "");
}

TEST_CASE("a name in another case is the same setting") {
    CHECK(apply_parameters({{"Application_Name", "'pgbench'"}}, {{"application_name", "'pgbench'"}}) == "");
    CHECK(apply_parameters({{"STATEMENT_TIMEOUT", "'5s'"}}, {{"statement_timeout", "'6s'"}}) ==
          "SET \"statement_timeout\" TO '6s';");
}

TEST_CASE("a changed value is set, a setting the client did not send is reset, a new one is set") {
    Parameters applied{{"application_name", "'a'"}, {"search_path", "'app'"}};
    Parameters wanted{{"application_name", "'b'"}, {"idle_in_transaction_session_timeout", "'10s'"}};
    CHECK(apply_parameters(applied, wanted) ==
          "RESET \"search_path\";SET \"application_name\" TO 'b';"
          "SET \"idle_in_transaction_session_timeout\" TO '10s';");
}

TEST_CASE("a name sent twice: the last value counts, once") {
    Parameters wanted{{"application_name", "'first'"}, {"APPLICATION_NAME", "'last'"}};
    CHECK(apply_parameters({}, wanted) == "SET \"APPLICATION_NAME\" TO 'last';");
    CHECK(apply_parameters({{"application_name", "'last'"}}, wanted) == "");
    Parameters applied{{"search_path", "'a'"}, {"Search_Path", "'b'"}};
    CHECK(apply_parameters(applied, {}) == "RESET \"Search_Path\";");
}

TEST_CASE("values a SET gave are written as it gave them: numbers bare, lists as lists") {
    Parameters wanted{{"extra_float_digits", "3"}, {"search_path", "'app', 'public'"}};
    CHECK(apply_parameters({}, wanted) == "SET \"extra_float_digits\" TO 3;SET \"search_path\" TO 'app', 'public';");
}

TEST_CASE("a startup value with quotes becomes a quoted literal") {
    CHECK(quote_literal("it's") == "'it''s'");
    CHECK(quote_literal("") == "''");
    CHECK(apply_parameters({}, {{"application_name", quote_literal("it's")}}) ==
          "SET \"application_name\" TO 'it''s';");
}
