"""Streaming: pure event builders, the assembler that drives them, and the SSE writer."""
