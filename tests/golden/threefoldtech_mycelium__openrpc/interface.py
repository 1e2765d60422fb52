# SERVICE: mycelium
# SUMMARY: This is the specification of the Mycelium JSON-RPC API.
# ENDPOINT: http://localhost:8990
# USAGE: from mycelium import Mycelium; mycelium = Mycelium.connect()
# Results are the models below (use attributes; fields typed `X | None` may be absent). A failed call raises JsonRpcError (.code, .message, .data).
class Mycelium:
    def get_info() -> Info: """Get general info about the node"""
    def get_peers() -> list[PeerStats]: """List known peers"""
    def add_peer(endpoint: str) -> bool: """Add a new peer"""
    def delete_peer(endpoint: str) -> bool: """Remove an existing peer"""
    def get_selected_routes() -> list[Route]: """List all selected routes"""
    def get_fallback_routes() -> list[Route]: """List all active fallback routes"""
    def get_queried_subnets() -> list[QueriedSubnet]: """List all currently queried subnets"""
    def pop_message(*, peek: bool | None = None, timeout: int | None = None, topic: str | None = None) -> InboundMessage: """Get a message from the inbound message queue"""
    def push_message(message: PushMessageBody, *, reply_timeout: int | None = None) -> InboundMessage | PushMessageResponseId: """Submit a new message to the system"""
    def push_message_reply(id: str, message: PushMessageBody) -> bool: """Reply to a message with the given ID"""
    def get_message_info(id: str) -> MessageStatusResponse: """Get the status of an outbound message"""
    def get_public_key_from_ip(mycelium_ip: str) -> PublicKeyResponse: """Get the pubkey from node ip"""
    def get_default_topic_action() -> bool: """Get the default topic action"""
    def set_default_topic_action(accept: bool) -> bool: """Set the default topic action"""
    def get_topics() -> list[str]: """Get all configured topics"""
    def add_topic(topic: str) -> bool: """Add a new topic"""
    def remove_topic(topic: str) -> bool: """Remove a topic"""
    def get_topic_sources(topic: str) -> list[str]: """Get sources for a topic"""
    def add_topic_source(topic: str, subnet: str) -> bool: """Add a source to a topic"""
    def remove_topic_source(topic: str, subnet: str) -> bool: """Remove a source from a topic"""
    def get_topic_forward_socket(topic: str) -> str | None: """Get the forward socket for a topic"""
    def set_topic_forward_socket(topic: str, socket_path: str) -> bool: """Set the forward socket for a topic"""
    def remove_topic_forward_socket(topic: str) -> bool: """Remove the forward socket for a topic"""
    def get_proxies() -> list[str]: """List known proxies"""
    def connect_proxy(*, remote: str | None = None) -> str: """Connect to a proxy"""
    def disconnect_proxy() -> bool: """Disconnect from the current proxy"""
    def start_proxy_probe() -> bool: """Start proxy probe"""
    def stop_proxy_probe() -> bool: """Stop proxy probe"""
    def get_packet_statistics() -> PacketStatistics: """Get packet statistics"""


class Info(BaseModel): nodeSubnet: str | None; nodeIp: str | None; nodePubkey: str | None; nodeStartTime: int | None
class PeerStats(BaseModel):
    endpoint: Endpoint | None
    type_: Literal["static", "inbound", "linkLocalDiscovery"] | None
    connectionState: Literal["alive", "connecting", "dead"] | None
    txBytes: int | None
    rxBytes: int | None
class Endpoint(BaseModel): proto: Literal["tcp", "quic"] | None; socketAddr: str | None
class Route(BaseModel): subnet: str | None; nextHop: str | None; metric: int | str | None; seqno: int | None
class QueriedSubnet(BaseModel): subnet: str | None; expiration: str | None
class InboundMessage(BaseModel):
    id: str | None
    srcIp: str | None
    srcPk: str | None
    dstIp: str | None
    dstPk: str | None
    topic: str | None
    payload: str | None
class PushMessageBody(BaseModel): dst: MessageDestination | None; topic: str | None; payload: str | None
class MessageDestination1(BaseModel): ip: str | None
class MessageDestination2(BaseModel): pk: str | None
class PushMessageResponseId(BaseModel): id: str | None
class MessageStatusResponse(BaseModel):
    dst: str | None
    state: TransmissionState | None
    created: int | None
    deadline: int | None
    msgLen: int | None
class TransmissionState2(BaseModel): sending: TransmissionState2Sending | None
class TransmissionState2Sending(BaseModel): pending: int | None; sent: int | None; acked: int | None
class PublicKeyResponse(BaseModel): NodePubKey: str | None
class PacketStatistics(BaseModel): bySource: list[PacketStatEntry] | None; byDestination: list[PacketStatEntry] | None
class PacketStatEntry(BaseModel): ip: str | None; packetCount: int | None; byteCount: int | None
MessageDestination = MessageDestination1 | MessageDestination2
TransmissionState = Literal["pending", "received", "read", "aborted"] | TransmissionState2


class MalformedEndpoint(JsonRpcError): code = 400  # Malformed endpoint
class NoMessageReady(JsonRpcError): code = 204  # No message ready
class NoValidProxyAvailableConnection(JsonRpcError): code = -32032  # No valid proxy available or connection failed
class PeerAlreadyExists(JsonRpcError): code = 409  # Peer already exists
class PeerDoesnTExist(JsonRpcError): code = 404  # Peer doesn't exist
class SystemTimedOutWaitingReply(JsonRpcError): code = 408  # The system timed out waiting for a reply to the message

