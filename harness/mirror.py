"""Find the offline AWS provider mirror and write a Terraform CLI config that uses it.

There is no reachable Terraform registry, so ``terraform init`` must install the provider
from a filesystem mirror. The CLI config is written per workdir and handed to our own
terraform subprocesses only (TF_CLI_CONFIG_FILE), never to the user's global config.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

PROVIDER_VERSION = "5.100.0"
_BINARY_GLOB = f"registry.terraform.io/hashicorp/aws/{PROVIDER_VERSION}/*/terraform-provider-aws_v{PROVIDER_VERSION}*"
_COMMON_ROOTS = ("/opt/tf-plugins", "/opt", "/usr/share/terraform/plugins",
                 "/usr/local/share/terraform/plugins", "~/.terraform.d/plugins",
                 "~/.local/share/terraform/plugins", "/usr/share")


class MirrorError(RuntimeError):
    pass


def _holds_provider(root: Path) -> bool:
    return root.is_dir() and any(root.glob(_BINARY_GLOB))


def find_mirror(environ: Mapping[str, str] | None = None,
                search_roots: Iterable[str] = _COMMON_ROOTS) -> Path | None:
    """The folder above ``registry.terraform.io`` that holds the pinned AWS provider, or None."""
    explicit = (os.environ if environ is None else environ).get("TF_PLUGIN_MIRROR")
    if explicit:
        root = Path(explicit).expanduser()
        if not _holds_provider(root):
            raise MirrorError(
                f"TF_PLUGIN_MIRROR={explicit} does not hold registry.terraform.io/hashicorp/aws/"
                f"{PROVIDER_VERSION}; point it at the folder above registry.terraform.io or unset it")
        return root
    for candidate in search_roots:
        root = Path(candidate).expanduser()
        if _holds_provider(root):
            return root
    # A bounded search: the mirror may sit anywhere, but walking the whole disk each
    # session would cost more than the deploy it enables.
    for base in ("/opt", "/usr/local", "/usr/share", str(Path.home())):
        if not Path(base).is_dir():
            continue
        try:
            found = subprocess.run(
                ["find", base, "-maxdepth", "8", "-name", f"terraform-provider-aws_v{PROVIDER_VERSION}*",
                 "-path", "*registry.terraform.io*"],
                capture_output=True, text=True, timeout=20).stdout.split()
        except (OSError, subprocess.TimeoutExpired):
            continue
        for hit in found:
            parts = Path(hit).parts
            if "registry.terraform.io" in parts:
                return Path(*parts[:parts.index("registry.terraform.io")])
    return None


MISSING_MIRROR_HELP = (
    f"no offline mirror of the AWS provider {PROVIDER_VERSION} was found (looked at "
    f"$TF_PLUGIN_MIRROR, {', '.join(_COMMON_ROOTS)}, then searched /opt, /usr/local, /usr/share, ~). "
    f"Install it: on a machine with registry access run `terraform providers mirror <dir>` in a "
    f"folder pinning hashicorp/aws = {PROVIDER_VERSION}, copy <dir> here and set "
    "TF_PLUGIN_MIRROR=<dir> (the folder above registry.terraform.io)")


def require_mirror(environ: Mapping[str, str] | None = None) -> Path:
    mirror = find_mirror(environ)
    if mirror is None:
        raise MirrorError(MISSING_MIRROR_HELP)
    return mirror


def cli_config_text(mirror: Path) -> str:
    return ("provider_installation {\n"
            "  filesystem_mirror {\n"
            f"    path    = \"{mirror}\"\n"
            "    include = [\"registry.terraform.io/hashicorp/*\"]\n"
            "  }\n"
            "}\n")


def write_cli_config(path: Path, mirror: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(cli_config_text(mirror))
    return path
