// Boost.URL's compiled part, once for the whole program (Debian's Boost ships no libboost_url):
// api/target.cpp parses request targets with it.
#include <boost/url/src.hpp>
