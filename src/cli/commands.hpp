// The command-line front: flags → config structs → library calls. Errors are caught once, in
// main(), and printed as one line.
#pragma once
#include "splitship/log.hpp"

namespace splitship::cli {

int run(int argc, char** argv, CancelToken& cancel);

}  // namespace splitship::cli
