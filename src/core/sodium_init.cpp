#include <nocturne/core/sodium_init.hpp>

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace nocturne {

void ensure_sodium() noexcept {
    static const bool ready = [] {
        if (sodium_init() < 0) {
            std::fputs("fatal: libsodium failed to initialise\n", stderr);
            std::abort();
        }
        return true;
    }();
    (void)ready;
}

}  // namespace nocturne
