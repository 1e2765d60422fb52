# SERVICE: mycelium
# SUMMARY: This is the specification of the Mycelium JSON-RPC API.
# ENDPOINT: http://localhost:8990
# USAGE: from mycelium import Mycelium; mycelium = Mycelium.connect()
class Mycelium:
    def get_info() -> Info: """Get general info about the node"""
    def get_peers() -> list[PeerStats]: """List known peers"""
    def add_peer(endpoint: str) -> bool: """Add a new peer"""
    def delete_peer(endpoint: str) -> bool: """Remove an existing peer"""
    def get_selected_routes() -> list[Route]
    def get_fallback_routes() -> list[Route]: """List all active fallback routes"""
    def get_queried_subnets() -> list[QueriedSubnet]: """List all currently queried subnets"""
    def pop_message(*, peek: bool = None, timeout: int = None, topic: str = None) -> InboundMessage: """Get a message from the inbound message queue"""
    def push_message(message: PushMessageBody, *, reply_timeout: int = None) -> InboundMessage | PushMessageResponseId: """Submit a new message to the system"""
    def push_message_reply(id: str, message: PushMessageBody) -> bool
    def get_message_info(id: str) -> MessageStatusResponse: """Get the status of an outbound message"""
    def get_public_key_from_ip(mycelium_ip: str) -> PublicKeyResponse: """Get the pubkey from node ip"""
    def get_default_topic_action() -> bool
    def set_default_topic_action(accept: bool) -> bool
    def get_topics() -> list[str]: """Get all configured topics"""
    def add_topic(topic: str) -> bool: """Add a new topic"""
    def remove_topic(topic: str) -> bool
    def get_topic_sources(topic: str) -> list[str]
    def add_topic_source(topic: str, subnet: str) -> bool
    def remove_topic_source(topic: str, subnet: str) -> bool
    def get_topic_forward_socket(topic: str) -> str | None
    def set_topic_forward_socket(topic: str, socket_path: str) -> bool
    def remove_topic_forward_socket(topic: str) -> bool
    def get_proxies() -> list[str]: """List known proxies"""
    def connect_proxy(*, remote: str = None) -> str
    def disconnect_proxy() -> bool: """Disconnect from the current proxy"""
    def start_proxy_probe() -> bool
    def stop_proxy_probe() -> bool
    def get_packet_statistics() -> PacketStatistics
class Info: nodeSubnet?, nodeIp?, nodePubkey?: str; nodeStartTime?: int
class PeerStats: endpoint?: Endpoint; type_?: "static"|"inbound"|"linkLocalDiscovery"
    connectionState?: "alive"|"connecting"|"dead"; txBytes?, rxBytes?: int
class Endpoint: proto?: "tcp"|"quic"; socketAddr?: str
class Route: subnet?, nextHop?: str; metric?: int | str; seqno?: int
class QueriedSubnet: subnet?, expiration?: str
class InboundMessage: id?, srcIp?, srcPk?, dstIp?, dstPk?, topic?, payload?: str
class PushMessageBody: dst?: MessageDestination; topic?, payload?: str
class MessageDestination1: ip?: str
class MessageDestination2: pk?: str
class PushMessageResponseId: id?: str
class MessageStatusResponse: dst?: str; state?: TransmissionState; created?, deadline?, msgLen?: int
class TransmissionState2: sending?: TransmissionState2Sending
class TransmissionState2Sending: pending?, sent?, acked?: int
class PublicKeyResponse: NodePubKey?: str
class PacketStatistics: bySource?, byDestination?: list[PacketStatEntry]
class PacketStatEntry: ip?: str; packetCount?, byteCount?: int
MessageDestination = MessageDestination1 | MessageDestination2
TransmissionState = "pending"|"received"|"read"|"aborted" | TransmissionState2
# Errors by code: MalformedEndpoint(400), NoMessageReady(204), NoValidProxyAvailableConnection(-32032), PeerAlreadyExists(409), PeerDoesnTExist(404), SystemTimedOutWaitingReply(408)
