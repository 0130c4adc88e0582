// The statement path: every Query and Parse is analyzed, judged, counted and
// recorded here, then forwarded or rejected. on_statement() is the whole story.
#include "pgmoat/audit/json.h"
#include "pgmoat/common/log.h"
#include "pgmoat/common/sqlstate.h"
#include "pgmoat/protocol/message_reader.h"
#include "pgmoat/protocol/messages.h"
#include "pgmoat/session/session.h"

#include <fmt/format.h>

namespace pgmoat::session {

using namespace pgmoat::protocol;

bool Session::on_statement(const Frame* frame, std::string_view sql, std::string_view statement_name, Origin origin,
                           Outbox& out, std::shared_ptr<const sql::Analysis> given) {
    auto started = Clock::now();
    refresh_grants();
    auto analysis = given ? std::move(given) : analyze(sql);
    auto analyzed = Clock::now();
    auto decision =
        policy::decide(*policy_, *analysis, sql,
                       origin == Origin::parse ? policy::Protocol::extended : policy::Protocol::simple_query);
    // A simple Query runs now: it is also subject to the rate limit and the audit
    // log's health. A Parse only prepares; its Executes are checked when they come.
    if (decision.allow && origin == Origin::simple_query) {
        if (auto refusal = runtime_refusal()) decision = std::move(*refusal);
    }
    if (decision.allow) {
        if (auto refusal = affected_rows_refusal(*analysis)) decision = std::move(*refusal);
    }
    if (decision.allow) {
        if (auto refusal = production_refusal(*analysis, sql)) decision = std::move(*refusal);
    }
    // A freeze that holds rather than refuses: the write waits for approval.
    std::optional<policy::HoldReason> freeze_hold;
    if (decision.allow && !granted(policy::Rule::freeze) && !granted(policy::Rule::hold_freeze)) {
        if (auto refusal = freeze_refusal(*analysis)) {
            if (frame && services_.freezes->holds_writes(identity_.target)) {
                freeze_hold = policy::HoldReason{
                    policy::Rule::hold_freeze,
                    {},
                    refusal->statement,
                    fmt::format("target \"{}\" is frozen: its writes wait for approval", identity_.target)};
            } else {
                decision = std::move(*refusal);
            }
        }
    }
    // Last: a statement allowed here may pin the session (out.pin_reason).
    if (decision.allow && services_.transaction_pooling) {
        if (auto refusal = session_state_refusal(*analysis, out)) decision = std::move(*refusal);
    }
    if (services_.metrics) {
        analysis_seconds_->observe_duration(analyzed - started);
        decision_seconds_->observe_duration(Clock::now() - analyzed);
    }
    // A statement under an approval hold waits for a person's decision, and is
    // counted once that is known.
    if (decision.allow && frame &&
        hold(*frame, sql, statement_name, origin, analysis, decision, started, std::move(freeze_hold), out))
        return true;
    // [holds] rows_over: decided once the server's row estimate is in.
    if (decision.allow && frame && estimate_rows(*frame, sql, statement_name, origin, analysis, decision, started, out))
        return true;
    return admit(frame, sql, statement_name, origin, std::move(analysis), std::move(decision), started, out);
}

bool Session::admit(const Frame* frame, std::string_view sql, std::string_view statement_name, Origin origin,
                    std::shared_ptr<const sql::Analysis> analysis, policy::Decision decision, Clock::time_point started,
                    Outbox& out) {
    count(decision, analysis.get());
    if (!decision.allow) {
        reject(decision, sql, analysis, origin, statement_name, out);
        return false;
    }
    if (!grants_.empty()) attribute_grant(*analysis, sql, origin);
    pass(frame, sql, statement_name, origin, out, std::move(analysis), std::move(decision), started);
    grant_.clear();
    return true;
}

void Session::pass(const Frame* frame, std::string_view sql, std::string_view statement_name, Origin origin,
                   Outbox& out, std::shared_ptr<const sql::Analysis> analysis, policy::Decision decision,
                   Clock::time_point started) {
    if (decision.would_reject && log_sampler_.allow()) {
        // The audit log and metrics have every one; pgmoat's own log gets a sample.
        log::warning("monitor: app \"{}\" statement would be rejected by rule \"{}\" of policy \"{}\": {}",
                     identity_.app, name(decision.rule), decision.policy, decision.message);
    }
    if (origin == Origin::simple_query && frame && caps_affected_rows(*analysis)) {
        // Under [limits] max_rows_affected: the Query runs where pgmoat can undo it.
        run_capped_query(*frame, std::move(analysis), std::move(decision), started, out);
        return;
    }
    if (origin == Origin::parse) {
        // Recorded under its name once the server confirms it (ParseComplete): a
        // Parse of a name in use fails there, unless a DEALLOCATE sent before it
        // freed the name.
        objects_.parse_sent(syncs_sent_, std::string(statement_name),
                            make_statement(sql, analysis, std::move(decision), 0));
    } else {
        query_sent(sql, analysis, decision, started, false);
    }
    if (frame && origin == Origin::parse)
        forward_parse(*frame, statement_name, out);
    else if (frame)
        forward(*frame, out);
}

void Session::query_sent(std::string_view sql, const std::shared_ptr<const sql::Analysis>& analysis,
                         const policy::Decision& decision, Clock::time_point started, bool count_affected) {
    for (const auto& st : analysis->statements) {
        if (st.copy && st.copy->direction == sql::CopyDirection::from && st.copy->endpoint == sql::CopyEndpoint::stdin_)
            copy_in_expected_ = true;
    }
    // One execution per statement of the Query; none for an empty one.
    for (size_t i = 0; i < analysis->statements.size() || (i == 0 && !analysis->ok()); ++i) {
        auto statement = make_statement(sql, analysis, decision, i);
        const sql::Statement* facts = statement->facts();
        std::string cursor = facts && facts->kind == sql::StatementKind::fetch ? facts->name : std::string();
        executions_.push_back({.statement = std::move(statement),
                               .result_portal = std::move(cursor),
                               .batch = syncs_sent_,
                               .started = started,
                               .affected_cap = count_affected ? AffectedCap::counted : AffectedCap::none});
    }
    code_may_run();
    ++syncs_sent_;
}

bool Session::on_function_call(const Frame* frame, std::string_view head, std::string_view function, Outbox& out) {
    auto started = Clock::now();
    // The call carries no SQL: it is judged as SELECT "schema"."fn"($1, ...), the
    // statement that would make it, so every rule on functions applies as to SQL.
    MessageReader r(head);
    uint32_t oid = static_cast<uint32_t>(r.int32());
    int16_t formats = r.int16();
    if (r.ok() && formats > 0) r.bytes(static_cast<size_t>(formats) * 2);
    int16_t args = r.ok() ? r.int16() : int16_t{0};
    std::string sql;
    std::shared_ptr<const sql::Analysis> analysis;
    policy::Decision decision;
    if (!function.empty()) {
        std::string placeholders;
        for (int i = 1; i <= std::max<int16_t>(args, 0); ++i)
            placeholders += fmt::format("{}${}", i > 1 ? ", " : "", i);
        sql = fmt::format("SELECT {}({})", function, placeholders);
        analysis = analyze(sql);
        decision = policy::decide(*policy_, *analysis, sql, policy::Protocol::simple_query);
    } else {
        decision.allow = policy_->mode == policy::Mode::monitor;
        decision.would_reject = decision.allow;
        decision.rule = policy::Rule::function_call;
        decision.policy = policy_->name;
        decision.sqlstate = sqlstate::insufficient_privilege;
        decision.message =
            fmt::format("pgmoat: the function of this FunctionCall message (OID {}) could not be identified", oid);
        decision.detail =
            "pgmoat judges a FunctionCall by the function its OID names in the target's catalog; "
            "inside an extended-protocol batch, or when the look-up fails, it cannot.";
        decision.hint = "call the function in a statement instead, e.g. SELECT fn($1), or send Sync first";
    }
    if (decision.allow) {
        if (auto refusal = runtime_refusal()) decision = std::move(*refusal);
    }
    decision.position = 0;  // in text pgmoat wrote, not the client
    count(decision, analysis.get());
    if (!decision.allow) {
        reject(decision, sql, analysis, Origin::function_call, {}, out);
        return false;
    }
    if (decision.would_reject && log_sampler_.allow()) {
        log::warning("monitor: app \"{}\" FunctionCall would be rejected by rule \"{}\" of policy \"{}\": {}",
                     identity_.app, name(decision.rule), decision.policy, decision.message);
    }
    StatementPtr statement;
    if (analysis) {
        statement = make_statement(sql, analysis, decision, 0, "function_call");
    } else {
        auto unknown = std::make_shared<Statement>();
        auto info = std::make_shared<audit::StatementInfo>();
        info->kind = "function_call";
        info->text = fmt::format("FunctionCall of OID {}", oid);
        unknown->audit = std::move(info);
        unknown->decision = decision;
        statement = std::move(unknown);
    }
    executions_.push_back({.statement = std::move(statement), .batch = syncs_sent_, .started = started});
    code_may_run();
    ++syncs_sent_;
    if (frame) forward(*frame, out);
    return true;
}

void Session::on_execute(const Frame& frame, std::string_view portal, Outbox& out) {
    refresh_grants();
    auto refusal = runtime_refusal();
    // The portal comes from a Bind or a DECLARE pgmoat has seen; anything else (a
    // cursor a function opened) runs text pgmoat never judged and could not record.
    std::vector<StatementPtr> declaring;
    for (const auto& e : executions_)
        if (e.statement && e.statement->facts() && e.statement->facts()->kind == sql::StatementKind::declare_cursor)
            declaring.push_back(e.statement);
    auto expected = objects_.expected_portal(portal, declaring);
    if (!refusal && !expected) refusal = unknown_portal(portal);
    // A statement prepared before the freeze runs during it: judged again here,
    // unless a person approved it (a freeze that holds).
    if (!refusal && !(expected->get() && expected->get()->approval) && !granted(policy::Rule::freeze) &&
        !granted(policy::Rule::hold_freeze))
        refusal = freeze_refusal(expected->get() ? expected->get()->facts() : nullptr);
    // The production mode now (a reload may have set it since the Parse).
    // A way to turn the second lock off was judged at the Parse (empty text here).
    if (!refusal) refusal = production_refusal(expected->get() ? expected->get()->facts() : nullptr, {});
    if (!refusal) refusal = expired_grant_refusal(expected->get());
    if (refusal) {
        count(*refusal, nullptr);
        return reject(*refusal, {}, nullptr, Origin::function_call, "\x01pgmoat", out);
    }
    Execution e{.portal = std::string(portal), .resolved = false, .batch = syncs_sent_, .started = Clock::now()};
    if (*expected && (*expected)->facts()) {
        const auto& copy = (*expected)->facts()->copy;
        if (copy && copy->direction == sql::CopyDirection::from && copy->endpoint == sql::CopyEndpoint::stdin_)
            copy_in_expected_ = true;
    }
    bool capped = caps_affected_rows(expected->get());
    if (capped) e.affected_cap = AffectedCap::execute;
    executions_.push_back(std::move(e));
    code_may_run();
    forward(frame, out);
    // Its rows are counted before anything after it goes on (see holds_client).
    if (capped) write_flush(out.to_server);
}

void Session::resolve(Execution& e) {
    if (e.resolved) return;
    e.resolved = true;
    e.result_portal = e.portal;
    if (const Portal* p = objects_.portal(e.portal)) {
        e.statement = p->statement;
        e.parameters = p->parameters;
        // An Execute of a prepared FETCH reads the cursor it names.
        if (e.statement && e.statement->facts() && e.statement->facts()->kind == sql::StatementKind::fetch)
            e.result_portal = e.statement->facts()->name;
    }
}

std::shared_ptr<const sql::Analysis> Session::analyze(std::string_view sql) {
    // pgmoat reads text as the server does with standard_conforming_strings on and
    // client_encoding UTF8. Text that reads the same under every setting is judged
    // so whatever the server's settings are; other text only while they are known
    // to be those (see sql::Analysis::depends_on_settings).
    sql::AnalyzerOptions options = services_.analyzer;
    options.standard_conforming_strings = true;
    options.client_encoding = "UTF8";
    auto a = services_.analyses ? services_.analyses->analyze(sql, services_.policies->version_number, options)
                                : std::make_shared<const sql::Analysis>(sql::analyze(sql, options));
    if (!a->ok() || !a->depends_on_settings) return a;
    sql::AnalyzerOptions server = options;
    server.standard_conforming_strings = settings_.standard_conforming_strings;
    server.client_encoding = settings_.client_encoding;
    std::string why;
    if (syncs_done_ < settings_known_at_) {
        why =
            "a statement still running before it in the same pipeline may change standard_conforming_strings or "
            "client_encoding (any function, cursor or trigger can), and this text reads differently if it does; "
            "send it after the server has answered (after Sync), or write backslashes in E'' strings and pass "
            "non-ASCII text as parameters";
    } else if (!server.settings_supported()) {
        why = server.standard_conforming_strings
                  ? fmt::format(
                        "client_encoding is {} in this session, and this text holds bytes that encoding "
                        "reads differently from UTF8",
                        settings_.client_encoding)
                  : "standard_conforming_strings is off in this session, and this text reads differently with it off";
    } else {
        return a;
    }
    auto refused = std::make_shared<sql::Analysis>();
    refused->status = sql::AnalysisStatus::session_settings;
    refused->error = std::move(why);
    return refused;
}

policy::Decision Session::unknown_portal(std::string_view portal) const {
    policy::Decision d;
    d.allow = false;
    d.policy = policy_->name;
    d.rule = policy::Rule::unknown_portal;
    d.sqlstate = sqlstate::invalid_cursor_name;  // as PostgreSQL answers for a portal that does not exist
    d.message = fmt::format("pgmoat: portal \"{}\" was not created by a Bind or DECLARE that pgmoat has seen", portal);
    d.detail = "An Execute runs whatever its portal holds; pgmoat judges and records only what it has seen created.";
    d.hint = "execute portals created by your own Bind or DECLARE; read a cursor a function returns with FETCH";
    return d;
}

std::optional<policy::Decision> Session::runtime_refusal() {
    policy::Decision d;
    d.allow = false;
    d.policy = policy_->name;
    if (services_.audit && !services_.audit->accepting()) {
        d.rule = policy::Rule::audit_log;
        d.sqlstate = sqlstate::io_error;
        d.message = "pgmoat: the audit log cannot be written; statements are refused until it can";
        d.detail = "The audit log's failure policy is block: nothing runs unlogged.";
        d.hint = "ask the operator to check pgmoat's audit log (disk space, permissions)";
        if (services_.metrics) services_.metrics->audit_refused.labels({identity_.app}).inc();
        return d;
    }
    if (policy_->statements_per_second > 0 && services_.rate_limiter &&
        !services_.rate_limiter->admit(policy_->name + "/" + identity_.app, policy_->statements_per_second)) {
        d.rule = policy::Rule::rate_limit;
        d.source = policy_->rate_source;
        d.sqlstate = sqlstate::configuration_limit_exceeded;
        d.message = fmt::format("pgmoat: app \"{}\" sent more than {} statements per second", identity_.app,
                                policy_->statements_per_second);
        d.detail = fmt::format("Rejected by rule \"{}\" of policy \"{}\" ({}:{}).", policy::statements_per_second_key,
                               policy_->name, d.source.file, d.source.line);
        d.hint = "slow down and retry; batch work into fewer statements";
        if (services_.metrics) services_.metrics->rate_limited.labels({identity_.app}).inc();
        return d;
    }
    return std::nullopt;
}

void Session::reject(const policy::Decision& d, std::string_view sql, const std::shared_ptr<const sql::Analysis>& a,
                     Origin origin, std::string_view statement_name, Outbox& out) {
    ErrorFields e;
    e.sqlstate = d.sqlstate;
    e.message = d.message;
    e.detail = d.detail;
    e.hint = d.hint;
    e.position = d.position;
    if (log_sampler_.allow()) {
        log::info("rejected: app \"{}\" target \"{}\": rule \"{}\" of policy \"{}\": {}", identity_.app,
                  identity_.target, name(d.rule), d.policy, d.message);
    }
    record_rejection(d, sql, a, origin == Origin::function_call ? "function_call" : std::string_view());
    send_decoy(origin, statement_name, e, out);
}

StatementPtr Session::make_statement(std::string_view sql, std::shared_ptr<const sql::Analysis> a, policy::Decision d,
                                     size_t index, std::string_view kind) {
    auto s = std::make_shared<Statement>();
    s->index = index;
    if (policy_->audit_raw_statement) s->sql = std::string(sql);
    s->audit = audit_statement(a, index, kind);
    s->analysis = std::move(a);
    s->decision = std::move(d);
    s->approval = approval_;
    s->grant = grant_;
    return s;
}

std::shared_ptr<const audit::StatementInfo> Session::audit_statement(const std::shared_ptr<const sql::Analysis>& a,
                                                                     size_t index, std::string_view kind) {
    // The same text again (the analysis cache's entry): an app's unnamed Parse of
    // every extended-protocol query, a Query it repeats. Its audit view is the same.
    // (The weak reference keeps the analysis' control block, so no other analysis
    // can take its place and compare equal.)
    const auto& last = last_audit_;
    if (last.info && !last.analysis.owner_before(a) && !a.owner_before(last.analysis) && last.index == index &&
        last.kind == kind)
        return last.info;
    auto info = std::make_shared<audit::StatementInfo>();
    if (a->ok() && index < a->statements.size()) {
        const auto& st = a->statements[index];
        info->kind = std::string(sql::name(st.kind));
        info->text = st.normalized;
        info->fingerprint = st.fingerprint;
        for (const auto& r : st.relations) info->relations.push_back({r.qualified_name(), sql::access_names(r.access)});
    } else if (!a->ok()) {
        info->kind = std::string(sql::name(a->status));  // forwarded under monitor mode only
    }
    if (!kind.empty()) info->kind = std::string(kind);
    // A long statement's view is not kept: a session holds no more than it must.
    constexpr size_t kLongest = 8192;
    if (!info->text || info->text->size() <= kLongest) last_audit_ = {a, index, std::string(kind), info};
    return info;
}

void Session::count(const policy::Decision& d, const sql::Analysis* a) {
    if (a && a->ok() && !a->statements.empty()) last_statement_kind_ = sql::name(a->statements.front().kind);
    auto* m = services_.metrics;
    if (!m) return;
    int decision_code = !d.allow ? 0 : d.would_reject ? 1 : 2;
    std::string_view decision = decision_code == 0 ? "reject" : decision_code == 1 ? "would_reject" : "allow";
    bool known = a && a->ok() && !a->statements.empty();
    std::string_view kind = known           ? sql::name(a->statements.front().kind)
                            : a && !a->ok() ? sql::name(a->status)
                                            : std::string_view("none");
    // Look-ups by label take a lock: keep the children this session has used.
    uint32_t key = ((known ? static_cast<uint32_t>(a->statements.front().kind)
                           : 1000 + (a ? static_cast<uint32_t>(a->status) : 99))
                    << 2) |
                   static_cast<uint32_t>(decision_code);
    auto it = counters_.find(key);
    if (it == counters_.end()) {
        it = counters_
                 .emplace(key, &m->statements.labels(
                                   {identity_.app, identity_.target, std::string(kind), std::string(decision)}))
                 .first;
    }
    it->second->inc();
    if (d.rule != policy::Rule::none) {
        auto& family = d.allow ? m->would_reject : m->rejections;
        family.labels({identity_.app, identity_.target, std::string(name(d.rule))}).inc();
        if (d.rule == policy::Rule::unparseable) m->unparseable.labels({identity_.app}).inc();
    }
}

void Session::record(const Execution& e, std::string_view sqlstate, uint64_t rows) {
    if (!services_.audit) return;
    audit::Record r;
    r.event = audit::Event::statement;
    r.session = audit_info_;
    r.policy_version = services_.policies->version;
    r.sqlstate = std::string(sqlstate);
    r.rows = rows;
    r.duration_us =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - e.started).count());
    r.bytes_sent = e.bytes;
    if (backend_pid_ != 0) r.backend_pid = backend_pid_;
    if (e.statement) {
        r.statement = e.statement->audit;
        const auto& d = e.statement->decision;
        r.decision = d.would_reject ? audit::Decision::would_reject : audit::Decision::allow;
        if (d.would_reject) {
            r.rule = name(d.rule);
            r.policy_file = d.source.file;
            r.policy_line = d.source.line;
        }
        if (policy_->audit_raw_statement) r.raw_statement = e.statement->sql;
        if (e.statement->approval) r.approval = e.statement->approval;
        if (!e.statement->grant.empty()) r.grant = e.statement->grant;
    } else {
        r.decision = audit::Decision::allow;
    }
    if (policy_->audit_parameters && !e.parameters.empty()) r.parameters = e.parameters;
    services_.audit->submit(std::move(r));
}

void Session::record_rejection(const policy::Decision& d, std::string_view sql,
                               const std::shared_ptr<const sql::Analysis>& a, std::string_view kind) {
    if (!services_.audit && !services_.rejections) return;
    std::shared_ptr<const audit::StatementInfo> info;
    if (a) info = make_statement(sql, a, d, d.statement >= 0 ? static_cast<size_t>(d.statement) : 0, kind)->audit;
    if (services_.rejections) {
        RejectionRow row;
        audit::json::append_time(row.time, std::chrono::system_clock::now());
        row.session = services_.session_id;
        row.app = identity_.app;
        row.target = identity_.target;
        row.rule = name(d.rule);
        row.sqlstate = d.sqlstate;
        if (info && info->text) row.statement = *info->text;
        services_.rejections->add(std::move(row));
    }
    if (!services_.audit) return;
    audit::Record r;
    r.event = audit::Event::statement;
    r.session = audit_info_;
    r.statement = std::move(info);
    r.decision = audit::Decision::reject;
    r.rule = name(d.rule);
    if (!d.source.file.empty()) r.policy_file = d.source.file;
    if (d.source.line > 0) r.policy_line = d.source.line;
    r.policy_version = services_.policies->version;
    r.sqlstate = d.sqlstate;
    r.rows = 0;
    r.duration_us = 0;
    if (policy_->audit_raw_statement && !sql.empty()) r.raw_statement = std::string(sql);
    services_.audit->submit(std::move(r));
}

}  // namespace pgmoat::session
