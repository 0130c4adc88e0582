// The least any proxy can cost per statement on this machine: a relay that
// parses nothing, judges nothing and logs nothing. One thread, level-triggered
// epoll (as pgbouncer's libevent), one server connection per client, bytes
// copied as they come. bench/syscalls.py --floor measures it beside pgmoat and
// pgbouncer: what pgmoat spends above it is its own work, what pgbouncer spends
// above it is pgbouncer's.
//
// usage: floor_relay LISTEN_PORT UPSTREAM_PORT   (both on 127.0.0.1)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

void no_delay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Writes all of it; a benchmark's messages fit the socket buffer, so waiting is rare.
bool send_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN) {
            pollfd pfd{fd, POLLOUT, 0};
            poll(&pfd, 1, -1);
            continue;
        }
        if (w <= 0) return false;
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: floor_relay LISTEN_PORT UPSTREAM_PORT\n");
        return 2;
    }
    int upstream_port = std::atoi(argv[2]);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr = loopback(std::atoi(argv[1]));
    if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener, 1024) != 0) {
        std::perror("floor_relay: listen");
        return 1;
    }
    int ep = epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listener;
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    std::vector<int> peer(1 << 16, -1);  // descriptor -> the other end
    std::array<epoll_event, 64> ready{};
    std::vector<char> buf(1 << 16);
    auto drop = [&](int fd) {
        int other = peer[fd];
        close(fd);
        peer[fd] = -1;
        if (other >= 0) {
            close(other);
            peer[other] = -1;
        }
    };
    for (;;) {
        int n = epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), -1);
        for (int i = 0; i < n; ++i) {
            int fd = ready[i].data.fd;
            if (fd == listener) {
                int client = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
                if (client < 0) continue;
                int server = socket(AF_INET, SOCK_STREAM, 0);
                sockaddr_in up = loopback(upstream_port);
                if (connect(server, reinterpret_cast<sockaddr*>(&up), sizeof up) != 0 ||
                    fcntl(server, F_SETFL, O_NONBLOCK) != 0 || server >= static_cast<int>(peer.size()) ||
                    client >= static_cast<int>(peer.size())) {
                    close(server);
                    close(client);
                    continue;
                }
                no_delay(client);
                no_delay(server);
                peer[client] = server;
                peer[server] = client;
                for (int end : {client, server}) {
                    ev.events = EPOLLIN;
                    ev.data.fd = end;
                    epoll_ctl(ep, EPOLL_CTL_ADD, end, &ev);
                }
                continue;
            }
            if (peer[fd] < 0) continue;  // closed earlier in this batch
            ssize_t r = recv(fd, buf.data(), buf.size(), 0);
            if (r < 0 && errno == EAGAIN) continue;
            if (r <= 0 || !send_all(peer[fd], buf.data(), static_cast<size_t>(r))) drop(fd);
        }
    }
}
