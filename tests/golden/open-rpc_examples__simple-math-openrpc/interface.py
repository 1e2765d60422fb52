# SERVICE: simple_math
# SUMMARY: A simple math example
# ENDPOINT: http://demo.simple-math.example.org:443/jsonrpc/
# USAGE: from simple_math import SimpleMath; simple_math = SimpleMath.connect()
class SimpleMath:
    def addition(*, a: int = None, b: int = None) -> int
    def subtraction(*, a: int = None, b: int = None) -> int
