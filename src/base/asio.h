// The one way Sider code includes Boost.Asio. Boost 1.74 with GCC 12 needs
// <utility> before the coroutine headers, and clang 14 needs the two
// BOOST_ASIO_HAS_* macros to find std coroutines; both are set here so no
// other file has to know.
//
// Thread safety: a header of declarations; nothing to call.
#pragma once

#include <utility>

#if defined(__clang__)
#ifndef BOOST_ASIO_HAS_CO_AWAIT
#define BOOST_ASIO_HAS_CO_AWAIT 1
#endif
#ifndef BOOST_ASIO_HAS_STD_COROUTINE
#define BOOST_ASIO_HAS_STD_COROUTINE 1
#endif
#endif

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace sider {
namespace asio = boost::asio;
}  // namespace sider
