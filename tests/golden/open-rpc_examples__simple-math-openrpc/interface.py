# SERVICE: simple_math
# SUMMARY: A simple math example
# ENDPOINT: http://demo.simple-math.example.org:443/jsonrpc/
# USAGE: from simple_math import SimpleMath; simple_math = SimpleMath.connect()
# Results are the models below (use attributes; fields typed `X | None` may be absent). A failed call raises JsonRpcError (.code, .message, .data).
class SimpleMath:
    def addition(*, a: int | None = None, b: int | None = None) -> int: """Call addition."""
    # simple_math.addition() -> 4
    def subtraction(*, a: int | None = None, b: int | None = None) -> int: """Call subtraction."""
    # simple_math.subtraction() -> 2

