// A minimal HTTP/1.1 server on Beast for /metrics, /healthz and /readyz. Everything
// runs on one strand of the io_context it is given; one coroutine per connection.
#include "http_endpoint.h"

#include "asio.h"
#include "pgmoat/common/log.h"
#include "pgmoat/metrics/exposition.h"
#include "spawn.h"

#include <fmt/format.h>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace pgmoat::net {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr std::string_view text_plain = "text/plain; charset=utf-8";

Response make_response(http::status status, unsigned version, std::string_view content_type, std::string body) {
    Response res{status, version};
    res.set(http::field::server, "pgmoat");
    res.set(http::field::content_type, content_type);
    res.set(http::field::cache_control, "no-store");
    res.body() = std::move(body);
    return res;
}

// The status a failed read is answered with before closing, or none when the
// peer left, went quiet or the endpoint is stopping.
std::optional<http::status> status_for_read_error(const error_code& ec) {
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
        return http::status::request_header_fields_too_large;
    if (ec == http::error::body_limit) return http::status::payload_too_large;
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;
    if (ec.category() == make_error_code(http::error::bad_method).category()) return http::status::bad_request;
    return std::nullopt;  // timeout, reset, aborted, eof
}

}  // namespace

class HttpEndpoint::Impl : public std::enable_shared_from_this<Impl> {
  public:
    Impl(asio::io_context& io, const std::string& host, uint16_t port, Handlers handlers, Limits limits)
        : strand_(asio::make_strand(io)), acceptor_(strand_), handlers_(std::move(handlers)), limits_(limits) {
        error_code ec;
        tcp::endpoint endpoint;
        auto address = asio::ip::make_address(host, ec);
        if (!ec) {
            endpoint = tcp::endpoint(address, port);
        } else {
            tcp::resolver resolver(io);
            auto results = resolver.resolve(host, std::to_string(port), ec);
            if (ec || results.empty())
                throw std::runtime_error(
                    fmt::format("cannot resolve HTTP listen address {}: {}", host, ec ? ec.message() : "no address"));
            endpoint = results.begin()->endpoint();
        }
        acceptor_.open(endpoint.protocol(), ec);
        if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec) acceptor_.bind(endpoint, ec);
        if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) throw std::runtime_error(fmt::format("cannot listen for HTTP on {}:{}: {}", host, port, ec.message()));
        port_ = acceptor_.local_endpoint().port();
    }

    void start() {
        log::info("HTTP endpoint listening on {}:{}", acceptor_.local_endpoint().address().to_string(), port_);
        spawn(strand_, accept_loop(shared_from_this()), "HTTP endpoint accept loop");
    }

    void stop() {
        {
            // Waits for a handler that is running right now, and keeps any from running later.
            std::lock_guard lock(handler_mutex_);
            if (stopped_) return;
            stopped_ = true;
        }
        asio::dispatch(strand_, [self = shared_from_this()] { self->close_all(); });
    }

    uint16_t port() const { return port_; }

  private:
    // Removes a connection from the open set when its coroutine ends, however it ends.
    struct Registration {
        Impl& impl;
        uint64_t id;
        ~Registration() { impl.connections_.erase(id); }
    };

    void close_all() {
        error_code ignored;
        acceptor_.close(ignored);
        for (auto& [id, stream] : connections_) stream->close();
    }

    awaitable<void> accept_loop(std::shared_ptr<Impl> self) {
        using namespace std::chrono_literals;
        while (!stopped_) {
            auto [ec, socket] = co_await acceptor_.async_accept(nothrow_awaitable);
            if (ec) {
                if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
                // Out of descriptors and the like: breathe, keep serving.
                log::warning("HTTP endpoint accept failed: {}", ec.message());
                asio::steady_timer pause(strand_, 100ms);
                co_await pause.async_wait(nothrow_awaitable);
                continue;
            }
            if (connections_.size() >= limits_.max_connections) {
                log::debug("HTTP endpoint at its {} connections; closing a new one", limits_.max_connections);
                socket.close(ec);
                continue;
            }
            spawn(strand_, serve(self, std::move(socket), ++next_id_), "HTTP connection");
        }
    }

    // The first parameter keeps the endpoint alive while the connection lasts.
    awaitable<void> serve(std::shared_ptr<Impl>, tcp::socket socket, uint64_t id) {
        beast::tcp_stream stream(std::move(socket));
        if (stopped_) co_return;
        connections_.emplace(id, &stream);
        Registration registration{*this, id};
        beast::flat_buffer buffer(limits_.header_limit + limits_.body_limit + 1024);
        std::optional<http::status> refusal;
        while (!stopped_) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(static_cast<uint32_t>(std::min<size_t>(limits_.header_limit, UINT32_MAX)));
            parser.body_limit(limits_.body_limit);
            stream.expires_after(limits_.timeout);
            auto [ec, n] = co_await http::async_read(stream, buffer, parser, nothrow_awaitable);
            if (ec) {
                refusal = status_for_read_error(ec);
                if (refusal) log::debug("HTTP endpoint refused a request: {}", ec.message());
                break;
            }
            Response res = respond(parser.get());
            bool keep_alive = res.keep_alive();
            stream.expires_after(limits_.timeout);
            auto [wec, wn] = co_await http::async_write(stream, res, nothrow_awaitable);
            if (wec || !keep_alive) break;
        }
        error_code ignored;
        if (refusal && !stopped_) {
            Response res = make_response(*refusal, 11, text_plain, std::string(http::obsolete_reason(*refusal)) + "\n");
            res.keep_alive(false);
            res.prepare_payload();
            stream.expires_after(limits_.timeout);
            auto [wec, wn] = co_await http::async_write(stream, res, nothrow_awaitable);
            if (!wec) {
                // Close gently: closing with unread input makes the kernel send a
                // reset, which can destroy the answer before the client reads it.
                stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
                stream.expires_after(std::min<std::chrono::milliseconds>(limits_.timeout, std::chrono::seconds(1)));
                char sink[4096];
                for (size_t drained = 0; drained < 64 * 1024;) {
                    auto [rec, rn] = co_await stream.async_read_some(asio::buffer(sink), nothrow_awaitable);
                    if (rec) break;
                    drained += rn;
                }
            }
        }
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream.close();
    }

    Response respond(const Request& req) {
        std::string_view target(req.target().data(), req.target().size());
        target = target.substr(0, target.find('?'));  // Prometheus may add scrape parameters
        const bool head = req.method() == http::verb::head;
        const bool known = target == "/metrics" || target == "/healthz" || target == "/readyz";
        Response res;
        if (!known || (target == "/metrics" && !handlers_.metrics)) {
            res = make_response(http::status::not_found, req.version(), text_plain, "not found\n");
        } else if (req.method() != http::verb::get && !head) {
            res = make_response(http::status::method_not_allowed, req.version(), text_plain, "method not allowed\n");
            res.set(http::field::allow, "GET, HEAD");
        } else {
            res = route(target, req.version());
        }
        res.keep_alive(req.keep_alive() && !stopped_);
        res.prepare_payload();
        if (head) res.body().clear();  // Content-Length stays that of the GET answer
        return res;
    }

    Response route(std::string_view target, unsigned version) {
        if (target == "/healthz") return make_response(http::status::ok, version, text_plain, "ok\n");
        std::lock_guard lock(handler_mutex_);
        if (stopped_) return make_response(http::status::service_unavailable, version, text_plain, "stopping\n");
        try {
            if (target == "/metrics")
                return make_response(http::status::ok, version, metrics::content_type, handlers_.metrics());
            auto [ready, reason] = handlers_.ready ? handlers_.ready() : std::pair<bool, std::string>{true, ""};
            if (ready) return make_response(http::status::ok, version, text_plain, "ready\n");
            if (reason.empty()) reason = "not ready";
            if (reason.back() != '\n') reason += '\n';
            return make_response(http::status::service_unavailable, version, text_plain, std::move(reason));
        } catch (const std::exception& e) {
            log::error("HTTP endpoint: {} failed: {}", target, e.what());
        } catch (...) {
            log::error("HTTP endpoint: {} failed", target);
        }
        return make_response(http::status::internal_server_error, version, text_plain, "internal error\n");
    }

    asio::strand<asio::io_context::executor_type> strand_;
    tcp::acceptor acceptor_;
    const Handlers handlers_;
    const Limits limits_;
    uint16_t port_ = 0;
    std::mutex handler_mutex_;
    std::atomic<bool> stopped_{false};
    std::map<uint64_t, beast::tcp_stream*> connections_;  // touched on the strand only
    uint64_t next_id_ = 0;
};

HttpEndpoint::HttpEndpoint(asio::io_context& io, const std::string& host, uint16_t port, Handlers handlers,
                           Limits limits)
    : impl_(std::make_shared<Impl>(io, host, port, std::move(handlers), limits)) {}

HttpEndpoint::~HttpEndpoint() {  // NOLINT(bugprone-exception-escape): see the header
    impl_->stop();
}

void HttpEndpoint::start() {
    impl_->start();
}

void HttpEndpoint::stop() {
    impl_->stop();
}

uint16_t HttpEndpoint::port() const {
    return impl_->port();
}

}  // namespace pgmoat::net
