#!/usr/bin/env bash
# Builds pgmoat with ThreadSanitizer (build-tsan) and runs the multi-threaded part
# of the integration suite against it: pgbench with several clients, psycopg
# (pipelines, cancel, notifications), reloads under load, upstream restarts, a
# connection flood and the audit writer with a full disk. pgmoat runs with 2 I/O
# threads in every test. Any ThreadSanitizer report fails the script (reports
# are kept in build-tsan/tsan-reports/). Installs nothing.
#
#   bash scripts/tsan.sh            # the subset below
#   bash scripts/tsan.sh -k pgbench # extra pytest arguments narrow it further
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build-tsan}
echo "== building pgmoat with ThreadSanitizer in $BUILD_DIR =="
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPGMOAT_TESTS=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" >/dev/null
cmake --build "$BUILD_DIR" --target pgmoat -j2

reports="$PWD/$BUILD_DIR/tsan-reports"
rm -rf "$reports"
mkdir -p "$reports"
# halt_on_error: the first race ends pgmoat, so the test that provoked it fails too.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 log_path=$reports/tsan ${TSAN_OPTIONS:-}"
export PGMOAT_BIN="$PWD/$BUILD_DIR/pgmoat"

TESTS=(
  tests/integration/test_pgbench.py
  tests/integration/test_psycopg.py
  "tests/integration/test_faults.py::test_upstream_restart_under_pgbench_load"
  "tests/integration/test_faults.py::test_policy_and_credentials_broken_under_load_keep_the_old_state"
  "tests/integration/test_faults.py::test_an_upstream_that_never_answers_times_out_per_config"
  "tests/integration/test_runtime.py::test_sighup_reloads_credentials_and_keeps_the_old_ones_when_broken"
  "tests/integration/test_runtime.py::test_sigterm_lets_a_running_statement_finish_then_exits"
  "tests/integration/test_abuse.py::test_a_flood_beyond_the_limit_is_answered_53300_while_sessions_run_on"
  "tests/integration/test_abuse.py::test_truncated_messages_then_close"
  "tests/integration/test_faults.py::test_audit_disk_full_with_continue_policy_keeps_statements_running"
  "tests/integration/test_policy.py::test_reload_on_file_change_and_a_broken_file_keeps_the_old_policies"
  "tests/integration/test_runtime.py::test_first_statement_mode_holds_no_server_connection_for_idle_sessions"
  "tests/integration/test_abuse.py::test_far_past_the_limit_connections_get_53300_without_a_startup_exchange"
  "tests/integration/test_bypass.py::test_a_sync_ignored_during_copy_in_does_not_lift_the_row_cap"
)

echo "== integration tests against the TSan build =="
rc=0
/usr/bin/python3 -m pytest "${TESTS[@]}" -q -p no:cacheprovider "$@" || rc=$?

if compgen -G "$reports/tsan*" >/dev/null; then
  echo "== ThreadSanitizer reports ==" >&2
  for f in "$reports"/tsan*; do
    echo "---- $f" >&2
    head -60 "$f" >&2
  done
  echo "tsan.sh: $(ls "$reports" | wc -l) ThreadSanitizer report(s)" >&2
  exit 1
fi
if ((rc != 0)); then
  echo "tsan.sh: tests failed without a ThreadSanitizer report (rc $rc)" >&2
  exit "$rc"
fi
echo "tsan.sh: no data races reported"
