"""Contracts: the pydantic models every service and the gateway speak (rule 3).

One module per service: its RPC inputs and outputs, and (from the reliable-events issue on) the
events it publishes. Contracts import only pydantic and each other.
"""
