#include "runtime.h"

#include "pgmoat/common/config_error.h"
#include "pgmoat/common/secret_file.h"
#include "pgmoat/policy/loader.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>

namespace pgmoat::net {

namespace {
std::vector<uint8_t> certificate_der(const std::string& path) {
    std::vector<uint8_t> der;
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) throw ConfigError(path, 0, 0, "cannot read TLS certificate");
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (!cert) throw ConfigError(path, 0, 0, "not a PEM certificate");
    int len = i2d_X509(cert, nullptr);
    der.resize(static_cast<size_t>(len > 0 ? len : 0));
    unsigned char* p = der.data();
    i2d_X509(cert, &p);
    X509_free(cert);
    return der;
}

std::shared_ptr<asio::ssl::context> server_context(const config::Server& s) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    error_code ec;
    ctx->use_certificate_chain_file(s.tls_cert, ec);
    if (ec) throw ConfigError(s.tls_cert, 0, 0, "cannot load TLS certificate: " + ec.message());
    warn_if_exposed(s.tls_key, "TLS private key");
    ctx->use_private_key_file(s.tls_key, asio::ssl::context::pem, ec);
    if (ec) throw ConfigError(s.tls_key, 0, 0, "cannot load TLS private key: " + ec.message());
    return ctx;
}

std::shared_ptr<asio::ssl::context> target_context(const config::Target& t) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    if (!t.sslrootcert.empty()) {
        error_code ec;
        ctx->load_verify_file(t.sslrootcert, ec);
        if (ec) throw ConfigError(t.sslrootcert, 0, 0, "cannot load CA file of target " + t.name + ": " + ec.message());
    }
    return ctx;
}
}  // namespace

std::shared_ptr<const Snapshot> load_snapshot(const std::string& config_path) {
    auto snap = std::make_shared<Snapshot>();
    auto cfg = std::make_shared<config::Config>(config::load_config(config_path));
    snap->credentials = std::make_shared<auth::Credentials>(auth::load_credentials(cfg->credentials_file));
    snap->policies = std::make_shared<policy::PolicySet>(policy::load_policy_dir(cfg->policies.dir));
    snap->grants = policy::load_grants(cfg->policies.grants);
    if (!cfg->server.tls_cert.empty()) {
        snap->server_tls = server_context(cfg->server);
        auth::ChannelBinding cb;
        cb.data = auth::tls_server_end_point(certificate_der(cfg->server.tls_cert));
        snap->server_channel_binding = std::move(cb);
    }
    for (const auto& [name, target] : cfg->targets) {
        if (target.sslmode != config::SslMode::disable) snap->target_tls.emplace(name, target_context(target));
    }
    snap->config = std::move(cfg);
    return snap;
}

}  // namespace pgmoat::net
