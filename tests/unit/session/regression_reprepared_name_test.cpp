// Regression for finding F3 (SECURITY.md): pgmoat keeps its own record of a named
// prepared statement when the server does not have it (the server refused the
// Parse, e.g. relation does not exist, or a DEALLOCATE dropped it). A later Parse
// of that name, which the server accepts, is then executed under the old record:
// audit records name the old text, relations and fingerprint, so an app can read
// a table while the audit log says it read another.
//
#include "pgmoat/policy/loader.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/protocol/messages.h"
#include "pgmoat/session/audit_sink.h"
#include "pgmoat/session/session.h"

#include "session_test_util.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;
using namespace pgmoat::session::testing;

namespace {

void run_secret_read(Session& s) {
    feed(s, parse("s1", "SELECT secret FROM secrets WHERE id = $1") + bind("s1", "1") + execute() + msg('S'), true);
    feed(s,
         msg(backend::ParseComplete) + msg(backend::BindComplete) + data_row("the-secret") + complete("SELECT 1") +
             rfq('I'),
         false);
}

std::string audited_text(const MemoryAudit& audit) {
    REQUIRE_FALSE(audit.records.empty());
    const auto& r = audit.records.back();
    REQUIRE(r.statement);
    return r.statement->text.value_or("");
}

}  // namespace

TEST_CASE("a name the server refused to prepare is audited as what the server later runs under it") {
    MemoryAudit audit;
    Session s = make_session(&audit);
    feed(s, parse("s1", "SELECT id FROM no_such_table WHERE id = $1") + msg('S'), true);
    feed(s, server_error("42P01", "relation \"no_such_table\" does not exist") + rfq('I'), false);
    run_secret_read(s);
    CHECK(audited_text(audit).find("secrets") != std::string::npos);
}

TEST_CASE("a name dropped by DEALLOCATE is audited as what the server later runs under it") {
    MemoryAudit audit;
    Session s = make_session(&audit);
    feed(s, parse("s1", "SELECT name FROM victims WHERE id = $1") + msg('S'), true);
    feed(s, msg(backend::ParseComplete) + rfq('I'), false);
    std::string dealloc;
    write_query(dealloc, "DEALLOCATE s1");
    feed(s, dealloc, true);
    feed(s, complete("DEALLOCATE") + rfq('I'), false);
    run_secret_read(s);
    CHECK(audited_text(audit).find("secrets") != std::string::npos);
}
