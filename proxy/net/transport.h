// One end of a connection, plain TCP or TLS: the session code reads and writes
// bytes without caring which. TLS starts mid-stream (after SSLRequest), so the
// socket moves into the TLS stream when the handshake begins.
#pragma once

#include "asio.h"
#include "pgmoat/protocol/byte_buffer.h"

#include <memory>
#include <string>
#include <vector>

namespace pgmoat::net {

// Room for at least `n` more bytes at the back of a read buffer. (Prepare first:
// an idle buffer holds no memory until then.)
inline asio::mutable_buffer writable(protocol::ByteBuffer& in, size_t n) {
    char* p = in.prepare(n);
    return asio::buffer(p, in.free_space());
}

class Transport {
  public:
    explicit Transport(tcp::socket socket) : socket_(std::move(socket)) {}

    awaitable<std::tuple<error_code, size_t>> read_some(asio::mutable_buffer buffer);
    awaitable<error_code> write_all(asio::const_buffer buffer);
    // Writes what the socket takes now, without waiting or going through the
    // io_context; returns the bytes written (0 over TLS or when the socket's buffer
    // is full: write the rest with write_all). `ec` only for a failed socket.
    size_t write_now(asio::const_buffer buffer, error_code& ec);

    // Server side of TLS, for clients that sent SSLRequest.
    awaitable<error_code> tls_accept(asio::ssl::context& context);
    // Client side of TLS to a target; with verify, the certificate must chain to the
    // context's CA and name `host`.
    awaitable<error_code> tls_connect(asio::ssl::context& context, const std::string& host, bool verify);

    bool tls() const { return tls_ != nullptr; }
    // DER encoding of the peer's certificate (empty if none), for channel binding.
    std::vector<uint8_t> peer_certificate_der();
    void close();
    // Stops sending (FIN after what was written); reading goes on.
    void shutdown_send();
    bool is_open();
    // An idle connection's check, with no operation pending: true while the peer
    // has sent nothing, neither bytes nor its close (a look at the socket, nothing
    // read).
    bool quiet();
    // Moves a plain connection's socket to another executor: a pooled server
    // connection handed to a client of another thread is then read and written on
    // that client's thread. No operation may be pending. TLS stays where it is.
    void rehome(const tcp::socket::executor_type& executor);
    tcp::socket& socket() { return tls_ ? tls_->next_layer() : socket_; }

  private:
    tcp::socket socket_;
    std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
};

}  // namespace pgmoat::net
