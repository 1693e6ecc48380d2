#pragma once

#include <nocturne/core/node_id.hpp>
#include <nocturne/dht/transport.hpp>
#include <nocturne/wire/payloads.hpp>
#include <nocturne/wire/record.hpp>

#include <cstddef>
#include <span>
#include <system_error>
#include <vector>

namespace nocturne::dht {

// Decides whether a record may be stored or believed beyond signature, key and time checks: the
// Web of Trust plugs in here (enrolled, unrevoked authors only). dht/ knows nothing of trust.
//
// Called on the thread that owns the node.
class RecordPolicy {
public:
    enum class Use {
        store,  // a STORE to this node (from = the sending peer, or this node's own put)
        read,   // a record in a FIND_VALUE answer (from = the answering peer)
    };

    virtual ~RecordPolicy() = default;
    // The certificates a message carried (see wire::Store), once per message, before admit() is
    // asked about its records.
    virtual void learn_credentials(std::span<const wire::Record> credentials) = 0;
    // credentials: the same certificates again, for reference. Returns an errc, or success.
    virtual std::error_code admit(const wire::Record& record,
                                  std::span<const wire::Record> credentials, const NodeId& from,
                                  Use use) = 0;
    // The certificates this node attaches when it sends `record` in a FIND_VALUE answer or a
    // gossip message, at most `limit`: the record's own proof and this node's chain.
    virtual std::vector<wire::Record> credentials_for(const wire::Record& record,
                                                      std::size_t limit) = 0;
    // What a STORE of `record` carries, at most `limit`: only what the receiver cannot have from
    // our session. Our own chain was presented once, at the handshake (learn_peer on its side),
    // so a put of our own record carries nothing; a replica of another's record carries its
    // author's chain. A receiver that lacks our session's certificates (we enrolled after the
    // session began, or it forgot them) refuses with untrusted_peer or unknown_agent, and the
    // node sends that STORE once more with credentials_for().
    virtual std::vector<wire::Record> store_credentials(const wire::Record& record,
                                                        std::size_t limit) = 0;

    // The certificates a peer presented for its session (the same object for every message of
    // one session). A policy may judge them only when it is asked about that peer.
    virtual void learn_peer(const NodeId& peer, const PeerCredentials& credentials) = 0;
    // Whether a node may hold records and count in a put or a read: an enrolled agent (node ids
    // are free to mint; enrolment is not). Nodes that are not still route and read.
    virtual bool storer(const NodeId& node) = 0;
};

}  // namespace nocturne::dht
