// pgmoat: a PostgreSQL wire-protocol proxy that checks every statement before it
// reaches the database. Config and start-up errors are reported here, once.
#include "cli/commands.h"
#include "pgmoat/common/config_error.h"

#include <cstdio>
#include <exception>
#include <string>

namespace pgmoat::cli {

void usage() {
    std::fprintf(stderr,
                 "usage: pgmoat <command> [options]\n"
                 "\n"
                 "commands:\n"
                 "  serve [-c pgmoat.toml]        run the proxy\n"
                 "  passwd [--generate] APP       print a credentials line with the SCRAM verifier of\n"
                 "                                APP's password (read from stdin, or generated)\n"
                 "  check [-c CONFIG] [FILE…]     validate the config (listing the keys it sets) and policy\n"
                 "                                files (default: the config's policies dir)\n"
                 "  config-reference              print pgmoat.toml's keys as README's Markdown table\n"
                 "  explain --app NAME [--json] SQL\n"
                 "                                what pgmoat decides for SQL from that app, and why\n"
                 "  audit verify [--key FILE] FILE…\n"
                 "                                check the audit log's hash chain; report the first break\n"
                 "  learn --lock LOCK_FILE [--app NAME] [--known LOCK_FILE]… [--report FILE] AUDIT_FILE…\n"
                 "                                write or update an app's shape lock from a monitor-mode\n"
                 "                                audit log; print the interpolation report\n"
                 "  learn [--app NAME] AUDIT_FILE…\n"
                 "                                propose policy approvals from a monitor-mode audit log\n"
                 "  shapes list|diff|approve|remove|check …\n"
                 "                                the shape lock: list it, diff it against a new run,\n"
                 "                                approve new shapes, remove shapes, check it against policies\n"
                 "  approvals [--connect CONNINFO]\n"
                 "                                the statements held for approval in the running pgmoat\n"
                 "  approve ID [--connect CONNINFO]\n"
                 "  deny ID [--reason TEXT] [--connect CONNINFO]\n"
                 "                                decide a held statement, through the admin console of the\n"
                 "                                running pgmoat (libpq: CONNINFO or the PG* environment)\n"
                 "  grant --app NAME --allow KIND_OR_RULE --target T --for 30m --reason TEXT [-c CONFIG]\n"
                 "                                widen an app's policy for a bounded time (grants file\n"
                 "                                beside the config; the running pgmoat reloads it)\n"
                 "  grants [list] [-c CONFIG]     the grants, with the time each has left\n"
                 "  revoke GRANT_ID [-c CONFIG]   end a grant now\n"
                 "  version                       print the version\n");
}

}  // namespace pgmoat::cli

int main(int argc, char** argv) {
    using namespace pgmoat;
    if (argc < 2) {
        cli::usage();
        return 2;
    }
    std::string command = argv[1];
    cli::Args args(argv + 2, argv + argc);
    try {
        if (command == "serve") return cli::serve(args);
        if (command == "passwd") return cli::passwd(args);
        if (command == "check") return cli::check(args);
        if (command == "config-reference") return cli::config_reference(args);
        if (command == "explain") return cli::explain(args);
        if (command == "audit") return cli::audit(args);
        if (command == "learn") return cli::learn(args);
        if (command == "shapes") return cli::shapes(args);
        if (command == "approve") return cli::decide(args, true);
        if (command == "deny") return cli::decide(args, false);
        if (command == "approvals") return cli::approvals(args);
        if (command == "grant") return cli::grant(args);
        if (command == "grants") return cli::grants(args);
        if (command == "revoke") return cli::revoke(args);
        if (command == "version" || command == "--version") {
            std::printf("pgmoat %s\n", PGMOAT_VERSION);
            return 0;
        }
        if (command == "help" || command == "--help" || command == "-h") {
            cli::usage();
            return 0;
        }
        std::fprintf(stderr, "pgmoat: unknown command \"%s\"\n", command.c_str());
        cli::usage();
        return 2;
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "pgmoat: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pgmoat: %s\n", e.what());
        return 1;
    }
}
