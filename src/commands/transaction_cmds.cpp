// commitTransaction and abortTransaction: the session is already checked out by the
// dispatcher (TransactionRegistry::CheckOut validated its txnNumber and state).
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "commands/transactions.h"

namespace brook::commands {

Status HandleCommitTransaction(OperationContext& op, const CommandRequest&, bson::Builder*) {
  if (!op.service().transactions) {
    return Status(ErrorCodes::kIllegalOperation, "Transactions are not supported by this server");
  }
  if (!op.autocommit) {
    return Status(ErrorCodes::kInvalidOptions, "commitTransaction must be run within a transaction");
  }
  return op.service().transactions->Commit(op);
}

Status HandleAbortTransaction(OperationContext& op, const CommandRequest&, bson::Builder*) {
  if (!op.service().transactions) {
    return Status(ErrorCodes::kIllegalOperation, "Transactions are not supported by this server");
  }
  if (!op.autocommit) {
    return Status(ErrorCodes::kInvalidOptions, "abortTransaction must be run within a transaction");
  }
  return op.service().transactions->Abort(op);
}

}  // namespace brook::commands
