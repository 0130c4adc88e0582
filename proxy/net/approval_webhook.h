// Delivers [approvals] webhook: each pending approval (and each end of one) is
// POSTed as session/approval_webhook.h builds it, in the background, with a
// deadline; a failed delivery is logged and counted and changes nothing else.
#pragma once

#include "asio.h"
#include "pgmoat/metrics/registry.h"
#include "pgmoat/session/approvals.h"
#include "runtime.h"

#include <atomic>
#include <string>

namespace pgmoat::net {

class ApprovalWebhook {
  public:
    // Deliveries run on `io`; the URL and timeout are read from runtime's current
    // config at each event, so a reload moves or removes the webhook.
    ApprovalWebhook(asio::io_context& io, Runtime& runtime);
    // From any thread; never blocks and never fails: the hold goes on whatever
    // becomes of the delivery.
    void send(const session::ApprovalEvent& event);

  private:
    awaitable<void> deliver(std::string body, config::ApprovalNotices where, uint64_t approval);
    void failed(uint64_t approval, const config::ApprovalNotices& where, std::string_view why);

    asio::io_context& io_;
    Runtime& runtime_;
    std::atomic<int> in_flight_{0};
    metrics::Counter& delivered_;
    metrics::Counter& failures_;
};

}  // namespace pgmoat::net
