// How the network layers name addresses in logs and errors.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <string>

namespace powchain::net {

// "host:port", with an IPv6 host in brackets ("[::1]:5001").
std::string EndpointText(const std::string& host, std::uint16_t port);

// The address as text; an IPv4 address seen through an IPv6 socket
// (::ffff:a.b.c.d) is shown as IPv4.
std::string AddressText(const boost::asio::ip::address& address);

}  // namespace powchain::net
