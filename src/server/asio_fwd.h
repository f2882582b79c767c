#pragma once
// The one place the server layer includes standalone Asio, so the configuration macros
// (set by CMake: ASIO_STANDALONE, ASIO_NO_DEPRECATED) and the coroutine pieces used are
// the same in every file.
#include <asio.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
