# Every dependency is a Debian 12 package; tools/dev/install-deps.sh installs them.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium>=1.0.18)
find_package(Boost 1.81 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(SQLiteCpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Threads REQUIRED)
if(NOCTURNE_BUILD_TESTS)
    find_package(GTest REQUIRED)
endif()
if(NOCTURNE_BUILD_BENCH)
    # Only micro_bench needs it; a runtime-only install (tools/run-node.sh) builds the node without.
    find_package(benchmark QUIET)
endif()

# Logging goes through nocturne_spdlog so that a portable build can swap the shared spdlog/fmt
# for their header-only forms.
add_library(nocturne_spdlog INTERFACE)
if(NOCTURNE_PORTABLE)
    # A binary for the npm platform package: it needs only the C library (glibc >= the build
    # machine's) and runs where Debian's libsodium, libsqlite3, libspdlog and libfmt are absent.
    find_library(NOCTURNE_SODIUM_STATIC NAMES libsodium.a REQUIRED)
    find_library(NOCTURNE_SQLITE_STATIC NAMES libsqlite3.a REQUIRED)
    set_target_properties(PkgConfig::SODIUM PROPERTIES INTERFACE_LINK_LIBRARIES
        "${NOCTURNE_SODIUM_STATIC};Threads::Threads")
    set_target_properties(SQLite::SQLite3 PROPERTIES IMPORTED_LOCATION "${NOCTURNE_SQLITE_STATIC}"
        INTERFACE_LINK_LIBRARIES "Threads::Threads;dl;m")
    set_target_properties(spdlog::spdlog_header_only PROPERTIES INTERFACE_LINK_LIBRARIES
        "Threads::Threads;fmt::fmt-header-only")
    target_link_libraries(nocturne_spdlog INTERFACE spdlog::spdlog_header_only)
    add_link_options(-static-libstdc++ -static-libgcc)
else()
    target_link_libraries(nocturne_spdlog INTERFACE spdlog::spdlog)
endif()
