// Transport's immediate write over real loopback sockets: what the socket takes
// goes out at once, the rest through write_all, and the peer reads every byte in
// order; a write to a closed peer is an error value, not a signal.
#include "../../../proxy/net/transport.h"

#include <doctest/doctest.h>

#include <future>
#include <string>
#include <thread>

using namespace pgmoat::net;

namespace {

struct Pair {
    asio::io_context io;
    std::unique_ptr<Transport> writer;
    tcp::socket reader{io};

    Pair() {
        tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        tcp::socket out(io);
        out.connect(acceptor.local_endpoint());
        acceptor.accept(reader);
        writer = std::make_unique<Transport>(std::move(out));
    }
};

std::string pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
}

}  // namespace

TEST_CASE("a small write goes out at once, whole") {
    Pair p;
    std::string message = pattern(300);
    error_code ec;
    CHECK(p.writer->write_now(asio::buffer(message), ec) == message.size());
    CHECK_FALSE(ec);
    std::string got(message.size(), '\0');
    asio::read(p.reader, asio::buffer(got));
    CHECK(got == message);
}

TEST_CASE("a write larger than the socket takes: the rest goes through write_all, every byte in order") {
    Pair p;
    std::string message = pattern(16 << 20);  // far more than a loopback socket buffers
    error_code ec;
    size_t now = p.writer->write_now(asio::buffer(message), ec);
    CHECK_FALSE(ec);
    CHECK(now > 0);
    CHECK(now < message.size());
    // The reader drains on its own thread while the io_context writes the rest.
    auto read_all = std::async(std::launch::async, [&] {
        std::string got(message.size(), '\0');
        asio::read(p.reader, asio::buffer(got));
        return got;
    });
    std::promise<error_code> done;
    asio::co_spawn(
        p.io, [&]() -> awaitable<void> { done.set_value(co_await p.writer->write_all(asio::buffer(message) + now)); },
        asio::detached);
    p.io.run();
    CHECK_FALSE(done.get_future().get());
    CHECK(read_all.get() == message);
}

TEST_CASE("a write to a peer that is gone is an error, not SIGPIPE") {
    Pair p;
    p.reader.close();
    std::string message = pattern(64 << 10);
    error_code ec;
    // The first send may still be accepted; the peer's reset makes a later one fail.
    for (int i = 0; i < 100 && !ec; ++i) {
        p.writer->write_now(asio::buffer(message), ec);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    CHECK(ec);
}
