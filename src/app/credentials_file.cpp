#include <nocturne/app/credentials_file.hpp>
#include <nocturne/app/trust_files.hpp>

namespace nocturne::app {

std::optional<result<std::vector<wire::Record>>> CredentialsFile::poll() {
    std::error_code ec;
    const auto mtime = std::filesystem::last_write_time(file_, ec);
    const bool first = std::exchange(first_, false);
    if (ec) {
        if (!first) return std::nullopt;
        return result<std::vector<wire::Record>>(Error(errc::not_found, "no " + file_.string()));
    }
    if (!first && mtime_ == mtime) return std::nullopt;
    mtime_ = mtime;
    auto records = load_records(file_);
    if (!records) {
        return result<std::vector<wire::Record>>(
            Error(records.error().code(),
                  "cannot use " + file_.string() + ": " + records.error().message()));
    }
    return records;
}

}  // namespace nocturne::app
