"""The platform: CloudFront + WAF -> HTTPS ALB -> ASG (t3.large, AL2023) -> Aurora MySQL.

    python -m stack.main [--config FILE] [--outdir cdktf.out]

writes ``<outdir>/stacks/platform/cdk.tf.json``. Configuration: see stack/config.py.
"""
from __future__ import annotations

import argparse
import sys

from cdktf import App, TerraformStack
from constructs import Construct

from stack.config import ConfigError, StackConfig, load_config
from stack.providers import configure_providers
from stack.synth import STACK_NAME


class PlatformStack(TerraformStack):
    def __init__(self, scope: Construct, cfg: StackConfig):
        super().__init__(scope, STACK_NAME)
        configure_providers(self, cfg)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="JSON config file (default: $STACK_CONFIG)")
    parser.add_argument("--outdir", default="cdktf.out")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app = App(outdir=args.outdir)
    PlatformStack(app, cfg)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
