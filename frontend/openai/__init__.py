"""OpenAI wire models: request bodies Portico accepts, validated with pydantic."""
