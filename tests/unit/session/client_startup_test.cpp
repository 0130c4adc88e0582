#include "pgmoat/session/client_startup.h"
#include "pgmoat/auth/scram.h"
#include "pgmoat/config/config.h"
#include "pgmoat/policy/loader.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/protocol/messages.h"

#include <doctest/doctest.h>

#include <strings.h>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;

namespace {
StartupContext context(bool tls = false, bool over_limit = false) {
    auto cfg = std::make_shared<config::Config>(config::parse_config(R"(
[server]
credentials = "c.toml"
[targets.dev]
host = "127.0.0.1"
user = "u"
[targets.prod]
host = "127.0.0.1"
user = "u"
[apps.orders]
targets = ["dev"]
)",
                                                                     "t.toml"));
    auto creds = std::make_shared<auth::Credentials>();
    creds->verifiers.emplace("orders", auth::ScramVerifier::from_password("orders-password"));
    StartupContext c;
    c.config = cfg;
    c.credentials = creds;
    c.tls_available = tls;
    c.over_connection_limit = over_limit;
    return c;
}

Frame startup_frame(std::string& storage, const std::vector<std::pair<std::string, std::string>>& params) {
    storage.clear();
    write_startup_message(storage, params);
    return decode_startup_packet(storage).frame;
}

Frame typed_frame(const std::string& storage) {
    return decode_message(storage, 1 << 20).frame;
}

std::vector<ErrorField> error_in(const std::string& out) {
    auto r = decode_message(out, 1 << 20);
    REQUIRE(r.status == DecodeStatus::frame);
    REQUIRE(r.frame.type == 'E');
    return *read_error_fields(r.frame.body);
}

// Runs a whole SCRAM login with pgmoat's own client side; returns the final step.
StartupStep login(ClientStartup& s, const std::string& target, const std::string& password, std::string& out,
                  const std::vector<std::pair<std::string, std::string>>& settings = {}) {
    std::string buf;
    std::vector<std::pair<std::string, std::string>> params = {{"user", "orders"}, {"database", target}};
    params.insert(params.end(), settings.begin(), settings.end());
    auto step = s.on_frame(startup_frame(buf, params), out);
    REQUIRE(step == StartupStep::read_more);
    out.clear();
    auth::ScramClient client(password, std::nullopt);
    std::string first;
    write_sasl_initial_response(first, client.mechanism(), client.client_first());
    step = s.on_frame(typed_frame(first), out);
    if (step != StartupStep::read_more) return step;
    auto r = decode_message(out, 1 << 20);
    auto auth = read_authentication(r.frame.body);
    REQUIRE(auth->code == auth_request::SASLContinue);
    auto final_msg = client.server_first(auth->payload);
    REQUIRE(final_msg);
    out.clear();
    std::string fin;
    write_sasl_response(fin, *final_msg);
    return s.on_frame(typed_frame(fin), out);
}
}  // namespace

TEST_CASE("SSLRequest is answered N without TLS and S with it") {
    std::string out, buf;
    write_ssl_request(buf);
    ClientStartup plain(context(false));
    CHECK(plain.on_frame(decode_startup_packet(buf).frame, out) == StartupStep::read_more);
    CHECK(out == "N");
    out.clear();
    ClientStartup tls(context(true));
    CHECK(tls.on_frame(decode_startup_packet(buf).frame, out) == StartupStep::start_tls);
    CHECK(out == "S");
}

TEST_CASE("a correct SCRAM login to a granted target is authenticated") {
    ClientStartup s(context());
    std::string out;
    CHECK(login(s, "dev", "orders-password", out) == StartupStep::authenticated);
    CHECK(s.identity().app == "orders");
    CHECK(s.target().name == "dev");
}

TEST_CASE("a wrong password is FATAL 28P01") {
    ClientStartup s(context());
    std::string out;
    CHECK(login(s, "dev", "not-the-password", out) == StartupStep::close);
    auto e = error_in(out);
    CHECK(find_field(e, 'C') == "28P01");
    CHECK(find_field(e, 'M') == "password authentication failed for user \"orders\"");
}

TEST_CASE("grants are checked only after the password: a forbidden target is 28000") {
    ClientStartup s(context());
    std::string out;
    CHECK(login(s, "prod", "orders-password", out) == StartupStep::close);
    // The SASLFinal came first, then the refusal.
    auto r = decode_message(out, 1 << 20);
    std::string rest = out.substr(r.frame.size);
    CHECK(find_field(error_in(rest), 'C') == "28000");
}

TEST_CASE("over the connection limit a StartupMessage gets 53300") {
    ClientStartup s(context(false, true));
    std::string out, buf;
    CHECK(s.on_frame(startup_frame(buf, {{"user", "orders"}}), out) == StartupStep::close);
    CHECK(find_field(error_in(out), 'C') == "53300");
}

TEST_CASE("a forbidden startup parameter is refused before any authentication") {
    ClientStartup s(context());
    std::string out, buf;
    CHECK(s.on_frame(startup_frame(buf, {{"user", "orders"}, {"search_path", "evil"}}), out) == StartupStep::close);
    auto e = error_in(out);
    CHECK(find_field(e, 'M') == "pgmoat: startup parameter \"search_path\" is not allowed");
}

TEST_CASE("allowed startup parameters are kept for the upstream, case-insensitively") {
    ClientStartup s(context());
    std::string out, buf;
    s.on_frame(
        startup_frame(buf,
                      {{"user", "orders"}, {"database", "dev"}, {"datestyle", "ISO"}, {"application_name", "worker"}}),
        out);
    REQUIRE(s.identity().forward_parameters.size() == 2);
    CHECK(s.identity().application_name == "worker");
}

namespace {
StartupContext context_with_shipped_policies() {
    auto c = context();
    c.policies =
        std::make_shared<policy::PolicySet>(policy::load_policy_dir(std::string(PGMOAT_TEST_DATA) + "/../../policies"));
    return c;
}

std::string forwarded(const ClientStartup& s, const std::string& name) {
    std::string value = "(absent)";
    int seen = 0;
    for (const auto& [n, v] : s.identity().forward_parameters) {
        if (strcasecmp(n.c_str(), name.c_str()) == 0) {
            value = v;
            ++seen;
        }
    }
    return seen > 1 ? "(twice)" : value;
}
}  // namespace

TEST_CASE("settings in the options parameter are forwarded as parameters; others win over them") {
    ClientStartup s(context());
    std::string out, buf;
    s.on_frame(startup_frame(buf, {{"user", "orders"},
                                   {"options", "-c intervalstyle=postgres_verbose --application-name=via\\ options"},
                                   {"IntervalStyle", "iso_8601"}}),
               out);
    CHECK(forwarded(s, "intervalstyle") == "iso_8601");  // the parameter is applied after options
    CHECK(forwarded(s, "application_name") == "via options");
    CHECK(s.identity().application_name == "via options");
    CHECK(forwarded(s, "options") == "(absent)");
}

TEST_CASE("a setting in options that pgmoat does not forward refuses the login naming it") {
    // Named from .first and .second: clang 14 cannot capture a structured binding in CAPTURE's lambda.
    for (const auto& c : std::vector<std::pair<std::string, std::string>>{
             {"-csearch_path=evil", "pgmoat: setting \"search_path\" in startup parameter \"options\" is not allowed"},
             {"-c geqo=off --role=admin", "pgmoat: setting \"role\" in startup parameter \"options\" is not allowed"},
             {"-B 100", "pgmoat: the server switch \"-B\" in startup parameter \"options\" is not supported"},
             {"oops", "pgmoat: startup parameter \"options\": invalid command-line argument for server process: oops"},
         }) {
        const std::string& options = c.first;
        const std::string& message = c.second;
        CAPTURE(options);
        ClientStartup s(context());
        std::string out, buf;
        CHECK(s.on_frame(startup_frame(buf, {{"user", "orders"}, {"options", options}}), out) == StartupStep::close);
        CHECK(find_field(error_in(out), 'M') == message);
    }
}

TEST_CASE("a parameter sent twice is checked with the value the server applies: the last") {
    // PostgreSQL applies startup parameters in order; a first value within the
    // policy's limit must not hide a second one above it.
    for (const auto& settings : std::vector<std::vector<std::pair<std::string, std::string>>>{
             {{"statement_timeout", "5s"}, {"statement_timeout", "0"}},
             {{"statement_timeout", "5s"}, {"STATEMENT_TIMEOUT", "0"}},
             {{"options", "-c statement_timeout=0"}},
             {{"statement_timeout", "5s"}, {"options", "-c statement_timeout=1s -c lock_timeout=0"}},
         }) {
        std::string out;
        ClientStartup s(context_with_shipped_policies());
        CHECK(login(s, "dev", "orders-password", out, settings) == StartupStep::close);
        CHECK(s.failure_sqlstate() == "42501");
    }
    std::string out;
    ClientStartup s(context_with_shipped_policies());
    REQUIRE(login(s, "dev", "orders-password", out, {{"statement_timeout", "0"}, {"statement_timeout", "5s"}}) ==
            StartupStep::authenticated);
    CHECK(forwarded(s, "statement_timeout") == "5s");
}

TEST_CASE("a policy's setting limits are pinned on the upstream login unless the client asks for less") {
    std::string out;
    ClientStartup s(context_with_shipped_policies());
    REQUIRE(login(s, "dev", "orders-password", out, {{"statement_timeout", "5s"}, {"application_name", "api"}}) ==
            StartupStep::authenticated);
    CHECK(forwarded(s, "statement_timeout") == "5s");  // lower than the baseline's 2min: the client's own
    CHECK(forwarded(s, "lock_timeout") == "30s");
    CHECK(forwarded(s, "idle_in_transaction_session_timeout") == "5min");
    CHECK(forwarded(s, "work_mem") == "64MB");
    CHECK(forwarded(s, "temp_file_limit") == "(absent)");  // the baseline does not pin it
    CHECK(forwarded(s, "application_name") == "api");
}

TEST_CASE("a startup setting above the policy's limit, or unreadable, refuses the login naming it") {
    for (const auto& c : std::vector<std::pair<std::string, std::string>>{
             {"statement_timeout", "0"},                            // no limit at all
             {"Statement_Timeout", "10min"},                        // names fold case, as GUC names do
             {"lock_timeout", "0x7fffffff"},                        // read as PostgreSQL reads it
             {"idle_in_transaction_session_timeout", "5 minutes"},  // PostgreSQL would refuse it; so does pgmoat
         }) {
        const std::string& name = c.first;
        const std::string& value = c.second;
        CAPTURE(name);
        std::string out;
        ClientStartup s(context_with_shipped_policies());
        REQUIRE(login(s, "dev", "orders-password", out, {{name, value}}) == StartupStep::close);
        // The SASL final message precedes the error.
        auto final_frame = decode_message(out, 1 << 20);
        REQUIRE(final_frame.status == DecodeStatus::frame);
        auto fields = error_in(out.substr(final_frame.frame.size));
        CHECK(std::string(find_field(fields, 'C')) == "42501");
        CHECK(std::string(find_field(fields, 'M')).find("above the limit of policy \"baseline\"") != std::string::npos);
        CHECK(std::string(find_field(fields, 'H')).find("baseline.toml:") != std::string::npos);
        CHECK(s.failure_sqlstate() == "42501");
    }
}
