#include "upstream.h"

#include "pgmoat/common/log.h"
#include "watchdog.h"

namespace pgmoat::net {

awaitable<error_code> connect_tcp(tcp::socket& socket, const config::Target& t) {
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    auto [rec, results] = co_await resolver.async_resolve(t.host, std::to_string(t.port), nothrow_awaitable);
    if (rec) co_return rec;
    auto [cec, endpoint] = co_await asio::async_connect(socket, results, nothrow_awaitable);
    error_code ignored;
    if (!cec) socket.set_option(tcp::no_delay(true), ignored);
    co_return cec;
}

awaitable<void> send_cancel(config::Target target, std::string request) {
    auto executor = co_await asio::this_coro::executor;
    tcp::socket socket(executor);
    Watchdog deadline(executor, target.connect_timeout, [&socket] {
        error_code ignored;
        socket.close(ignored);
    });
    error_code ec = co_await connect_tcp(socket, target);
    if (ec) {
        log::warning("cancel: cannot connect to target \"{}\": {}", target.name, ec.message());
        co_return;
    }
    auto [wec, n] = co_await asio::async_write(socket, asio::buffer(request), nothrow_awaitable);
    if (wec) log::warning("cancel: sending to target \"{}\" failed: {}", target.name, wec.message());
    // The server closes the connection once it has read the request.
    char c;
    co_await socket.async_read_some(asio::buffer(&c, 1), nothrow_awaitable);
}

}  // namespace pgmoat::net
