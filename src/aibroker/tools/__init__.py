"""LangChain tools: one ``StructuredTool`` per service method, plus the broker tools."""

from __future__ import annotations

from aibroker.tools.broker import broker_tools
from aibroker.tools.methods import all_method_tools, method_tools, tool_name

__all__ = ["all_method_tools", "broker_tools", "method_tools", "tool_name"]
