#include <nocturne/app/home.hpp>

#include <cstdlib>
#include <sys/stat.h>

namespace nocturne::app {
namespace {

std::error_code make_private_dir(const std::filesystem::path& dir) {
    std::error_code ec;
    if (std::filesystem::exists(dir, ec)) {
        if (!std::filesystem::is_directory(dir, ec)) {
            return std::make_error_code(std::errc::not_a_directory);
        }
        return {};
    }
    std::filesystem::create_directories(dir, ec);
    if (ec) return ec;
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
    return ec;
}

}  // namespace

result<std::filesystem::path> resolve_home(const std::optional<std::string>& flag) {
    if (flag && !flag->empty()) return std::filesystem::absolute(*flag);
    if (const char* env = std::getenv("NOCTURNE_HOME"); env != nullptr && *env != '\0') {
        return std::filesystem::absolute(env);
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        return std::filesystem::path(home) / ".nocturne";
    }
    return make_error_code(errc::missing_field);
}

std::error_code prepare_home(const std::filesystem::path& home) {
    if (auto ec = make_private_dir(home)) return ec;
    struct stat st {};
    if (::stat(home.c_str(), &st) != 0) return {errno, std::generic_category()};
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) return make_error_code(errc::key_file_insecure);
    const HomeLayout layout{home};
    for (const auto& dir :
         {layout.keys_dir(), layout.dht_dir(), layout.logs_dir(), layout.trust_dir()}) {
        if (auto ec = make_private_dir(dir)) return ec;
    }
    return {};
}

}  // namespace nocturne::app
