#pragma once
// AwaitCommit: the group commit as a coroutine step. The connection's coroutine is
// suspended until its unit's group is written, and its I/O thread serves its other
// connections meanwhile (a synchronous Commit would hold the thread, and every
// connection pinned to it, while another thread leads the group).
//
// The engine calls back on whichever thread led the group; the coroutine resumes on its
// own executor. The executor's io_context must outlive the commit: the server waits for
// Engine::WaitForAsyncCommits before its io_contexts go away.

#include <memory>

#include "server/asio_fwd.h"
#include "storage/engine.h"
#include "util/status.h"

namespace brook::server {

asio::awaitable<StatusWith<storage::CommitResult>> AwaitCommit(storage::Engine& engine,
                                                               std::unique_ptr<storage::WriteUnit> unit);

}  // namespace brook::server
