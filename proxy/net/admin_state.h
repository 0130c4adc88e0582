// What the admin console shows and does, over the running server: its sessions,
// targets and their probes, policies, recent rejections, counters; RELOAD, PAUSE,
// RESUME, KILL and approval decisions reach the connections through their executors.
#pragma once

#include "connection_set.h"
#include "pgmoat/session/admin_console.h"
#include "readiness.h"
#include "runtime.h"

#include <functional>
#include <string>

namespace pgmoat::net {

class RuntimeAdmin final : public session::AdminState {
  public:
    // reload: what SIGHUP runs; "" on success, else the error.
    RuntimeAdmin(Runtime& runtime, ConnectionSet& connections, const Readiness& readiness,
                 std::function<std::string()> reload)
        : runtime_(runtime), connections_(connections), readiness_(readiness), reload_(std::move(reload)) {}

    std::vector<session::SessionRow> sessions() const override { return runtime_.directory.list(); }
    std::vector<session::TargetRow> targets() const override;
    std::vector<session::PolicyRow> policies() const override;
    std::string policy_version() const override { return runtime_.current()->policies->version; }
    std::vector<session::RejectionRow> rejections() const override { return runtime_.rejections.recent(); }
    std::vector<session::CounterRow> counters() const override;
    std::string reload() override { return reload_(); }
    bool set_paused(std::string_view target, bool paused) override;
    bool kill(uint64_t session, std::string_view by) override;
    session::Approvals* approvals() override { return &runtime_.approvals; }
    std::vector<policy::Grant> grants() const override { return runtime_.grants.all(); }
    GrantChange add_grant(policy::Grant g, std::chrono::seconds length) override;
    GrantChange remove_grant(std::string_view id) override;
    void approval_decided(const session::PendingApproval& entry, bool approved, std::string_view by,
                          std::string_view reason) override;

  private:
    Runtime& runtime_;
    ConnectionSet& connections_;
    const Readiness& readiness_;
    std::function<std::string()> reload_;
};

}  // namespace pgmoat::net
