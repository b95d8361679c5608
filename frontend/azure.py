"""Azure OpenAI's dialect of the Responses API: accepted `api-version`s, deployments, and the
values of the settings that describe them (AZURE_API_VERSIONS, AZURE_DEPLOYMENTS,
AZURE_REGION).

Azure serves the same operations under `/openai/...` (routes/azure.py): a dated API needs
`?api-version=`, the v1 API (`/openai/v1/`) takes one optionally, and a deployment
(`/openai/deployments/{name}/...`, or a deployment name as the body's `model`) stands for a
model. The checks here raise the errors Azure answers with (errors.ApiVersionUnsupported,
errors.DeploymentNotFound); middleware/azure.py applies them to a request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from .errors import ApiVersionUnsupported, DeploymentNotFound

QUERY = "api-version"
ANY_VERSION = "*"  # in AZURE_API_VERSIONS: every value is accepted
DEFAULT_API_VERSIONS = "2025-03-01-preview,2025-04-01-preview,preview,latest,v1"

# A route's dialect (route.ctx.azure): the dated API needs an api-version, v1 does not.
DATED, V1 = "dated", "v1"

_NAME = re.compile(r"^[A-Za-z0-9._:-]{1,256}$")  # a deployment name: one path segment
_VERSION = re.compile(r"^[A-Za-z0-9._*-]{1,64}$")
_HEADER_VALUE = re.compile(r"^[\x21-\x7e]([\x20-\x7e]{0,254}[\x21-\x7e])?$")


def _items(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@lru_cache(maxsize=8)
def parse_versions(text: str) -> frozenset[str]:
    """The accepted api-versions of an AZURE_API_VERSIONS value; ValueError when malformed."""
    versions = _items(text)
    if not versions:
        raise ValueError("expects at least one api-version (or * for any)")
    if not all(_VERSION.match(version) for version in versions):
        raise ValueError("expects api-versions such as 2025-04-01-preview separated by commas")
    return frozenset(versions)


def check_versions(text: str) -> None:
    """The AZURE_API_VERSIONS setting's check (config.Setting.check)."""
    parse_versions(text)


@lru_cache(maxsize=8)
def parse_deployments(text: str) -> Mapping[str, str]:
    """`deployment=model,...` as a map; ValueError when malformed or a name repeats."""
    deployments: dict[str, str] = {}
    for pair in _items(text):
        name, sep, model = (part.strip() for part in pair.partition("="))
        if not sep or not name or not model:
            raise ValueError("expects deployment=model pairs separated by commas")
        if not _NAME.match(name):
            raise ValueError("expects deployment names of letters, digits and ._:- only")
        if name in deployments:
            raise ValueError("names a deployment twice")
        deployments[name] = model
    return deployments


def check_deployments(text: str) -> None:
    """The AZURE_DEPLOYMENTS setting's check (config.Setting.check)."""
    parse_deployments(text)


def check_header_value(text: str) -> None:
    """A setting sent as a response header (AZURE_REGION, OPENAI_ORGANIZATION): printable
    ASCII on one line, without leading or trailing spaces; empty leaves the header out."""
    if text and not _HEADER_VALUE.match(text):
        raise ValueError("expects printable ASCII (up to 256 characters) on one line")


def check_api_version(given: str | None, accepted: frozenset[str], dialect: str) -> None:
    """ApiVersionUnsupported unless `given` is accepted; the v1 API may go without one."""
    if given is None:
        if dialect == V1:
            return
        raise ApiVersionUnsupported(
            f"Missing required query parameter '{QUERY}'. Supported versions: "
            + ", ".join(sorted(accepted))
            + ".",
            param=QUERY,
        )
    if ANY_VERSION in accepted or given in accepted:
        return
    raise ApiVersionUnsupported(
        f"API version not supported: '{given[:64]}'. Supported versions: "
        + ", ".join(sorted(accepted))
        + ".",
        param=QUERY,
    )


def deployment_model(
    deployments: Mapping[str, str], served: Callable[[], Sequence[str]], name: str
) -> str:
    """The model a deployment stands for: its mapping, else a served model of that name
    (`served()` is asked only then); DeploymentNotFound otherwise."""
    if name in deployments:
        return deployments[name]
    if name in served():
        return name
    raise DeploymentNotFound(
        f"The API deployment '{name[:256]}' for this resource does not exist.",
        param="deployment",
    )


def body_model(deployments: Mapping[str, str], model: str) -> str:
    """A body's `model` on a route without a deployment: a deployment name is mapped to its
    model; any other name is left for the model check (404 model_not_found)."""
    return deployments.get(model, model)
