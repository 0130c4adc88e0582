// One short-lived HTTP/1.1 connection per event, on Beast: resolve, connect, POST,
// read the status line, all under one deadline. Deliveries are few (a person
// decides each), so there is no pool, queue or retry; at most kMaxInFlight run at
// once so a webhook that hangs cannot pile up sockets.
#include "approval_webhook.h"

#include "pgmoat/common/log.h"
#include "pgmoat/session/approval_webhook.h"
#include "spawn.h"

#include <fmt/format.h>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>

namespace pgmoat::net {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {
constexpr int kMaxInFlight = 32;
constexpr size_t kMaxResponseBody = 16 * 1024;
}  // namespace

ApprovalWebhook::ApprovalWebhook(asio::io_context& io, Runtime& runtime)
    : io_(io),
      runtime_(runtime),
      delivered_(runtime.registry
                     .counter("pgmoat_webhook_deliveries_total",
                              "Approval events the [approvals] webhook accepted (a 2xx answer).", {})
                     .labels({})),
      failures_(runtime.registry
                    .counter("pgmoat_webhook_failures_total",
                             "Approval events the [approvals] webhook did not accept: unreachable, too slow, "
                             "not a 2xx answer, or too many deliveries in flight.",
                             {})
                    .labels({})) {}

void ApprovalWebhook::send(const session::ApprovalEvent& event) {
    auto where = runtime_.current()->config->approvals;
    if (where.webhook_host.empty() || (event.outcome && !where.webhook_outcomes)) return;
    if (in_flight_.fetch_add(1) >= kMaxInFlight) {
        in_flight_.fetch_sub(1);
        failed(event.entry.id, where, fmt::format("{} deliveries are already in flight", kMaxInFlight));
        return;
    }
    auto body =
        session::approval_webhook_body(event, std::chrono::system_clock::now(), std::chrono::steady_clock::now());
    spawn(io_.get_executor(), deliver(std::move(body), std::move(where), event.entry.id),
          fmt::format("webhook of approval {}", event.entry.id), [this] { in_flight_.fetch_sub(1); });
}

void ApprovalWebhook::failed(uint64_t approval, const config::ApprovalNotices& where, std::string_view why) {
    failures_.inc();
    log::warning("approval {}: webhook {} failed: {} (the hold is not affected)", approval, where.webhook, why);
}

awaitable<void> ApprovalWebhook::deliver(std::string body, config::ApprovalNotices where, uint64_t approval) {
    auto executor = co_await asio::this_coro::executor;
    auto deadline = std::chrono::steady_clock::now() + where.webhook_timeout;
    // The resolver has no deadline of its own: a timer cancels it.
    tcp::resolver resolver(executor);
    asio::steady_timer resolve_timer(executor, deadline);
    resolve_timer.async_wait([&resolver](error_code ec) {
        if (!ec) resolver.cancel();
    });
    auto [rec, endpoints] =
        co_await resolver.async_resolve(where.webhook_host, std::to_string(where.webhook_port), nothrow_awaitable);
    resolve_timer.cancel();
    if (rec) {
        failed(approval, where,
               rec == asio::error::operation_aborted
                   ? std::string("resolving the host timed out")
                   : fmt::format("cannot resolve {}: {}", where.webhook_host, rec.message()));
        co_return;
    }
    beast::tcp_stream stream(executor);
    stream.expires_at(deadline);
    auto [cec, endpoint] = co_await stream.async_connect(endpoints, nothrow_awaitable);
    if (cec) {
        failed(approval, where, cec == beast::error::timeout ? std::string("connecting timed out") : cec.message());
        co_return;
    }
    http::request<http::string_body> req{http::verb::post, where.webhook_path, 11};
    req.set(http::field::host, where.webhook_port == 80 ? where.webhook_host
                                                        : fmt::format("{}:{}", where.webhook_host, where.webhook_port));
    req.set(http::field::user_agent, "pgmoat/" PGMOAT_VERSION);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::connection, "close");
    req.body() = std::move(body);
    req.prepare_payload();
    auto [wec, written] = co_await http::async_write(stream, req, nothrow_awaitable);
    if (wec) {
        failed(approval, where, wec == beast::error::timeout ? std::string("sending timed out") : wec.message());
        co_return;
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    auto [rdec, read] = co_await http::async_read(stream, buffer, parser, nothrow_awaitable);
    if (rdec) {
        failed(approval, where,
               rdec == beast::error::timeout ? fmt::format("no answer within {} ms", where.webhook_timeout.count())
                                             : fmt::format("reading the answer: {}", rdec.message()));
        co_return;
    }
    auto status = parser.get().result_int();
    if (status < 200 || status > 299) {
        failed(approval, where, fmt::format("answered HTTP {}", status));
        co_return;
    }
    delivered_.inc();
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace pgmoat::net
