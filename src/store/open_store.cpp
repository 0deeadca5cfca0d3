#include "splitship/error.hpp"
#include "splitship/store.hpp"

namespace splitship {

std::unique_ptr<Store> open_store(const StoreLocation& location) {
  switch (location.scheme) {
    case StoreLocation::Scheme::File:
      return std::make_unique<LocalStore>(location.root);
    case StoreLocation::Scheme::S3:
      fail(ErrorKind::Usage, "s3:// destinations are not supported by this build yet",
           "export to a local folder");
  }
  fail(ErrorKind::Internal, "unknown store scheme");
}

}  // namespace splitship
