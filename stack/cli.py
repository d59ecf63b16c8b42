"""Command line: validate the configuration, then synthesize.

    python -m stack.cli [--config FILE] [--outdir cdktf.out]
    python -m stack.cli --batch jobs.json        # [{"config": ..., "outdir": ...}, ...]

Configuration errors are reported (exit 2) before the provider bindings are even imported,
so bad input costs a fraction of a second and creates nothing.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stack.synthesis.bindings import full_import_requested, use_lean_provider_package
from stack.config import ConfigError, load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Synthesize the platform stack")
    parser.add_argument("--config", help="JSON config file (default: $STACK_CONFIG)")
    parser.add_argument("--outdir", default="cdktf.out")
    parser.add_argument("--batch", help="JSON list of {config, outdir}: several synths, one import")
    args = parser.parse_args(argv)
    jobs = ([(job["config"], job["outdir"]) for job in json.loads(Path(args.batch).read_text())]
            if args.batch else [(args.config, args.outdir)])
    try:
        full_import_requested()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        configs = [(load_config(config), outdir) for config, outdir in jobs]
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    use_lean_provider_package()                 # ~7 s of imports instead of ~23 s
    from cdktf import App                       # only for valid input
    from stack.main import PlatformStack
    for cfg, outdir in configs:
        app = App(outdir=outdir)
        PlatformStack(app, cfg)
        app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
