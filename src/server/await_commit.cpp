#include "server/await_commit.h"

#include <optional>
#include <utility>

namespace brook::server {

asio::awaitable<StatusWith<storage::CommitResult>> AwaitCommit(storage::Engine& engine,
                                                               std::unique_ptr<storage::WriteUnit> unit) {
  auto ex = co_await asio::this_coro::executor;
  // Written by the engine's callback before it posts the resumption (the post orders the
  // write before the read); lives in this frame, which outlives the wait.
  std::optional<StatusWith<storage::CommitResult>> result;
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [&](auto handler) {
        // The engine's callback is a std::function, which must be copyable; the
        // coroutine's handler is move-only.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        engine.CommitAsync(std::move(unit), [ex, shared, &result](StatusWith<storage::CommitResult> r) {
          result.emplace(std::move(r));
          asio::post(ex, [shared] { std::move(*shared)(); });
        });
      },
      asio::use_awaitable);
  co_return std::move(*result);
}

}  // namespace brook::server
