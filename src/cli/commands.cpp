#include "cli/commands.hpp"
#include "cli/mpi.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "splitship/copy.hpp"
#include "splitship/error.hpp"
#include "splitship/export.hpp"
#include "splitship/gc.hpp"
#include "splitship/s3.hpp"
#include "splitship/size.hpp"
#include "splitship/store.hpp"
#include "splitship/verify.hpp"

namespace splitship::cli {
namespace {

struct CommonOptions {
  std::string log_format = "text";
  bool quiet = false;
  bool verbose = false;
  std::string progress = "auto";
};

struct StoreOptions {
  S3Options s3;
  std::string part_size;
};

void add_store_options(CLI::App& cmd, StoreOptions& o) {
  auto& s = o.s3;
  const char* group = "S3 destinations";
  cmd.add_option("--endpoint-url", s.endpoint_url, "S3 endpoint, e.g. http://127.0.0.1:7480 (default: AWS)")->group(group);
  cmd.add_option("--region", s.region, "region used for signing (default us-east-1)")->group(group);
  cmd.add_option("--profile", s.profile, "profile in ~/.aws/credentials and ~/.aws/config")->group(group);
  cmd.add_option("--addressing-style", s.addressing_style, "auto, path or virtual (default auto)")
      ->check(CLI::IsMember({"auto", "path", "virtual"}))->group(group);
  cmd.add_option("--max-attempts", s.max_attempts, "attempts per request, retries included (default 5)")->group(group);
  cmd.add_option("--request-timeout", s.request_timeout_s, "seconds without progress before a request is retried (default 60)")->group(group);
  cmd.add_option("--connect-timeout", s.connect_timeout_s, "seconds to connect (default 10)")->group(group);
  cmd.add_option("--ca-bundle", s.ca_bundle, "PEM file of certificate authorities for HTTPS")->group(group);
  cmd.add_flag("--no-verify-ssl", s.no_verify_ssl, "do not verify TLS certificates (unsafe)")->group(group);
  cmd.add_flag("--no-sign-request", s.no_sign_request, "send anonymous requests (public buckets)")->group(group);
  cmd.add_flag("--unsigned-payload", s.unsigned_payload, "never sign payload hashes, not even of bodies without Content-MD5")->group(group);
  cmd.add_flag("--signed-payload", s.signed_payload,
               "sign each body's SHA-256 too (default: bodies protected by a signed Content-MD5 go unsigned)")
      ->group(group);
  cmd.add_option("--checksum-algorithm", s.checksum_algorithm, "also send x-amz-checksum headers: CRC64NVME, CRC32C, SHA256 or none")->group(group);
  cmd.add_option("--part-size", o.part_size, "multipart part size (default 8MiB for export and resume, 64MiB for cp)")->group(group);
  cmd.add_option("--concurrency", s.concurrency, "parts uploaded at once (default 8)")->group(group);
}

// S3 settings are resolved only for s3:// destinations: a local export needs no credentials.
S3Settings resolve_store_settings(StoreOptions& o, const std::string& dest) {
  if (!o.part_size.empty()) o.s3.part_size = parse_size(o.part_size, "--part-size");
  if (parse_store_location(dest).scheme != StoreLocation::Scheme::S3) return {};
  S3Settings s = resolve_s3_settings(o.s3, process_environment());
  s.user_agent = "splitship/" + tool_version();
  return s;
}

struct ExportOptions {
  StoreOptions store;
  ExportConfig config;
  std::string format;
  std::string split_weights;
  std::vector<std::string> split_inputs;
  std::string target_file_size = "256MiB";
  std::string memory_limit;
  std::string shard;  // "I/N" or "auto/N"
  bool mpi = false;
};

// The shard index of this process from the job launcher's environment (--shard auto/N).
int shard_index_from_environment() {
  const EnvLookup env = process_environment();
  // Kubernetes Indexed Job, Slurm array (made 0-based), MPI launchers, anything else.
  if (auto v = env("JOB_COMPLETION_INDEX")) return parse_int(*v, "JOB_COMPLETION_INDEX");
  if (auto v = env("SLURM_ARRAY_TASK_ID")) {
    const auto min = env("SLURM_ARRAY_TASK_MIN");
    return parse_int(*v, "SLURM_ARRAY_TASK_ID") - (min ? parse_int(*min, "SLURM_ARRAY_TASK_MIN") : 0);
  }
  if (auto v = env("OMPI_COMM_WORLD_RANK")) return parse_int(*v, "OMPI_COMM_WORLD_RANK");
  if (auto v = env("PMI_RANK")) return parse_int(*v, "PMI_RANK");
  if (auto v = env("SPLITSHIP_SHARD_INDEX")) return parse_int(*v, "SPLITSHIP_SHARD_INDEX");
  fail(ErrorKind::Usage, "--shard auto/N found no shard index in the environment",
       "set JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or SPLITSHIP_SHARD_INDEX, or pass --shard I/N");
}

void parse_shard(const std::string& text, ExportConfig& c) {
  const auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size())
    fail(ErrorKind::Usage, "--shard '" + text + "' is not I/N", "e.g. --shard 0/8, or --shard auto/8 under a job launcher");
  c.shard_count = parse_int(text.substr(slash + 1), "--shard N");
  c.shard_index = text.substr(0, slash) == "auto" ? shard_index_from_environment() : parse_int(text.substr(0, slash), "--shard I");
  if (c.shard_count < 1 || c.shard_index < 0 || c.shard_index >= c.shard_count)
    fail(ErrorKind::Usage, "--shard " + std::to_string(c.shard_index) + "/" + std::to_string(c.shard_count) + " is not a shard",
         "give I/N with 0 <= I < N");
}

void add_common(CLI::App& cmd, CommonOptions& common) {
  cmd.add_option("--log-format", common.log_format, "text or json (one JSON object per line)")
      ->check(CLI::IsMember({"text", "json"}));
  cmd.add_flag("-q,--quiet", common.quiet, "only warnings and errors");
  cmd.add_flag("-v,--verbose", common.verbose, "debug logging");
}

Logger make_logger(const CommonOptions& common) {
  return Logger(common.log_format == "json" ? LogFormat::Json : LogFormat::Text,
                common.quiet ? LogLevel::Quiet : common.verbose ? LogLevel::Debug : LogLevel::Info, stderr);
}

// DuckDB's memory limit when --memory-limit is not given: what is left of a 1 GiB budget
// once the upload buffers (part size × (concurrency + 1), S3 only) and 384 MiB for the rest
// are counted, between 256 and 320 MiB, and never above a quarter of RAM. The staging table
// lives in a file, so DuckDB needs memory only for rows in flight: on 2M chat documents
// 320 MiB exported as fast as 512 MiB and 6 GiB (bench/). DuckDB's process grows past its
// limit (Parquet writer state, allocator slack): at 512 MiB the export peaked at up to
// 1068 MiB, at 320 MiB at 570-610 MiB, upload buffers included.
std::string default_memory_limit(const std::string& dest, const S3Settings& s3) {
  constexpr unsigned long long kMiB = 1ULL << 20, kBudget = 1024 * kMiB, kRest = 384 * kMiB;
  unsigned long long buffers = 0;
  if (parse_store_location(dest).scheme == StoreLocation::Scheme::S3)
    buffers = s3.part_size * static_cast<unsigned long long>(s3.concurrency + 1);
  unsigned long long limit = buffers + kRest < kBudget ? kBudget - buffers - kRest : 0;
  limit = std::clamp(limit, 256 * kMiB, 320 * kMiB);
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0)
    limit = std::min(limit, static_cast<unsigned long long>(pages) * static_cast<unsigned long long>(page) / 4);
  return std::to_string(limit / kMiB) + "MiB";
}

void finish_export_config(ExportOptions& o, CLI::App& cmd) {
  ExportConfig& c = o.config;
  const int modes = (cmd.count("--split") > 0) + (cmd.count("--split-column") > 0) + (cmd.count("--split-input") > 0);
  if (modes != 1)
    fail(ErrorKind::Usage, "choose exactly one of --split, --split-column, --split-input",
         "e.g. --split train=0.8,val=0.1,test=0.1 --split-key id");
  if (cmd.count("--split")) {
    c.mode = SplitMode::Hash;
    c.weights = parse_split_weights(o.split_weights);
  } else if (cmd.count("--split-column")) {
    c.mode = SplitMode::Column;
  } else {
    c.mode = SplitMode::PerInput;
    for (const auto& item : o.split_inputs) {
      const auto eq = item.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
        fail(ErrorKind::Usage, "--split-input '" + item + "' is not NAME=PATH", "e.g. --split-input train=data/train.jsonl");
      c.split_inputs.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    }
  }
  if (cmd.count("--seed") && c.mode != SplitMode::Hash) fail(ErrorKind::Usage, "--seed only applies to --split");
  if (cmd.count("--split-key") && c.mode != SplitMode::Hash) fail(ErrorKind::Usage, "--split-key only applies to --split");
  if (!o.format.empty()) {
    c.format = format_from_name(o.format);
    if (!c.format) fail(ErrorKind::Usage, "unknown --format '" + o.format + "'", "use parquet, jsonl or csv");
  }
  c.target_file_size = parse_size(o.target_file_size, "--target-file-size");
  if (!o.shard.empty() && o.mpi) fail(ErrorKind::Usage, "--shard and --mpi exclude each other", "under mpirun each rank is a shard");
  if (!o.shard.empty()) parse_shard(o.shard, c);
  if ((c.sharded() || o.mpi) && c.run_id.empty())
    fail(ErrorKind::Usage, "a sharded export needs --run-id", "give every shard the same --run-id");
  o.store.s3.default_part_size = kStreamPartSize;
  c.s3 = resolve_store_settings(o.store, c.dest);
  c.duckdb.memory_limit = o.memory_limit.empty() ? default_memory_limit(c.dest, c.s3)
                                                 : std::to_string(parse_size(o.memory_limit, "--memory-limit") >> 20) + "MiB";
}

std::string pad(std::string s, std::size_t width) {
  // Pads by code points so names with accents line up.
  std::size_t cps = 0;
  for (unsigned char ch : s) cps += (ch & 0xC0) != 0x80;
  if (cps < width) s.append(width - cps, ' ');
  return s;
}

void print_summary(const Manifest& m, const std::string& run_url, bool json_lines, const StoreStats* store = nullptr,
                   const ResumeSummary* resume = nullptr) {
  if (json_lines) {
    nlohmann::ordered_json j;
    j["run"] = run_url;
    for (const auto& s : m.splits)
      j["splits"][s.name] = {{"num_documents", s.stats.num_documents}, {"parts", s.files.size()},
                             {"bytes", s.num_bytes()}, {"checksum", s.checksum}};
    if (store && store->requests) j["store"] = {{"requests", store->requests}, {"retries", store->retries}};
    if (resume && resume->resumed)
      j["resumed"] = {{"files_kept", resume->files_kept}, {"bytes_kept", resume->bytes_kept},
                      {"uploads_continued", resume->uploads_continued}, {"bytes_reused", resume->bytes_reused}};
    std::cout << j.dump() << "\n";
    return;
  }
  std::cout << "run " << run_url << "\n";
  std::cout << pad("split", 14) << pad("documents", 12) << pad("parts", 7) << pad("bytes", 12) << "checksum\n";
  for (const auto& s : m.splits)
    std::cout << pad(s.name, 14) << pad(std::to_string(s.stats.num_documents), 12) << pad(std::to_string(s.files.size()), 7)
              << pad(format_size(s.num_bytes()), 12) << s.checksum << "\n";
  if (store && store->requests)
    std::cout << store->requests << " requests to the store, " << store->retries << " retried\n";
  if (resume && resume->resumed)
    std::cout << "resumed: " << resume->files_kept << " part file(s) kept (" << format_size(resume->bytes_kept) << "), "
              << resume->uploads_continued << " upload(s) continued (" << format_size(resume->bytes_reused)
              << " not sent again)\n";
}

// Runs a command body, printing its error as the one line every command prints, and returns
// the exit code. The one place errors are caught (an MPI rank needs it before its collective).
int report_errors(const std::function<int()>& body) {
  try {
    return body();
  } catch (const Error& e) {
    std::fprintf(stderr, "splitship: error: %s\n", e.one_line().c_str());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "splitship: internal error: %s\n", e.what());
    return 1;
  }
}

// --progress auto draws only for a person watching a terminal.
bool wants_progress(const CommonOptions& common) {
  return common.progress == "always" ||
         (common.progress == "auto" && ::isatty(STDERR_FILENO) && !common.quiet && common.log_format == "text");
}

int export_and_report(const ExportConfig& config, const CommonOptions& common, CancelToken& cancel) {
  Logger log = make_logger(common);
  const bool show_progress = wants_progress(common);
  TerminalProgress progress(stderr);
  log.set_clear_line_hook(show_progress);
  ExportResult result = run_export(config, log, show_progress ? &progress : nullptr, cancel);
  if (config.sharded()) {
    const std::string shard = std::to_string(config.shard_index) + "/" + std::to_string(config.shard_count);
    if (common.log_format == "json") {
      std::cout << nlohmann::ordered_json{{"shard", shard}, {"fragment", result.fragment_url},
                                          {"already_done", result.already_done}}.dump() << "\n";
      if (result.already_done) return 0;
    } else {
      std::cout << "shard " << shard << (result.already_done ? " was already done: " : " done: ") << result.fragment_url
                << "\n";
      if (result.already_done) return 0;
      std::cout << "commit them with `splitship commit " << result.run_url << " --shards " << config.shard_count
                << "` once every shard is done\n";
    }
  }
  print_summary(result.manifest, result.run_url, common.log_format == "json", &result.store, &result.resume);
  return 0;
}


int do_export(ExportOptions& o, CLI::App& cmd, const CommonOptions& common, CancelToken& cancel) {
  finish_export_config(o, cmd);
  if (!o.mpi) return export_and_report(o.config, common, cancel);
  // Each rank is a shard; rank 0 commits once every rank succeeded (cli/mpi.hpp).
  return run_as_mpi_ranks(
      [&](int rank, int size) {
        ExportConfig shard = o.config;
        shard.shard_index = rank;
        shard.shard_count = size;
        return report_errors([&] { return export_and_report(shard, common, cancel); });
      },
      [&](int size) {
        return report_errors([&] {
          Logger log = make_logger(common);
          const auto [dest, run_id] = std::pair{o.config.dest, o.config.run_id};
          auto store = open_store(parse_store_location(dest), StoreContext{&o.config.s3, &log, &cancel});
          const CommitResult r = commit_shards(*store, run_id, size, log);
          print_summary(r.manifest, r.run_url, common.log_format == "json", &r.store);
          return 0;
        });
      });
}

struct ResumeOptions {
  std::string run_url;
  StoreOptions store;
  std::string memory_limit;
  int threads = 0;
  int parallel_splits = 2;
  std::string work_dir;
};

// Continues an interrupted run with the settings its journal recorded; only where and how to
// run (store options, memory, threads) come from the command line.
int do_resume(ResumeOptions& o, const CommonOptions& common, CancelToken& cancel) {
  const auto [dest, run_id] = split_run_url(o.run_url);
  validate_run_id(run_id);
  Logger log = make_logger(common);
  o.store.s3.default_part_size = kStreamPartSize;  // as export's; a continued upload keeps its own
  const S3Settings s3 = resolve_store_settings(o.store, dest);
  auto store = open_store(parse_store_location(dest), StoreContext{&s3, &log, &cancel});
  ExportConfig config = read_journaled_config(*store, run_id, log);
  config.dest = dest;
  config.s3 = s3;
  config.work_dir = o.work_dir;
  config.duckdb.threads = o.threads;
  config.parallel_splits = o.parallel_splits;
  config.duckdb.memory_limit = o.memory_limit.empty() ? default_memory_limit(dest, s3)
                                                      : std::to_string(parse_size(o.memory_limit, "--memory-limit") >> 20) + "MiB";
  return export_and_report(config, common, cancel);
}

// A published run named "DEST/RUN_ID", with the store that holds it.
struct RunInStore {
  std::unique_ptr<Store> store;
  std::string run_id;
};

RunInStore open_run(const std::string& run_url, StoreOptions& store_options, Logger& log, CancelToken& cancel) {
  const auto [dest, run_id] = split_run_url(run_url);
  validate_run_id(run_id);
  const S3Settings s3 = resolve_store_settings(store_options, dest);
  return {open_store(parse_store_location(dest), StoreContext{&s3, &log, &cancel}), run_id};
}

int do_commit(const std::string& run_url, int shards, StoreOptions& store_options, const CommonOptions& common,
              CancelToken& cancel) {
  Logger log = make_logger(common);
  const RunInStore run = open_run(run_url, store_options, log, cancel);
  const CommitResult r = commit_shards(*run.store, run.run_id, shards, log);
  print_summary(r.manifest, r.run_url, common.log_format == "json", &r.store);
  return 0;
}

int do_inspect(const std::string& run_url, StoreOptions& store_options, const CommonOptions& common,
               CancelToken& cancel) {
  Logger log = make_logger(common);
  const RunInStore run = open_run(run_url, store_options, log, cancel);
  const Manifest m = read_published_manifest(*run.store, run.run_id);
  print_summary(m, run.store->url() + "/" + run.run_id, common.log_format == "json");
  return 0;
}

int do_copy(CopyConfig& config, StoreOptions& store_options, const CommonOptions& common, CancelToken& cancel) {
  config.s3 = resolve_store_settings(store_options, config.dest);
  Logger log = make_logger(common);
  const bool show_progress = wants_progress(common);
  TerminalProgress progress(stderr);
  log.set_clear_line_hook(show_progress);
  const auto copied = run_copy(config, log, cancel, show_progress ? &progress : nullptr);
  for (const auto& c : copied) {
    if (common.log_format == "json") {
      nlohmann::ordered_json j{{"source", c.source}, {"object", c.url}, {"size", c.info.size}, {"etag", c.info.etag},
                               {"md5", to_hex(c.digests.md5)}, {"sha256", to_hex(c.digests.sha256)},
                               {"crc64nvme", crc64_to_base64(c.digests.crc64nvme)}, {"verified", "etag"}};
      std::cout << j.dump() << "\n";
    } else {
      std::cout << "upload: " << c.source << " to " << c.url << " (" << format_size(c.info.size)
                << ", ETag " << c.info.etag << " verified)\n";
    }
  }
  return 0;
}

int do_verify(const std::string& run_url, bool deep, StoreOptions& store_options, const CommonOptions& common,
              CancelToken& cancel) {
  Logger log = make_logger(common);
  const RunInStore run = open_run(run_url, store_options, log, cancel);
  const VerifyReport r = verify_run(*run.store, run.run_id, deep, cancel);
  const std::string how = deep ? "downloaded and re-hashed" : "checked by HEAD";
  if (common.log_format == "json") {
    nlohmann::ordered_json j{{"run", r.run_url}, {"ok", r.ok()}, {"deep", deep}, {"objects", r.objects},
                             {"bytes", r.bytes}, {"problems", nlohmann::json::array()}};
    for (const auto& p : r.problems)
      j["problems"].push_back({{"object", p.object}, {"check", p.check}, {"expected", p.expected}, {"found", p.found}});
    std::cout << j.dump() << "\n";
  } else if (r.ok()) {
    std::cout << "ok: " << r.run_url << ": " << r.objects << " objects, " << format_size(r.bytes) << " " << how
              << "; split checksums recomputed\n";
  } else {
    std::cout << "FAILED: " << r.run_url << ": " << r.problems.size() << " problem(s)\n";
    std::cout << pad("object", 40) << pad("check", 11) << pad("expected", 34) << "found\n";
    for (const auto& p : r.problems)
      std::cout << pad(p.object, 40) << pad(p.check, 11) << pad(p.expected, 34) << p.found << "\n";
  }
  return r.ok() ? 0 : 1;
}

int do_gc(const std::string& dest, bool yes, double older_than_h, StoreOptions& store_options,
          const CommonOptions& common, CancelToken& cancel) {
  const S3Settings s3 = resolve_store_settings(store_options, dest);
  Logger log = make_logger(common);
  auto store = open_store(parse_store_location(dest), StoreContext{&s3, &log, &cancel});
  const auto items = collect_garbage(*store, GcOptions{yes, older_than_h * 3600}, log);
  for (const auto& item : items) {
    const char* what = item.kind == GcItem::Kind::Upload            ? "multipart upload"
                       : item.kind == GcItem::Kind::PublishedJournal ? "journal"
                                                                     : "abandoned run";
    if (common.log_format == "json") {
      std::cout << nlohmann::ordered_json{{"action", yes ? "removed" : "found"}, {"kind", what}, {"url", item.url},
                                          {"detail", item.detail}}.dump()
                << "\n";
    } else {
      std::cout << (yes ? "removed " : "found ") << what << ": " << item.url << " (" << item.detail << ")\n";
    }
  }
  if (common.log_format != "json") {
    if (items.empty())
      std::cout << "nothing to remove under " << store->url() << " (uploads and unpublished runs younger than "
                << older_than_h << " h are left alone)\n";
    else if (!yes)
      std::cout << items.size() << " item(s); run again with --yes to remove them\n";
  }
  return 0;
}

}  // namespace

int run(int argc, char** argv, CancelToken& cancel) {
  CLI::App app{"splitship: export dataset splits as Parquet to an object store, in one pass"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "splitship " + tool_version() + " (DuckDB " + DuckDb::version() + ")");

  CommonOptions common;
  ExportOptions ex;
  CLI::App* exp = app.add_subcommand("export", "export the splits of a table as Parquet parts plus a manifest");
  exp->add_option("--input", ex.config.inputs, "input file, glob or folder (repeatable)");
  exp->add_option("--format", ex.format, "parquet, jsonl or csv (default: from the extension)");
  exp->add_option("--split", ex.split_weights, "NAME=WEIGHT[,NAME=WEIGHT...]: assign rows by a seeded hash of --split-key");
  exp->add_option("--split-key", ex.config.split_key, "column whose value (as text) is hashed");
  exp->add_option("--seed", ex.config.seed, "seed of the hash rule (default 0)");
  exp->add_option("--split-column", ex.config.split_column, "column whose values are the split names");
  exp->add_option("--split-input", ex.split_inputs, "NAME=PATH: one input per split (repeatable)");
  exp->add_option("--dest", ex.config.dest, "destination: folder, file://PATH or s3://BUCKET/PREFIX")->required();
  exp->add_option("--run-id", ex.config.run_id, "run id (default: UTC timestamp plus a random suffix)");
  exp->add_option("--shard", ex.shard,
                  "I/N: export the I-th (0-based) of N slices and publish a fragment for `commit`; auto/N reads I "
                  "from JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or SPLITSHIP_SHARD_INDEX");
  exp->add_flag("--mpi", ex.mpi,
                "under mpirun: each rank exports its shard, rank 0 commits once all succeeded"
#ifndef SPLITSHIP_WITH_MPI
                " (this build has no MPI)"
#endif
  );
  exp->add_option("--compression", ex.config.compression, "zstd, snappy or none (default zstd)");
  exp->add_option("--target-file-size", ex.target_file_size, "approximate size of each part (default 256MiB)");
  exp->add_option("--row-group-size", ex.config.row_group_size, "rows per Parquet row group (default 30720)");
  exp->add_option("--length-expr", ex.config.length_expr, "DuckDB SQL expression giving a document's length");
  exp->add_flag("--overwrite", ex.config.overwrite, "replace a published run with the same id");
  exp->add_option("--memory-limit", ex.memory_limit, "DuckDB memory limit (default: what a 1GiB budget leaves after upload buffers, 256-320MiB)");
  exp->add_option("--threads", ex.config.duckdb.threads, "DuckDB threads while staging --split-column/--split-input (default: all cores; --split streams, one thread per query)");
  exp->add_option("--parallel-splits", ex.config.parallel_splits, "--split-column/--split-input: splits written at once (default 2); --split writes every split at once")
      ->check(CLI::PositiveNumber);
  exp->add_option("--work-dir", ex.config.work_dir, "scratch folder for staging (default $TMPDIR or /tmp)");
  exp->add_option("--progress", common.progress, "auto, always or never")->check(CLI::IsMember({"auto", "always", "never"}));
  add_common(*exp, common);
  add_store_options(*exp, ex.store);

  std::string run_url;
  StoreOptions inspect_store;
  CLI::App* insp = app.add_subcommand("inspect", "print a published run's manifest as a table");
  insp->add_option("run", run_url, "DEST/RUN_ID")->required();
  add_common(*insp, common);
  add_store_options(*insp, inspect_store);

  CopyConfig copy;
  StoreOptions copy_store;
  CLI::App* cp = app.add_subcommand("cp", "upload a file (or a folder with --recursive) to s3://, verified by ETag");
  cp->add_option("source", copy.source, "local file or folder")->required();
  cp->add_option("dest", copy.dest, "s3://BUCKET/KEY, or s3://BUCKET/PREFIX/ to keep the file name")->required();
  cp->add_flag("-r,--recursive", copy.recursive, "upload every file under a folder");
  cp->add_option("--parallel-files", copy.parallel_files, "files uploaded at once (default 4)")->check(CLI::PositiveNumber);
  cp->add_option("--progress", common.progress, "auto, always or never")->check(CLI::IsMember({"auto", "always", "never"}));
  add_common(*cp, common);
  add_store_options(*cp, copy_store);

  std::string verify_url;
  bool verify_deep = false;
  StoreOptions verify_store;
  CLI::App* ver = app.add_subcommand("verify", "check a published run against its manifest (metadata only)");
  ver->add_option("run", verify_url, "DEST/RUN_ID")->required();
  ver->add_flag("--deep", verify_deep, "also download every part and re-hash it (md5, sha256, crc64nvme)");
  add_common(*ver, common);
  add_store_options(*ver, verify_store);

  ResumeOptions resume;
  CLI::App* res = app.add_subcommand("resume", "continue an interrupted export with the settings it started with");
  res->add_option("run", resume.run_url, "DEST/RUN_ID")->required();
  res->add_option("--memory-limit", resume.memory_limit, "DuckDB memory limit (default: what a 1GiB budget leaves after upload buffers, 256-320MiB)");
  res->add_option("--threads", resume.threads, "DuckDB threads while staging --split-column/--split-input (default: all cores; --split streams, one thread per query)");
  res->add_option("--parallel-splits", resume.parallel_splits, "--split-column/--split-input: splits written at once (default 2); --split writes every split at once")
      ->check(CLI::PositiveNumber);
  res->add_option("--work-dir", resume.work_dir, "scratch folder for staging (default $TMPDIR or /tmp)");
  res->add_option("--progress", common.progress, "auto, always or never")->check(CLI::IsMember({"auto", "always", "never"}));
  add_common(*res, common);
  add_store_options(*res, resume.store);

  std::string commit_url;
  int commit_shards_n = 0;
  StoreOptions commit_store;
  CLI::App* com = app.add_subcommand("commit", "merge the fragments of a sharded export and publish its manifest");
  com->add_option("run", commit_url, "DEST/RUN_ID")->required();
  com->add_option("--shards", commit_shards_n, "how many shards the run has")->required()->check(CLI::PositiveNumber);
  add_common(*com, common);
  add_store_options(*com, commit_store);

  std::string gc_dest;
  bool gc_yes = false;
  double gc_older_than_h = 24;
  StoreOptions gc_store;
  CLI::App* gc = app.add_subcommand(
      "gc", "list, and with --yes remove, stale multipart uploads, journals of published runs and abandoned runs");
  gc->add_option("dest", gc_dest, "folder or s3://BUCKET/PREFIX holding runs")->required();
  gc->add_flag("--yes", gc_yes, "remove them (default: only list)");
  gc->add_option("--older-than", gc_older_than_h,
                 "hours an upload or unpublished run must be idle (default 24; 0: all not held by a running export)");
  add_common(*gc, common);
  add_store_options(*gc, gc_store);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "splitship: error: %s (see splitship --help)\n", e.what());
    return 2;
  }

  return report_errors([&] {
    if (exp->parsed()) return do_export(ex, *exp, common, cancel);
    if (res->parsed()) return do_resume(resume, common, cancel);
    if (insp->parsed()) return do_inspect(run_url, inspect_store, common, cancel);
    if (cp->parsed()) return do_copy(copy, copy_store, common, cancel);
    if (gc->parsed()) return do_gc(gc_dest, gc_yes, gc_older_than_h, gc_store, common, cancel);
    if (ver->parsed()) return do_verify(verify_url, verify_deep, verify_store, common, cancel);
    if (com->parsed()) return do_commit(commit_url, commit_shards_n, commit_store, common, cancel);
    return 2;
  });
}

}  // namespace splitship::cli
