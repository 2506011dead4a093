// What the peer manager needs of a transport: send, close, dial. The
// WebSocket Transport provides it (TransportLink); tests use a fake.
#pragma once

#include <string>

#include "p2p/transport.h"
#include "util/url.h"

namespace powchain::p2p {

class PeerLink {
 public:
  virtual ~PeerLink() = default;
  // Non-blocking; see Transport for the contracts.
  virtual bool Send(PeerId id, std::string text) = 0;
  virtual void Close(PeerId id, const std::string& reason) = 0;
  virtual void Dial(const PeerUrl& url) = 0;
};

class TransportLink final : public PeerLink {
 public:
  explicit TransportLink(Transport& transport) : transport_(transport) {}
  bool Send(PeerId id, std::string text) override { return transport_.Send(id, std::move(text)); }
  void Close(PeerId id, const std::string& reason) override { transport_.Close(id, reason); }
  void Dial(const PeerUrl& url) override { transport_.Dial(url); }

 private:
  Transport& transport_;  // not owned
};

}  // namespace powchain::p2p
