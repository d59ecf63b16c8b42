"""What one deployment keeps on disk, per suffix, so a crashed run can always be destroyed.

    <root>/<suffix>/
      deployment.json    target, endpoint, region, run id, status, certificate ARN, moto pid
      events.jsonl       one line per deploy/destroy milestone (who, when): the audit trail
      timings.jsonl      one line per timed step (synth, init, plan, apply, output, destroy)
      progress.log       the progress lines also shown on the terminal
      synth/             cdktf output and the stack-config.json it was built from
      tf/                cdk.tf.json, terraform.rc (CLI config), terraform.tfstate, tfplan
      logs/NNN-<cmd>.log every terraform call: command line, full output, exit code, duration
      outputs.json       non-sensitive terraform outputs
      moto.log           the sandbox server's log, when the plugin started it
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

# Statuses a deployment moves through; anything but "destroyed" may have left resources.
STATUSES = ("deploying", "deployed", "deploy-failed", "destroying", "destroy-failed", "destroyed")


@dataclass(frozen=True)
class StackWorkdir:
    root: Path
    suffix: str

    @property
    def path(self) -> Path:
        return self.root / self.suffix

    deployment_file = property(lambda s: s.path / "deployment.json")
    events_file = property(lambda s: s.path / "events.jsonl")
    timings_file = property(lambda s: s.path / "timings.jsonl")
    progress_file = property(lambda s: s.path / "progress.log")
    synth_dir = property(lambda s: s.path / "synth")
    tf_dir = property(lambda s: s.path / "tf")
    stack_json = property(lambda s: s.tf_dir / "cdk.tf.json")
    cli_config = property(lambda s: s.tf_dir / "terraform.rc")
    state_file = property(lambda s: s.tf_dir / "terraform.tfstate")
    plan_file = property(lambda s: s.tf_dir / "tfplan")
    logs_dir = property(lambda s: s.path / "logs")
    outputs_file = property(lambda s: s.path / "outputs.json")
    moto_log = property(lambda s: s.path / "moto.log")

    def create(self) -> StackWorkdir:
        for d in (self.path, self.synth_dir, self.tf_dir, self.logs_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self

    def exists(self) -> bool:
        return self.deployment_file.is_file()

    def lock(self, timeout: float = 3600) -> FileLock:
        """Serializes every deploy/destroy of this suffix across processes (xdist workers,
        the controller, a later --destroy-stack). The OS drops it if its holder dies."""
        self.path.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.path / ".deploy.lock"), timeout=timeout)

    # -------------------------------------------------------------- records
    def read_deployment(self) -> dict[str, Any]:
        if not self.deployment_file.is_file():
            return {}
        return json.loads(self.deployment_file.read_text())

    def update_deployment(self, **fields: Any) -> dict[str, Any]:
        data = self.read_deployment()
        data.update(fields)
        data["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        tmp = self.deployment_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        os.replace(tmp, self.deployment_file)  # readers never see half a file
        return data

    def _append(self, path: Path, record: dict[str, Any]) -> None:
        record = {"at": round(time.time(), 3), "pid": os.getpid(), **record}
        with open(path, "a") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")

    def event(self, name: str, **fields: Any) -> None:
        self._append(self.events_file, {"event": name, **fields})

    def events(self) -> list[dict[str, Any]]:
        return _read_jsonl(self.events_file)

    def record_timing(self, step: str, seconds: float, ok: bool) -> None:
        self._append(self.timings_file, {"step": step, "seconds": round(seconds, 2), "ok": ok})

    def timings(self) -> list[dict[str, Any]]:
        return _read_jsonl(self.timings_file)

    def resources_in_state(self) -> list[str]:
        """``type.name`` of every managed resource the state says exists."""
        if not self.state_file.is_file():
            return []
        state = json.loads(self.state_file.read_text() or "{}")
        return [f"{r['type']}.{r['name']}" for r in state.get("resources", [])
                if r.get("mode") == "managed" and r.get("instances")]

    def next_log(self, command: str) -> Path:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        n = len(list(self.logs_dir.glob("*.log"))) + 1
        return self.logs_dir / f"{n:03d}-{command}.log"


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
