#include "cli/mpi.hpp"

#include <cstdio>

#include "splitship/error.hpp"

#ifdef SPLITSHIP_WITH_MPI
#include <mpi.h>
#endif

namespace splitship::cli {

#ifdef SPLITSHIP_WITH_MPI

namespace {

// MPI_Init/MPI_Finalize around a scope; only the main thread calls MPI (FUNNELED).
class MpiSession {
 public:
  MpiSession() {
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      fail(ErrorKind::Usage, "MPI could not start", "run under mpirun (or drop --mpi)");
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiSession() { MPI_Finalize(); }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }

 private:
  int rank_ = 0, size_ = 1;
};

}  // namespace

int run_as_mpi_ranks(const std::function<int(int rank, int size)>& export_shard, const std::function<int(int size)>& commit) {
  MpiSession mpi;
  const int own = export_shard(mpi.rank(), mpi.size());
  // Everyone learns whether every rank succeeded: the lowest "ok" wins.
  int ok = own == 0 ? 1 : 0, all_ok = 0;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  int committed = 0;
  if (all_ok && mpi.size() > 1 && mpi.rank() == 0) committed = commit(mpi.size());
  MPI_Bcast(&committed, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (own != 0) return own;
  if (!all_ok) {
    if (mpi.rank() == 0)
      std::fprintf(stderr, "splitship: error: another rank failed; nothing was published — run the same mpirun "
                           "command again: shards already done are skipped, the others resume\n");
    return 1;
  }
  return committed;
}

#else

int run_as_mpi_ranks(const std::function<int(int, int)>&, const std::function<int(int)>&) {
  fail(ErrorKind::Usage, "this splitship was built without MPI",
       "install libopenmpi-dev and rebuild, or run shards with --shard I/N and `splitship commit`");
}

#endif

}  // namespace splitship::cli
