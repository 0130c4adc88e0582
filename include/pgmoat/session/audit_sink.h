// Where a session's audit records go. The net layer implements it over the
// AuditLog (and holds results back until records are durable when the log says
// so); tests collect records in memory.
#pragma once

#include "pgmoat/audit/record.h"

namespace pgmoat::session {

class AuditSink {
  public:
    virtual ~AuditSink() = default;
    // False while the audit log cannot take records under the block failure
    // policy: statements are then refused (58030) before they run.
    virtual bool accepting() const = 0;
    virtual void submit(audit::Record&& record) = 0;
};

}  // namespace pgmoat::session
