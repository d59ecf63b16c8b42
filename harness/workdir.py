"""What one deployment keeps on disk, per suffix, so a crashed run can always be destroyed.

    <root>/<suffix>/
      deployment.json    the deployment record (harness/record.py): target, endpoint, region,
                         run id, status, certificate ARN, moto pid, config, resources
      events.jsonl       one line per deploy/destroy milestone (who, when): the audit trail
      timings.jsonl      one line per timed step (synth, init, apply, ..., destroy)
      progress.log       the progress lines also shown on the terminal
      synth/             cdktf output and the stack-config.json it was built from
      tf/                cdk.tf.json, terraform.rc (CLI config), terraform.tfstate,
                         idempotency.tfplan, tfplan (an upgrade's judged plan)
      logs/NNN-<cmd>.log every terraform call: command line, full output, exit code, duration
      outputs.json       non-sensitive terraform outputs
      moto.log           the sandbox server's log, when the plugin started it
"""
from __future__ import annotations

import enum
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from harness.record import Deployment, read_record, write_record


def is_plan(name: str) -> bool:
    """A saved terraform plan in tf/ (``tfplan``, ``idempotency.tfplan``): it holds every
    value in clear, sensitive ones too, so it travels nowhere the state would not."""
    return name == "tfplan" or name.endswith(".tfplan")


class Event(enum.StrEnum):
    """The milestones events.jsonl records, each with who (pid) and when."""
    DEPLOY_START = "deploy-start"
    DEPLOY_DONE = "deploy-done"
    DEPLOY_FAILED = "deploy-failed"
    DESTROY_START = "destroy-start"
    DESTROY_DONE = "destroy-done"
    DESTROY_FAILED = "destroy-failed"


@dataclass(frozen=True)
class StackWorkdir:
    root: Path
    suffix: str

    @property
    def path(self) -> Path:
        return self.root / self.suffix

    @property
    def deployment_file(self) -> Path:
        return self.path / "deployment.json"

    @property
    def events_file(self) -> Path:
        return self.path / "events.jsonl"

    @property
    def timings_file(self) -> Path:
        return self.path / "timings.jsonl"

    @property
    def progress_file(self) -> Path:
        return self.path / "progress.log"

    @property
    def synth_dir(self) -> Path:
        return self.path / "synth"

    @property
    def tf_dir(self) -> Path:
        return self.path / "tf"

    @property
    def stack_json(self) -> Path:
        return self.tf_dir / "cdk.tf.json"

    @property
    def cli_config(self) -> Path:
        return self.tf_dir / "terraform.rc"

    @property
    def state_file(self) -> Path:
        return self.tf_dir / "terraform.tfstate"

    @property
    def plan_file(self) -> Path:
        return self.tf_dir / "tfplan"

    @property
    def logs_dir(self) -> Path:
        return self.path / "logs"

    @property
    def outputs_file(self) -> Path:
        return self.path / "outputs.json"

    @property
    def moto_log(self) -> Path:
        return self.path / "moto.log"

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
    def deployment(self) -> Deployment | None:
        """The suffix's deployment record, None if there is none (RecordError if damaged)."""
        return read_record(self.deployment_file)

    def save_deployment(self, record: Deployment) -> Deployment:
        return write_record(self.deployment_file, record)

    def write_public_outputs(self, values: dict[str, Any]) -> None:
        self.outputs_file.write_text(json.dumps(values, indent=2, sort_keys=True))

    def public_outputs(self) -> dict[str, Any] | None:
        """The non-sensitive outputs the last deploy or load read, None if none were written."""
        try:
            data = json.loads(self.outputs_file.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _append(self, path: Path, record: dict[str, Any]) -> None:
        record = {"at": round(time.time(), 3), "pid": os.getpid(), **record}
        with open(path, "a") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")

    def event(self, name: Event, **fields: Any) -> None:
        self._append(self.events_file, {"event": name.value, **fields})

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
