// The settings that decide an export's output, as the journal records them: a resume must
// use the same ones, and `splitship resume` rebuilds the configuration from them.
#include "export/journal.hpp"
#include "splitship/error.hpp"
#include "splitship/fs.hpp"
#include "splitship/export.hpp"

namespace splitship {
namespace {

using json = nlohmann::ordered_json;

std::string absolute(const std::string& path) { return path.rfind("s3://", 0) == 0 ? path : absolute_path(path); }

const char* mode_name(SplitMode mode) {
  switch (mode) {
    case SplitMode::Hash: return "hash";
    case SplitMode::Column: return "column";
    case SplitMode::PerInput: return "input";
  }
  return "";
}

// The flag a user changes to change each recorded setting, for messages.
const char* flag_of(const std::string& field) {
  static const std::pair<const char*, const char*> flags[] = {
      {"inputs", "--input"},           {"format", "--format"},
      {"split_mode", "the split rule (--split, --split-column or --split-input)"},
      {"weights", "--split"},          {"split_key", "--split-key"},
      {"seed", "--seed"},              {"split_column", "--split-column"},
      {"split_inputs", "--split-input"}, {"compression", "--compression"},
      {"target_file_size", "--target-file-size"}, {"row_group_size", "--row-group-size"},
      {"length_expr", "--length-expr"}};
  for (const auto& [f, flag] : flags)
    if (field == f) return flag;
  return "a setting";
}

}  // namespace

json export_config_to_json(const ExportConfig& c) {
  json inputs = json::array();
  for (const auto& i : c.inputs) inputs.push_back(absolute(i));
  json weights = json::array();
  for (const auto& w : c.weights) weights.push_back({{"name", w.name}, {"weight", w.weight}});
  json split_inputs = json::array();
  for (const auto& [name, path] : c.split_inputs) split_inputs.push_back({{"name", name}, {"path", absolute(path)}});
  return {{"inputs", inputs},
          {"format", c.format ? json(to_string(*c.format)) : json(nullptr)},
          {"split_mode", mode_name(c.mode)},
          {"weights", weights},
          {"split_key", c.split_key},
          {"seed", c.seed},
          {"split_column", c.split_column},
          {"split_inputs", split_inputs},
          {"compression", c.compression},
          {"target_file_size", c.target_file_size},
          {"row_group_size", c.row_group_size},
          {"length_expr", c.length_expr}};
}

void export_config_from_json(const json& j, ExportConfig& c) {
  try {
    c.inputs.clear();
    for (const auto& i : j.at("inputs")) c.inputs.push_back(i.get<std::string>());
    c.format.reset();
    if (!j.at("format").is_null()) c.format = format_from_name(j.at("format").get<std::string>());
    const std::string mode = j.at("split_mode");
    c.mode = mode == "hash" ? SplitMode::Hash : mode == "column" ? SplitMode::Column : SplitMode::PerInput;
    c.weights.clear();
    for (const auto& w : j.at("weights")) c.weights.push_back({w.at("name"), w.at("weight")});
    c.split_key = j.at("split_key");
    c.seed = j.at("seed");
    c.split_column = j.at("split_column");
    c.split_inputs.clear();
    for (const auto& s : j.at("split_inputs")) c.split_inputs.emplace_back(s.at("name"), s.at("path"));
    c.compression = j.at("compression");
    c.target_file_size = j.at("target_file_size");
    c.row_group_size = j.at("row_group_size");
    c.length_expr = j.at("length_expr");
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::Input, std::string("the journal's settings are incomplete: ") + e.what(),
         "start over with `splitship export --overwrite`");
  }
}

std::optional<std::string> describe_config_change(const json& then, const json& now) {
  for (const auto& [field, value] : now.items()) {
    const json before = then.contains(field) ? then.at(field) : json(nullptr);
    if (before == value) continue;
    return std::string(flag_of(field)) + " was " + before.dump() + " and is now " + value.dump();
  }
  return std::nullopt;
}

ExportConfig read_journaled_config(Store& store, const std::string& run_id, Logger& log) {
  Journal journal(store, run_id, log);
  const auto run = journal.read_run();
  if (!run) {
    if (store.head(run_id + "/" + kManifestName))
      fail(ErrorKind::Usage, "run " + run_id + " is already published at " + store.url_of(run_id + "/" + kManifestName),
           "nothing to resume");
    fail(ErrorKind::Usage, "nothing to resume at " + store.url_of(run_id) + ": it has no journal (" +
                               store.url_of(journal.run_key()) + " is missing)",
         "check the destination and run id, or start a new export");
  }
  ExportConfig config;
  export_config_from_json(run->at("config"), config);
  config.run_id = run_id;
  return config;
}

}  // namespace splitship
