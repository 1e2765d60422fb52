# SERVICE: simple_math
# SUMMARY: A simple math example
# USAGE: from simple_math import SimpleMath; simple_math = SimpleMath.connect()
class SimpleMath:
    def addition(*, a: int = None, b: int = None) -> int: ...
    def subtraction(*, a: int = None, b: int = None) -> int: ...
# Errors: JsonRpcError (.code, .message, .data)
