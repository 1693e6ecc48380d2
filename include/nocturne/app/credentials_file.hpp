#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/wire/record.hpp>

#include <filesystem>
#include <optional>
#include <vector>

namespace nocturne::app {

// A node's own credentials on disk (trust/credentials.json, written by `enroll`), watched so that
// enrolling does not need a restart: the agent polls it every few seconds (AgentHooks).
//
// Owned by the thread that runs the agent; not thread-safe.
class CredentialsFile {
public:
    explicit CredentialsFile(std::filesystem::path file) : file_(std::move(file)) {}

    // The records when the file changed since the last call (or on the first call); nullopt when
    // unchanged; an error saying what is wrong with the file (a missing file is reported once).
    std::optional<result<std::vector<wire::Record>>> poll();

private:
    std::filesystem::path file_;
    std::optional<std::filesystem::file_time_type> mtime_;
    bool first_ = true;
};

}  // namespace nocturne::app
