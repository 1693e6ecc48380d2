// The one translation unit that compiles Asio and Beast (BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION are set on nocturne_asio): every other file that uses them gets
// declarations only, which keeps each of those TUs from re-instantiating the whole library.

#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
