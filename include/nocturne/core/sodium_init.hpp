#pragma once

namespace nocturne {

// Initialises libsodium once per process (thread-safe, idempotent). Every wrapper around libsodium
// calls this first, so no caller has to remember to. Aborts if the library cannot initialise,
// because then no key or signature could be trusted.
void ensure_sodium() noexcept;

}  // namespace nocturne
