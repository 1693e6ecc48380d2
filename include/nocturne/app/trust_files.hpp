#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/trust/genesis.hpp>
#include <nocturne/wire/record.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace nocturne::app {

// The genesis in force: `file` when given (--genesis), else the one compiled in. An error's
// message says what is wrong in one line, naming the file.
result<trust::Genesis> load_genesis(const std::optional<std::filesystem::path>& file);

// A list of signed records on disk ({"version":1,"records":[...]}), written atomically with mode
// 0600 and read strictly: every record is verified again on load.
std::error_code save_records(const std::filesystem::path& file,
                             const std::vector<wire::Record>& records);
result<std::vector<wire::Record>> load_records(const std::filesystem::path& file);

// The operator's label, as `setup` recorded it.
std::error_code save_operator_label(const std::filesystem::path& file, const std::string& label);
result<std::string> load_operator_label(const std::filesystem::path& file);

}  // namespace nocturne::app
