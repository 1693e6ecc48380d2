#pragma once

namespace nocturne {

// Builds one visitor for std::visit out of several lambdas.
template <class... Fs>
struct overloaded : Fs... {
    using Fs::operator()...;
};
// Clang 14 has no class template argument deduction for aggregates yet.
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

}  // namespace nocturne
