// The prepared statements and portals the server holds for one session, followed
// in the order the server confirms them (ParseComplete, BindComplete,
// CloseComplete, and the completion of DECLARE, CLOSE, DEALLOCATE and DISCARD), so
// that an audit record names the text the server ran even when a pipeline drops
// and re-creates a name before the server has answered. No I/O.
#pragma once

#include "pgmoat/audit/record.h"
#include "pgmoat/policy/decision.h"
#include "pgmoat/sql/analysis.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pgmoat::session {

using BindValues = std::vector<std::optional<std::string>>;

// A statement as judged when it arrived: what the server will run under a
// prepared statement's name, or one statement of a simple Query.
struct Statement {
    std::string sql;  // only when the policy audits raw statements
    std::shared_ptr<const sql::Analysis> analysis;
    size_t index = 0;  // which of the analysis' statements
    policy::Decision decision;
    std::shared_ptr<const audit::StatementInfo> audit;
    uint64_t approval = 0;  // the approval hold it ran under; 0: none
    std::string grant;      // the grant that let it through; empty: none

    // The analyzer's facts about this statement; null when the text did not
    // analyze (forwarded only under monitor mode).
    const sql::Statement* facts() const;
};
using StatementPtr = std::shared_ptr<const Statement>;

// A portal: a prepared statement bound to values, or a cursor DECLAREd in SQL.
struct Portal {
    StatementPtr statement;
    BindValues parameters;  // only when the policy audits them
    bool holdable = false;  // DECLARE ... WITH HOLD: outlives its transaction
    // Rows returned so far by every Execute or FETCH of it: a policy's max_rows
    // holds for the whole result, however many pages it is read in.
    uint64_t rows = 0;
};

class ServerObjects {
  public:
    // Messages forwarded to the server, with the request (Sync or Query number)
    // whose ReadyForQuery ends their batch. A null statement is a decoy Parse
    // standing in for a rejected one.
    // injected: a Parse or Close pgmoat added (transaction pooling): its answer is
    // not the client's.
    void parse_sent(uint64_t batch, std::string name, StatementPtr statement, bool injected = false);
    void bind_sent(uint64_t batch, std::string portal, std::string statement, BindValues parameters);
    void close_sent(uint64_t batch, char kind, std::string name, bool injected = false);

    // The server's answers, in the order it sends them; parse_complete and
    // close_complete return true for the answer to an injected message.
    bool parse_complete();
    void bind_complete();
    bool close_complete();
    // An ErrorResponse in this batch: what is still pending in it never happened.
    // A decoy Parse's own error drops the unnamed statement, as PostgreSQL drops it
    // before parsing.
    void batch_failed(uint64_t batch, bool decoy_error);
    // ReadyForQuery of this batch.
    void batch_done(uint64_t batch, char transaction_status);
    // A statement the server completed: DECLARE creates a portal, CLOSE and
    // DISCARD drop portals, DEALLOCATE and DISCARD drop prepared statements.
    void statement_completed(const StatementPtr& completed);

    // The portal as the server holds it now (everything before it confirmed).
    const Portal* portal(std::string_view name) const;
    // Rows a completed Execute or FETCH returned from a portal.
    void count_rows(std::string_view portal, uint64_t rows);
    // The statement a portal will run once everything sent so far is confirmed,
    // or nullopt if nothing pgmoat has seen creates that portal (a DECLARE still
    // running counts: pass its statement in `declaring`).
    std::optional<StatementPtr> expected_portal(std::string_view name,
                                                const std::vector<StatementPtr>& declaring) const;

  private:
    struct PendingParse {
        uint64_t batch;
        std::string name;
        StatementPtr statement;
        bool injected = false;
    };
    struct PendingBind {
        uint64_t batch;
        std::string portal;
        std::string statement;
        BindValues parameters;
    };
    struct PendingClose {
        uint64_t batch;
        char kind;
        std::string name;
        bool injected = false;
    };

    std::unordered_map<std::string, StatementPtr> prepared_;
    std::unordered_map<std::string, Portal> portals_;
    std::deque<PendingParse> parses_;
    std::deque<PendingBind> binds_;
    std::deque<PendingClose> closes_;
};

}  // namespace pgmoat::session
