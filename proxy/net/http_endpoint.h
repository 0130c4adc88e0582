// The operators' HTTP endpoint: GET /metrics for Prometheus, /healthz and /readyz
// for orchestrators. Beast stays inside http_endpoint.cpp; this header only
// forward-declares the io_context it runs on.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace boost::asio {
class io_context;
}

namespace pgmoat::net {

// What the endpoint serves. Both run on the io_context's thread for every request:
// they must be quick and must not block (read cached state, render the registry).
struct HttpHandlers {
    // The body of GET /metrics, e.g. Registry::render. Empty: /metrics is a 404.
    std::function<std::string()> metrics;
    // {true, ""} when ready; {false, reason} makes /readyz a 503 whose body is the
    // reason. Empty: always ready.
    std::function<std::pair<bool, std::string>()> ready;
};

// Bounds that keep a slow or hostile client from holding resources.
struct HttpLimits {
    // For reading one request (idle keep-alive time included) and for writing one response.
    std::chrono::milliseconds timeout{10'000};
    size_t header_limit = 8 * 1024;  // past it: 431 and close
    size_t body_limit = 4 * 1024;    // past it: 413 and close
    size_t max_connections = 64;     // connections past it are closed at once
};

class HttpEndpoint {
  public:
    using Handlers = HttpHandlers;
    using Limits = HttpLimits;

    // Binds and listens on host:port at once (port 0 picks a free port), so a bad
    // address fails at start-up: throws std::runtime_error. Serves nothing until start().
    HttpEndpoint(boost::asio::io_context& io, const std::string& host, uint16_t port, Handlers handlers,
                 Limits limits = {});
    // Calls stop(). Destroy the endpoint before its io_context. Only a failed lock
    // or allocation could throw from it, and ending the process then is right.
    ~HttpEndpoint();  // NOLINT(bugprone-exception-escape)
    HttpEndpoint(const HttpEndpoint&) = delete;
    HttpEndpoint& operator=(const HttpEndpoint&) = delete;

    void start();
    // Closes the listener and every open connection. Callable from any thread and
    // more than once; once it returns no handler is running or will run again, so
    // what they capture may go away.
    void stop();
    // The port actually bound.
    uint16_t port() const;

  private:
    class Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace pgmoat::net
