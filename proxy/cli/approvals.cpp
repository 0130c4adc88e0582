// pgmoat approve / deny / approvals: a person decides a held statement from a
// shell. They reach the running pgmoat the way psql does, over its admin console
// (libpq, database "pgmoat"), so the decision is the console's: authenticated as
// an admin identity, refused for one's own statement, and audited there.
#include "commands.h"

#include <libpq-fe.h>

#include <cstdio>
#include <memory>
#include <string>

namespace pgmoat::cli {

namespace {

void print_notice(void*, const PGresult* r) {
    std::fprintf(stderr, "%s", PQresultErrorMessage(r));
}

int approvals_usage(const char* command) {
    std::fprintf(stderr,
                 "usage: pgmoat %s%s [--connect CONNINFO]\n"
                 "  CONNINFO: libpq's connection string or URI for pgmoat's listener as an admin\n"
                 "  identity (default: the PGHOST, PGPORT, PGUSER, PGPASSWORD / PGPASSFILE\n"
                 "  environment); the database is always pgmoat's admin console.\n",
                 command, std::string(command) == "approvals" ? "" : " ID [--reason TEXT]");
    return 2;
}

// Runs one console command; prints a result's rows as "column: value" lines.
int run_console(const std::string& conninfo, const std::string& command) {
    const char* keys[] = {"dbname", "dbname", nullptr};
    const char* values[] = {conninfo.empty() ? nullptr : conninfo.c_str(), "pgmoat", nullptr};
    // The first dbname expands the connection string; the second overrides its database.
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(
        conninfo.empty() ? PQconnectdbParams(keys + 1, values + 1, 0) : PQconnectdbParams(keys, values, 1), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        std::fprintf(stderr, "pgmoat: cannot reach pgmoat's admin console: %s", PQerrorMessage(conn.get()));
        return 1;
    }
    PQsetNoticeReceiver(conn.get(), print_notice, nullptr);
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), command.c_str()), &PQclear);
    auto status = PQresultStatus(r.get());
    if (status == PGRES_TUPLES_OK) {
        int rows = PQntuples(r.get()), cols = PQnfields(r.get());
        for (int i = 0; i < rows; ++i) {
            for (int c = 0; c < cols; ++c)
                std::printf("%s: %s\n", PQfname(r.get(), c),
                            PQgetisnull(r.get(), i, c) ? "" : PQgetvalue(r.get(), i, c));
            std::printf("\n");
        }
        if (rows == 0) std::printf("no statement waits for approval\n");
        return 0;
    }
    if (status == PGRES_COMMAND_OK) return 0;
    std::fprintf(stderr, "pgmoat: %s", PQresultErrorMessage(r.get()));
    return 1;
}

bool id_ok(const std::string& id) {
    if (id.empty() || id.size() > 19) return false;
    for (char c : id)
        if (c < '0' || c > '9') return false;
    return true;
}

}  // namespace

int decide(const Args& args, bool approve) {
    const char* command = approve ? "approve" : "deny";
    std::string id, reason, conninfo;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--reason" && i + 1 < args.size())
            reason = args[++i];
        else if (args[i] == "--connect" && i + 1 < args.size())
            conninfo = args[++i];
        else if (id.empty() && id_ok(args[i]))
            id = args[i];
        else
            return approvals_usage(command);
    }
    if (id.empty()) return approvals_usage(command);
    if (approve && !reason.empty()) {
        std::fprintf(stderr, "pgmoat: approve takes no reason (the audit log names who approved)\n");
        return 2;
    }
    // The console reads words: a reason is sent as words, line breaks and ';' dropped.
    std::string words;
    for (char c : reason) words += c == '\n' || c == '\r' || c == ';' ? ' ' : c;
    return run_console(conninfo, (approve ? "APPROVE " : "DENY ") + id + (words.empty() ? "" : " " + words));
}

int approvals(const Args& args) {
    std::string conninfo;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--connect" && i + 1 < args.size())
            conninfo = args[++i];
        else
            return approvals_usage("approvals");
    }
    return run_console(conninfo, "SHOW APPROVALS");
}

}  // namespace pgmoat::cli
