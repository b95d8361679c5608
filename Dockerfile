# Portico's two images, one per container of the pod (charts/portico runs them together):
#
#   docker build --target frontend  -t portico-frontend .   # Sanic frontend: slim Python, no vLLM
#   docker build --target inference -t portico-inference .  # the sidecar, on vLLM's CUDA image
#
# Both run as the non-root user portico (uid 10001, gid 10001): the chart's securityContext and
# fsGroup match it, so both containers can use the socket in their shared emptyDir.
# No secret is baked in: API keys, reasoning keys and the Redis URL come from the pod's
# environment (the chart's Secret). docs/deploy.md says what was verified about this file.

ARG PYTHON_IMAGE=python:3.12.12-slim-bookworm
# vLLM's official CUDA image; keep it within pyproject.toml's supported range (0.26 to 0.33).
ARG VLLM_IMAGE=vllm/vllm-openai:v0.32.0

# --- frontend ------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS frontend
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system --gid 10001 portico \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/portico portico
WORKDIR /src
# Only what the frontend runs: its code, the middleware and the socket protocol (stdlib and
# msgspec); not the sidecar's engine code, nor vLLM (an optional extra left out here).
COPY pyproject.toml README.md ./
COPY frontend/ frontend/
COPY middleware/ middleware/
COPY inference/__init__.py inference/
COPY inference/protocol/ inference/protocol/
RUN pip install --no-cache-dir /src && rm -rf /src
WORKDIR /home/portico
USER 10001:10001
ENV PORTICO_SIDECAR_SOCKET=/run/portico/sidecar.sock
EXPOSE 8000
ENTRYPOINT ["sanic", "frontend.app"]
CMD ["--host", "0.0.0.0", "--port", "8000", "--workers", "1", "--no-motd"]

# --- inference (the sidecar) ---------------------------------------------------------------
FROM ${VLLM_IMAGE} AS inference
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/opt/portico \
    HOME=/home/portico \
    HF_HOME=/home/portico/.cache/huggingface \
    VLLM_CACHE_ROOT=/home/portico/.cache/vllm
RUN groupadd --gid 10001 portico \
    && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/portico portico
# The sidecar's code only; vLLM, msgspec and uvloop come with the base image.
COPY inference/ /opt/portico/inference/
WORKDIR /home/portico
USER 10001:10001
ENTRYPOINT ["python3", "-m", "inference"]
CMD ["--socket", "/run/portico/sidecar.sock", "--help"]
