// `export --mpi`: Open MPI runs the shards. Each rank exports shard RANK/SIZE; after every rank
// finished, rank 0 commits if and only if all succeeded. mpirun is the engine that starts,
// places and (on a lost rank) tears down the processes; splitship only agrees on the outcome.
#pragma once
#include <functional>

namespace splitship::cli {

// export_shard(rank, size) and commit(size) return exit codes (errors already printed).
// Returns this process's exit code: its own failure, else 1 when another rank failed
// (nothing published), else the commit's code. Without MPI in the build: Error(Usage).
int run_as_mpi_ranks(const std::function<int(int rank, int size)>& export_shard, const std::function<int(int size)>& commit);

}  // namespace splitship::cli
