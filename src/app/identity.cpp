#include <nocturne/app/identity.hpp>
#include <nocturne/crypto/key_file.hpp>

namespace nocturne::app {

result<crypto::KeyPair> load_or_create_node_key(const std::filesystem::path& key_file,
                                                bool& created) {
    created = false;
    auto loaded = crypto::load_key_file(key_file);
    if (loaded || loaded.error() != make_error_code(errc::key_file_missing)) return loaded;
    auto keys = crypto::KeyPair::generate();
    if (auto ec = crypto::save_key_file(key_file, keys)) return ec;
    created = true;
    return keys;
}

}  // namespace nocturne::app
