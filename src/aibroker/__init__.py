"""aibroker: a code-mode agent for JSON-RPC services described by OpenRPC."""

__version__ = "0.1.0"
