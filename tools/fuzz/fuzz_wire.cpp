// Fuzzes the decoders of untrusted input: session messages (what a peer seals in its channel: it
// may say anything), records, both as raw frames (everything up to the signature check) and as
// bodies signed with a fixed key (so the fuzzer reaches the field and payload parsing that a valid
// signature unlocks), and sealed frames opened by a channel; records that decode go on through
// the Web of Trust's certificate, agent-certificate and revocation readers and a TrustState; and
// the trust files a user hands to the CLI (genesis, endorsement, revocation signature).
//
//   build/fuzz/tools/fuzz/fuzz_wire -dict=tools/fuzz/wire.dict -max_total_time=60 corpus/

#include <nocturne/compute/reflection.hpp>
#include <nocturne/compute/task.hpp>
#include <nocturne/core/hex.hpp>
#include <nocturne/crypto/channel.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/dht/ip_group.hpp>
#include <nocturne/knowledge/entry_records.hpp>
#include <nocturne/net/handshake.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/anomaly_report.hpp>
#include <nocturne/trust/certificate.hpp>
#include <nocturne/trust/endorsement.hpp>
#include <nocturne/trust/genesis.hpp>
#include <nocturne/trust/quarantine.hpp>
#include <nocturne/trust/revocation.hpp>
#include <nocturne/trust/trust_state.hpp>
#include <nocturne/vote/ballot.hpp>
#include <nocturne/wire/envelope.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>
#include <nocturne/wire/record.hpp>
#include <nocturne/wire/signed_blob.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

const nocturne::crypto::KeyPair& fuzz_key() {
    static const auto keys = nocturne::crypto::KeyPair::from_seed(nocturne::crypto::Seed{7});
    return keys;
}

std::string signed_frame(std::string_view domain, std::string body) {
    auto blob = nocturne::wire::sign_blob(domain, std::move(body), fuzz_key());
    return nocturne::wire::to_compact_json(nocturne::wire::blob_to_json(blob));
}

// One session's keys (an acceptor's), for the channel and the handshake's key confirmation.
const nocturne::crypto::ChannelKeys& fuzz_channel() {
    static const auto dialer = nocturne::crypto::EphemeralKey::generate();
    static const auto acceptor = nocturne::crypto::EphemeralKey::generate();
    static const auto keys =
        nocturne::crypto::ChannelKeys::derive(false, acceptor, dialer.public_key()).value();
    return keys;
}

// Whatever decodes as a record is also read as each kind of record a service reads (trust,
// knowledge, votes, tasks, reflections, quarantines, anomaly reports), and judged.
void trust_paths(const nocturne::result<nocturne::wire::Record>& record) {
    if (!record) return;
    (void)nocturne::trust::certificate_from_record(*record);
    (void)nocturne::trust::agent_certificate_from_record(*record);
    (void)nocturne::trust::revocation_from_record(*record);
    (void)nocturne::trust::quarantine_from_record(*record);
    (void)nocturne::trust::report_from_record(*record, nocturne::trust::AnomalyRules{});
    (void)nocturne::knowledge::entry_from_record(*record);
    (void)nocturne::knowledge::announcement_from_record(*record);
    (void)nocturne::vote::commit_from_record(*record);
    (void)nocturne::vote::reveal_from_record(*record);
    (void)nocturne::compute::task_from_record(*record);
    (void)nocturne::compute::claim_from_record(*record);
    (void)nocturne::compute::grant_from_record(*record);
    (void)nocturne::compute::result_from_record(*record);
    (void)nocturne::compute::reflection_from_record(*record);
    static nocturne::store::MemoryStore store;
    static nocturne::trust::TrustState state(
        nocturne::trust::parse_genesis(nocturne::trust::builtin_genesis_text()).value(), store,
        1'800'000'000);
    (void)state.check_record(*record, 1'800'000'000);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 9) {
        case 0:
            (void)nocturne::wire::decode_message(input);
            (void)nocturne::wire::peek_request_id(input);
            break;
        case 1:
            trust_paths(nocturne::wire::decode_record(input));
            break;
        case 2: {
            // A frame of a peer's stream: only what the peer's own key sealed opens.
            nocturne::crypto::ChannelReceiver receiver(fuzz_channel(),
                                                       nocturne::crypto::StreamHeader{});
            (void)receiver.open(input);
            break;
        }
        case 3:
            trust_paths(nocturne::wire::decode_record(
                signed_frame(nocturne::wire::record_domain, std::string(input))));
            break;
        case 4:
            (void)nocturne::trust::parse_genesis(input);
            break;
        case 5:
            (void)nocturne::trust::parse_endorsement_file(input);
            break;
        case 6:
            (void)nocturne::trust::parse_revocation_share(input);
            break;
        case 7:
            // The handshake frames, an AUTH body signed or not, and every address parser a
            // peer's claim goes through.
            (void)nocturne::net::parse_hello(input);
            (void)nocturne::net::verify_auth(input, {}, {}, fuzz_channel(), true);
            (void)nocturne::net::verify_auth(
                signed_frame(nocturne::net::handshake_domain, std::string(input)), {}, {},
                fuzz_channel(), true);
            (void)nocturne::net::parse_ws_address(input);
            (void)nocturne::dht::address_at(input, "10.1.2.3");
            (void)nocturne::dht::address_at(input, "2001:db8::1");
            (void)nocturne::dht::ip_group_of(input, false);
            (void)nocturne::wire::is_contact_address(input);
            break;
        case 8:
            // What a store reads back from its own file (verified when written).
            (void)nocturne::wire::decode_stored_record(input);
            break;
    }
    return 0;
}
