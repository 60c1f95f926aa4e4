#include "store/ingest.hpp"

#include <type_traits>

namespace unlinkd::store {

std::string describe(const ingest_outcome& outcome) {
  return std::visit(
      [](const auto& o) -> std::string {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, ingest_accepted>) {
          return "accepted as batch '" + o.batch_name + "' (" + std::to_string(o.batch_id) + ")";
        } else if constexpr (std::is_same_v<T, ingest_duplicate>) {
          return "this manifest (the same bytes) was already accepted as batch '" + o.batch_name +
                 "'; nothing was changed";
        } else if constexpr (std::is_same_v<T, ingest_name_used>) {
          return "the batch name '" + o.batch_name +
                 "' was used before on this daemon; batch names are never reused: choose a new "
                 "name";
        } else {
          return "account " + o.account_id + " is already in batch '" + o.batch_name +
                 "', which has not finished; wait for it to finish or cancel it first";
        }
      },
      outcome);
}

}  // namespace unlinkd::store
