// The Asio names the net module uses. Only net/ includes this.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

namespace pgmoat::net {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using error_code = boost::system::error_code;
// Network errors are expected on the data path: receive them as values, not exceptions.
inline constexpr auto nothrow_awaitable = asio::as_tuple(asio::use_awaitable);

}  // namespace pgmoat::net
