"""The steps of one deployment: preflight, deploy, load, destroy. No pytest in here.

Every step records itself in the suffix's workdir before it acts, so whichever process
comes next (another xdist worker, the controller's finalizer, a later ``--destroy-stack``)
knows exactly what exists and how to remove it.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stack.config import ConfigError, StackConfig, config_from_mapping, read_config_file

from harness import certs, mirror, sandbox
from harness.aws_clients import AwsClients, clients_for
from harness.leftovers import leftovers
from harness.progress import Progress
from harness.terraform import SANDBOX_DESTROY_FLAGS, Terraform, TerraformError, terraform_env
from harness.workdir import StackWorkdir

# A syntactically valid placeholder: lets us validate a config (suffix limits etc.) before
# the real certificate exists, i.e. before anything is created.
PLACEHOLDER_CERT_ARN = ("arn:aws:acm:us-east-1:123456789012:certificate/"
                        "00000000-0000-0000-0000-000000000000")
SANDBOX_ENDPOINT_PLACEHOLDER = "http://127.0.0.1:5000"

Synthesizer = Callable[[StackConfig, Path], Path]


class HarnessError(RuntimeError):
    """Anything the harness refuses or fails to do; the message says what to do next."""


class DeployError(HarnessError):
    pass


class DestroyError(HarnessError):
    pass


@dataclass(frozen=True)
class Options:
    """The plugin's options after validation (see plugin.py for the command line)."""
    target: str = "sandbox"
    sandbox_endpoint: str | None = None
    suffix: str = ""
    keep: bool = False
    reuse: bool = False
    workdir_root: Path = Path(".stack-work")
    config_file: Path | None = None
    destroy_attempts: int = 3

    @property
    def is_sandbox(self) -> bool:
        return self.target == "sandbox"


def load_file_config(config_file: Path | None) -> dict[str, Any]:
    if not config_file:
        return {}
    try:
        return read_config_file(config_file)
    except ConfigError as exc:
        raise HarnessError(f"--stack-config: {exc}") from None


def stack_config(opts: Options, endpoint: str | None = None,
                 certificate_arn: str | None = None) -> StackConfig:
    """The config to deploy: the file's settings, this run's suffix, and in the sandbox the
    endpoint and imported certificate (the only place sandbox settings are ever added)."""
    data = load_file_config(opts.config_file)
    data["environment_suffix"] = opts.suffix
    if opts.is_sandbox:
        data["sandbox"] = {"endpoint": endpoint or SANDBOX_ENDPOINT_PLACEHOLDER}
        data["tls"] = {"certificate_arn": certificate_arn or PLACEHOLDER_CERT_ARN}
        # The sandbox is not an account: the production allow-list would refuse moto's id.
        data["allowed_account_ids"] = []
    else:
        if data.get("sandbox") is not None:
            raise HarnessError(f"--stack-config {opts.config_file} has a 'sandbox' section; "
                               "remove it to deploy to --stack-target aws")
        if not data.get("allowed_account_ids"):
            raise HarnessError(
                "--stack-target aws needs allowed_account_ids in --stack-config (the accounts "
                "this harness may deploy into); without it a job could deploy into production")
    try:
        cfg = config_from_mapping(data)
    except ConfigError as exc:
        raise HarnessError(f"{exc}\n(settings come from --stack-config "
                           f"{opts.config_file or '(none)'} and --stack-suffix)") from None
    return cfg


@dataclass
class DeployedStack:
    """What the tests get: outputs (as they exist), suffix, target, region and clients."""
    suffix: str
    target: str
    region: str
    endpoint: str | None
    outputs: dict[str, Any]
    workdir: StackWorkdir
    config: dict[str, Any] = field(default_factory=dict)
    resources: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.clients = clients_for(self.region, self.endpoint)

    @property
    def is_sandbox(self) -> bool:
        return self.target == "sandbox"

    def output(self, name: str) -> str:
        if name not in self.outputs:
            raise KeyError(f"the deployed stack has no output {name!r}; it has: "
                           f"{', '.join(sorted(self.outputs)) or '(none)'} "
                           f"(see {self.workdir.outputs_file})")
        return self.outputs[name]

    # Typed accessors for the platform's outputs (all strings).
    cloudfront_domain_name = property(lambda s: s.output("cloudfront_domain_name"))
    cloudfront_distribution_id = property(lambda s: s.output("cloudfront_distribution_id"))
    alb_arn = property(lambda s: s.output("alb_arn"))
    alb_dns_name = property(lambda s: s.output("alb_dns_name"))
    target_group_arn = property(lambda s: s.output("target_group_arn"))
    static_bucket_name = property(lambda s: s.output("static_bucket_name"))
    logs_bucket_name = property(lambda s: s.output("logs_bucket_name"))
    db_secret_arn = property(lambda s: s.output("db_secret_arn"))
    asg_name = property(lambda s: s.output("asg_name"))
    launch_template_id = property(lambda s: s.output("launch_template_id"))
    db_cluster_identifier = property(lambda s: s.output("db_cluster_identifier"))
    db_cluster_endpoint = property(lambda s: s.output("db_cluster_endpoint"))
    db_reader_endpoint = property(lambda s: s.output("db_reader_endpoint"))
    web_acl_arn = property(lambda s: s.output("web_acl_arn"))
    sns_topic_arn = property(lambda s: s.output("sns_topic_arn"))
    app_log_group_name = property(lambda s: s.output("app_log_group_name"))
    rotation_log_group_name = property(lambda s: s.output("rotation_log_group_name"))
    flow_log_group_name = property(lambda s: s.output("flow_log_group_name"))
    waf_log_group_name = property(lambda s: s.output("waf_log_group_name"))
    rotation_lambda_name = property(lambda s: s.output("rotation_lambda_name"))
    vpc_id = property(lambda s: s.output("vpc_id"))
    environment = property(lambda s: s.output("environment"))


class Deployer:
    def __init__(self, opts: Options, progress: Progress, synthesize: Synthesizer,
                 run_id: str = ""):
        self.opts = opts
        self.workdir = StackWorkdir(Path(opts.workdir_root), opts.suffix)
        self.progress = progress
        self.synthesize = synthesize
        self.run_id = run_id

    # ---------------------------------------------------------------- environment
    def terraform(self, record: dict[str, Any]) -> Terraform:
        sandbox_region = record.get("region", "us-east-1") if record.get("target") == "sandbox" else None
        env = terraform_env(self.workdir.cli_config, sandbox_region)
        return Terraform(self.workdir, env, self.progress, destroy_attempts=self.opts.destroy_attempts,
                         destroy_flags=SANDBOX_DESTROY_FLAGS if record.get("target") == "sandbox" else ())

    def _clients(self, record: dict[str, Any]) -> AwsClients:
        return clients_for(record.get("region", "us-east-1"), record.get("endpoint"))

    # ---------------------------------------------------------------- deploy
    def deploy(self) -> DeployedStack:
        """Deploy once per run: the first caller deploys, the others wait and load it."""
        # Refusals (config, tools, the aws allow-list) come before the lock, whose file
        # would already be a workdir for the suffix.
        checked = self._preflight()
        with self.workdir.lock():
            record = self.workdir.read_deployment()
            if record.get("run_id") == self.run_id and record.get("status") == "deployed":
                return self.load()
            if record.get("run_id") == self.run_id:
                raise DeployError(
                    f"the deployment of suffix {self.opts.suffix} already failed in this run "
                    f"(status {record.get('status')}: {record.get('error', '')}); logs in "
                    f"{self.workdir.logs_dir}. It is destroyed at the end of the session.")
            if record and record.get("status") != "destroyed":
                raise DeployError(
                    f"suffix {self.opts.suffix} already has a deployment from an earlier run "
                    f"(status {record.get('status')}, {self.workdir.path}). Test it with "
                    f"--reuse-stack {self.opts.suffix}, remove it with --destroy-stack "
                    f"{self.opts.suffix}, or choose another --stack-suffix")
            return self._deploy_new(checked)

    def _preflight(self) -> tuple[StackConfig, Path]:
        """Everything that can be refused is refused here, before anything is created."""
        cfg = stack_config(self.opts)
        try:
            self.terraform({"target": self.opts.target})  # finds the binary or says what to install
        except TerraformError as exc:
            raise DeployError(str(exc)) from None
        try:
            mirror_root = mirror.require_mirror()
        except mirror.MirrorError as exc:
            raise DeployError(str(exc)) from None
        if not self.opts.is_sandbox:
            account = clients_for(cfg.region).account_id()
            if account not in cfg.allowed_account_ids:
                raise DeployError(
                    f"refusing to deploy: the caller's credentials are for account {account}, "
                    f"which is not in allowed_account_ids {list(cfg.allowed_account_ids)} of "
                    f"{self.opts.config_file}. Use credentials for an allowed (non-production) "
                    "account, or add it to the allow-list if it really is a test account")
        if self.opts.is_sandbox and self.opts.sandbox_endpoint:
            if not sandbox.is_up(self.opts.sandbox_endpoint):
                raise DeployError(f"--sandbox-endpoint {self.opts.sandbox_endpoint} does not answer; "
                                  "start it (python -m moto.server -H 127.0.0.1 -p PORT) or omit "
                                  "the option to let the plugin start one")
        return cfg, mirror_root

    def _deploy_new(self, checked: tuple[StackConfig, Path]) -> DeployedStack:
        cfg, mirror_root = checked
        wd = self.workdir.create()
        for stale in (wd.plan_file, wd.outputs_file):
            stale.unlink(missing_ok=True)
        record = wd.update_deployment(
            suffix=self.opts.suffix, target=self.opts.target, region=cfg.region,
            run_id=self.run_id, status="deploying", error="", endpoint=None, moto_pid=None,
            started_moto=False, certificate_arn=None, config_file=str(self.opts.config_file or ""),
            workdir=str(wd.path), started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        wd.event("deploy-start", run_id=self.run_id)
        try:
            endpoint = None
            if self.opts.is_sandbox:
                endpoint = self.opts.sandbox_endpoint
                if not endpoint:
                    with self.progress.step("sandbox-start"):
                        endpoint, pid = sandbox.start(wd.moto_log)
                    record = wd.update_deployment(endpoint=endpoint, moto_pid=pid, started_moto=True)
                    self.progress.say(f"sandbox: moto server on {endpoint} (pid {pid})")
                else:
                    record = wd.update_deployment(endpoint=endpoint)
                arn = certs.import_self_signed(self._clients(record).acm, self.opts.suffix, cfg.tags)
                record = wd.update_deployment(certificate_arn=arn)
                cfg = stack_config(self.opts, endpoint=endpoint, certificate_arn=arn)
            wd.update_deployment(config=json.loads(json.dumps(dataclasses.asdict(cfg))))
            with self.progress.step("synth"):
                synthesized = self.synthesize(cfg, wd.synth_dir)
            # The JSON refers to assets (Lambda zip, static files) by paths relative to
            # itself: the whole stack folder moves together.
            shutil.copytree(Path(synthesized).parent, wd.tf_dir, dirs_exist_ok=True)
            if Path(synthesized).name != wd.stack_json.name:
                shutil.copyfile(synthesized, wd.stack_json)
            mirror.write_cli_config(wd.cli_config, mirror_root)
            tf = self.terraform(record)
            tf.init()
            tf.plan()
            tf.apply()
            stack = self._read_outputs(tf, record)
            wd.update_deployment(status="deployed", resources=stack.resources)
            wd.event("deploy-done", run_id=self.run_id, resources=len(stack.resources))
            self.progress.say(f"deployed {len(stack.resources)} resources, suffix {self.opts.suffix}")
            return stack
        except BaseException as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            wd.update_deployment(status="deploy-failed", error=message,
                                 resources=wd.resources_in_state())
            wd.event("deploy-failed", run_id=self.run_id, error=message)
            if isinstance(exc, Exception) and not isinstance(exc, HarnessError):
                raise DeployError(f"deploy of suffix {self.opts.suffix} failed: {exc}\n"
                                  "what was created is destroyed at the end of the session; "
                                  f"logs in {wd.logs_dir}") from exc
            raise

    def _read_outputs(self, tf: Terraform, record: dict[str, Any]) -> DeployedStack:
        raw = tf.output()
        outputs = {k: v["value"] for k, v in raw.items()}
        public = {k: v["value"] for k, v in raw.items() if not v.get("sensitive")}
        self.workdir.outputs_file.write_text(json.dumps(public, indent=2, sort_keys=True))
        return DeployedStack(suffix=self.opts.suffix, target=record["target"],
                             region=record.get("region", "us-east-1"), endpoint=record.get("endpoint"),
                             outputs=outputs, workdir=self.workdir,
                             config=self.workdir.read_deployment().get("config") or {},
                             resources=self.workdir.resources_in_state())

    # ---------------------------------------------------------------- reuse
    def load(self) -> DeployedStack:
        """An existing deployment of this suffix, outputs read fresh from its state."""
        record = self.workdir.read_deployment()
        if not record:
            raise DeployError(f"no deployment of suffix {self.opts.suffix} in {self.workdir.root} "
                              "(--stack-workdir); deploy one with --keep-stack first")
        if record.get("status") != "deployed":
            raise DeployError(f"the deployment of suffix {self.opts.suffix} is {record.get('status')}, "
                              f"not deployed; destroy it with --destroy-stack {self.opts.suffix}")
        if self.opts.sandbox_endpoint and self.opts.sandbox_endpoint != record.get("endpoint"):
            record = self.workdir.update_deployment(endpoint=self.opts.sandbox_endpoint)
        if record.get("target") == "sandbox" and not sandbox.is_up(record["endpoint"]):
            raise DeployError(f"the sandbox {record['endpoint']} that holds suffix "
                              f"{self.opts.suffix} does not answer; its resources are gone with it")
        return self._read_outputs(self.terraform(record), record)

    # ---------------------------------------------------------------- destroy
    def destroy(self) -> list[str]:
        """Destroy whatever the workdir says exists; return leftover notes (sandbox check).

        Raises DestroyError with the exact commands that finish the job; never deletes the
        state, and leaves a sandbox the plugin started running so that remains possible.
        """
        wd = self.workdir
        with wd.lock():
            record = wd.read_deployment()
            if not record or record.get("status") == "destroyed":
                return []
            wd.event("destroy-start", run_id=self.run_id, previous_status=record.get("status"))
            wd.update_deployment(status="destroying")
            sandbox_gone = (record.get("target") == "sandbox" and record.get("endpoint")
                            and not sandbox.is_up(record["endpoint"]))
            try:
                if sandbox_gone:
                    if record.get("started_moto") and not sandbox.alive(record.get("moto_pid")):
                        # moto keeps everything in memory: with its process, every resource went.
                        self.progress.say(f"destroy: the sandbox {record['endpoint']} (pid "
                                          f"{record.get('moto_pid')}) is gone, and everything "
                                          "deployed into it with it; nothing to destroy")
                        wd.update_deployment(status="destroyed", sandbox_gone=True)
                        wd.event("destroy-done", run_id=self.run_id, sandbox_gone=True, leftovers=[])
                        return []
                    raise DestroyError(f"the sandbox {record['endpoint']} does not answer; start it "
                                       "again or pass --sandbox-endpoint with its new address")
                tf = self.terraform(record)
                if wd.state_file.is_file():
                    if not (wd.tf_dir / ".terraform").is_dir():
                        tf.init()
                    tf.destroy()
                if record.get("target") == "sandbox" and record.get("certificate_arn"):
                    certs.delete(self._clients(record).acm, record["certificate_arn"])
                notes: list[str] = []
                if record.get("target") == "sandbox":
                    found, unchecked = leftovers(self._clients(record), self.opts.suffix)
                    notes = [f"LEFTOVER {f}" for f in found] + [f"unchecked {u}" for u in unchecked]
                    if found:
                        raise DestroyError(
                            "terraform destroy succeeded but these still carry the suffix "
                            f"{self.opts.suffix}: {', '.join(found)}")
            except BaseException as exc:
                wd.update_deployment(status="destroy-failed", error=str(exc).splitlines()[0][:500])
                wd.event("destroy-failed", run_id=self.run_id, error=str(exc).splitlines()[0][:500])
                raise DestroyError(self.how_to_finish(exc, record)) from exc
            wd.update_deployment(status="destroyed")
            wd.event("destroy-done", run_id=self.run_id, leftovers=notes)
            if record.get("started_moto"):
                sandbox.stop(record.get("moto_pid"))
            return notes

    def how_to_finish(self, exc: BaseException, record: dict[str, Any]) -> str:
        tf = self.terraform(record)
        return (f"DESTROY FAILED for suffix {self.opts.suffix}: {exc}\n"
                f"The state is kept in {self.workdir.state_file}"
                + (f" and the sandbox {record.get('endpoint')} is left running" if record.get(
                    "started_moto") else "") + ". Finish it with:\n"
                f"  pytest --destroy-stack {self.opts.suffix} --stack-workdir {self.workdir.root}\n"
                f"or directly:\n  {tf.command_line(tf.destroy_args())}\n"
                f"If the state is lost, list (then --delete) what carries the suffix with:\n"
                f"  python -m harness.sweep --suffix {self.opts.suffix} "
                + ("--target aws --stack-config=FILE" if record.get("target") == "aws"
                   else f"--endpoint {record.get('endpoint')}"))

    def keep_message(self) -> str:
        record = self.workdir.read_deployment()
        extra = ""
        if record.get("target") == "sandbox":
            extra = (f"\nThe sandbox {record.get('endpoint')} (moto pid {record.get('moto_pid')}) "
                     "keeps running so the deployment stays; it stops after --destroy-stack.")
        return (f"--keep-stack: suffix {self.opts.suffix} is left as it is (status "
                f"{record.get('status')}, {len(record.get('resources') or [])} resources, "
                f"{self.workdir.path}).\n"
                f"Test it again:  pytest -m integration --reuse-stack {self.opts.suffix} "
                f"--stack-workdir {self.workdir.root}\n"
                f"Destroy it:     pytest --destroy-stack {self.opts.suffix} "
                f"--stack-workdir {self.workdir.root}" + extra)
