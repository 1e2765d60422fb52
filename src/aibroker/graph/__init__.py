"""The LangGraph agent: state, context, routing and the builder (``aibroker.graph.builder``).

Import :func:`aibroker.graph.builder.build_graph` from its module; this package stays light
so that importing the state or the context does not compile a graph.
"""
