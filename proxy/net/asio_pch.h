// Precompiled header for the net module: Asio and its SSL support are the slowest
// headers in the build, and only net/ includes them.
#pragma once
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
