#include "splitship/error.hpp"
#include "splitship/s3.hpp"
#include "splitship/store.hpp"

namespace splitship {

std::unique_ptr<Store> open_store(const StoreLocation& location, const StoreContext& context) {
  switch (location.scheme) {
    case StoreLocation::Scheme::File:
      return std::make_unique<LocalStore>(location.root);
    case StoreLocation::Scheme::S3:
      if (!context.s3) fail(ErrorKind::Internal, "S3 destination opened without S3 settings");
      return make_s3_store(S3Location{location.root, location.prefix}, *context.s3, context.log, context.cancel);
  }
  fail(ErrorKind::Internal, "unknown store scheme");
}

}  // namespace splitship
