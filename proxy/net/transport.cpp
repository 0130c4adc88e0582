#include "transport.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace pgmoat::net {

awaitable<std::tuple<error_code, size_t>> Transport::read_some(asio::mutable_buffer buffer) {
    if (tls_) co_return co_await tls_->async_read_some(buffer, nothrow_awaitable);
    co_return co_await socket_.async_read_some(buffer, nothrow_awaitable);
}

size_t Transport::write_now(asio::const_buffer buffer, error_code& ec) {
    ec.clear();
    if (tls_ || buffer.size() == 0) return 0;
    // Once per socket (connecting may have replaced the descriptor).
    if (!socket_.non_blocking()) socket_.non_blocking(true, ec);
    if (ec) return 0;
    size_t n = socket_.write_some(buffer, ec);
    if (ec == asio::error::would_block) ec.clear();
    return ec ? 0 : n;
}

awaitable<error_code> Transport::write_all(asio::const_buffer buffer) {
    if (tls_) {
        auto [ec, n] = co_await asio::async_write(*tls_, buffer, nothrow_awaitable);
        co_return ec;
    }
    auto [ec, n] = co_await asio::async_write(socket_, buffer, nothrow_awaitable);
    co_return ec;
}

awaitable<error_code> Transport::tls_accept(asio::ssl::context& context) {
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(socket_), context);
    auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, nothrow_awaitable);
    co_return ec;
}

awaitable<error_code> Transport::tls_connect(asio::ssl::context& context, const std::string& host, bool verify) {
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(socket_), context);
    SSL* ssl = tls_->native_handle();
    // SNI, for servers behind a TLS-terminating router.
    SSL_set_tlsext_host_name(ssl, host.c_str());
    if (verify) {
        tls_->set_verify_mode(asio::ssl::verify_peer);
        tls_->set_verify_callback(asio::ssl::host_name_verification(host));
    } else {
        tls_->set_verify_mode(asio::ssl::verify_none);
    }
    auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, nothrow_awaitable);
    co_return ec;
}

std::vector<uint8_t> Transport::peer_certificate_der() {
    std::vector<uint8_t> der;
    if (!tls_) return der;
    X509* cert = SSL_get1_peer_certificate(tls_->native_handle());
    if (!cert) return der;
    int len = i2d_X509(cert, nullptr);
    if (len > 0) {
        der.resize(static_cast<size_t>(len));
        unsigned char* p = der.data();
        i2d_X509(cert, &p);
    }
    X509_free(cert);
    return der;
}

void Transport::close() {
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
}

void Transport::shutdown_send() {
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
}

bool Transport::is_open() {
    return socket().is_open();
}

bool Transport::quiet() {
    if (!socket().is_open()) return false;
    char c;
    for (;;) {
        ssize_t n = ::recv(socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n >= 0) return false;  // bytes (a FATAL) or the close
        if (errno != EINTR) return errno == EAGAIN || errno == EWOULDBLOCK;
    }
}

void Transport::rehome(const tcp::socket::executor_type& executor) {
    if (tls_ || !socket_.is_open() || socket_.get_executor() == executor) return;
    error_code ec;
    auto protocol = socket_.local_endpoint(ec).protocol();
    if (ec) return;
    auto fd = socket_.release(ec);
    if (ec) return;
    tcp::socket moved(executor);
    moved.assign(protocol, fd, ec);
    if (ec) {
        ::close(fd);  // the connection is lost; its reader finds the socket closed
        return;
    }
    socket_ = std::move(moved);
}

}  // namespace pgmoat::net
