"""The steps of one deployment: preflight, deploy, load, destroy. No pytest in here.

Every step records itself in the suffix's workdir before it acts, so whichever process
comes next (another xdist worker, the controller's finalizer, a later ``--destroy-stack``)
knows exactly what exists and how to remove it.
"""
from __future__ import annotations

import functools
import shutil
from pathlib import Path
from collections.abc import Callable

from stack.config import ConfigError, StackConfig, config_from_mapping, config_to_mapping

from harness import certs, mirror, preflight, sandbox
from harness.account_check import AccountCheckError, require_allowed_account
from harness.aws_clients import AwsClients, clients_for, sandbox_clients
from harness.destroy_check import DestroyCheck, verify_destroy
from harness.deployed import DeployedStack
from harness.errors import DeployError, DestroyError, HarnessError
from harness.idempotency import check_idempotent
from harness.options import Options
from harness.progress import Progress
from harness.record import Deployment, RecordError, Status, Target
from harness.remote_state import RemoteWorkdir, has_state, save_origin
from harness.run_facts import RunOrigin
from harness.run_config import sandbox_config
from harness.terraform import (SANDBOX_DESTROY_FLAGS, Terraform, TerraformError, require_version,
                               terraform_binary, terraform_env)
from harness.upgrade import BaseSynthesizer, Upgrade, synthesize_base
from harness.workdir import Event

Synthesizer = Callable[[StackConfig, Path], Path]


class Deployer:
    def __init__(self, opts: Options, progress: Progress, synthesize: Synthesizer,
                 run_id: str = "", base_synthesizer: BaseSynthesizer = synthesize_base):
        self.opts = opts
        self.workdir = opts.workdir
        self.progress = progress
        self.synthesize = synthesize
        self.run_id = run_id
        self.upgrade = (Upgrade(opts.upgrade_from, base_synthesizer, progress)
                        if opts.upgrade_from is not None else None)

    # ---------------------------------------------------------------- environment
    def terraform(self, target: Target, region: str, endpoint: str | None = None) -> Terraform:
        in_sandbox = target is Target.SANDBOX
        env = terraform_env(self.workdir.cli_config, region if in_sandbox else None,
                            endpoint if in_sandbox else None)
        return Terraform(self.workdir, env, self.progress, destroy_attempts=self.opts.destroy_attempts,
                         destroy_flags=SANDBOX_DESTROY_FLAGS if in_sandbox else ())

    def _terraform_for(self, record: Deployment) -> Terraform:
        return self.terraform(record.target, record.region, record.endpoint)

    @staticmethod
    def _clients(record: Deployment) -> AwsClients:
        if record.is_sandbox:
            return sandbox_clients(record.region, record.endpoint)
        return clients_for(record.region)

    # ---------------------------------------------------------------- deploy
    def deploy(self, planned: StackConfig) -> DeployedStack:
        """Deploy ``planned`` once per run: the first caller deploys, the others wait and load it."""
        # Refusals (tools, the aws allow-list) come before the lock, whose file would
        # already be a workdir for the suffix.
        mirror_root = self._preflight(planned)
        with self.workdir.lock():
            record = self.workdir.deployment()
            if record is not None and record.of_run(self.run_id):
                if record.status is Status.DEPLOYED:
                    return self._load(record)
                raise DeployError(
                    f"the deployment of suffix {self.opts.suffix} already failed in this run "
                    f"(status {record.status}: {record.error}); logs in "
                    f"{self.workdir.logs_dir}. It is destroyed at the end of the session.")
            if record is not None and record.status is not Status.DESTROYED:
                raise DeployError(
                    f"suffix {self.opts.suffix} already has a deployment from an earlier run "
                    f"(status {record.status}, {self.workdir.path}). Test it with "
                    f"--reuse-stack {self.opts.suffix}, remove it with --destroy-stack "
                    f"{self.opts.suffix}, or choose another --stack-suffix")
            return self._deploy_new(planned, mirror_root)

    def _preflight(self, cfg: StackConfig) -> Path:
        """Everything that can be refused is refused here, before anything is created."""
        try:
            terraform_binary()  # finds the binary or says what to install
        except TerraformError as exc:
            raise DeployError(str(exc)) from None
        try:
            mirror_root = mirror.require_mirror()
        except mirror.MirrorError as exc:
            raise DeployError(str(exc)) from None
        if not self.opts.is_sandbox:
            try:
                require_allowed_account(cfg.region, cfg.allowed_account_ids, self.opts.config_file)
            except AccountCheckError as exc:
                raise DeployError(str(exc)) from None
        try:
            # After the account check: an allow-list refusal must not run terraform at all.
            require_version()  # refuses a terraform older than the JSON needs
        except TerraformError as exc:
            raise DeployError(str(exc)) from None
        if self.opts.is_sandbox and self.opts.sandbox_endpoint:
            preflight.check_given_sandbox(self.opts.sandbox_endpoint, cfg.region)
        return mirror_root

    def _deploy_new(self, planned: StackConfig, mirror_root: Path) -> DeployedStack:
        wd = self.workdir.create()
        for stale in (wd.plan_file, wd.outputs_file):
            stale.unlink(missing_ok=True)
        record = wd.save_deployment(Deployment.started(
            suffix=self.opts.suffix, target=self.opts.target, region=planned.region,
            run_id=self.run_id, config_file=str(self.opts.config_file or ""), workdir=str(wd.path)))
        save_origin(wd, RunOrigin.now(self.opts.expires_at, Path.cwd()))
        wd.event(Event.DEPLOY_START, run_id=self.run_id)
        try:
            cfg = planned
            if self.opts.is_sandbox:
                endpoint = self.opts.sandbox_endpoint
                if not endpoint:
                    with self.progress.step("sandbox-start"):
                        endpoint, pid = sandbox.start(wd.moto_log)
                    record = wd.save_deployment(record.with_started_sandbox(endpoint, pid))
                    self.progress.say(f"sandbox: moto server on {endpoint} (pid {pid})")
                else:
                    record = wd.save_deployment(record.with_endpoint(endpoint))
                arn = certs.import_self_signed(self._clients(record).acm, self.opts.suffix, cfg.tags)
                record = wd.save_deployment(record.with_certificate(arn))
                cfg = sandbox_config(planned, self.opts, endpoint, arn)
            record = wd.save_deployment(record.with_config(config_to_mapping(cfg)))
            mirror.write_cli_config(wd.cli_config, mirror_root)
            tf = self._terraform_for(record)
            place = functools.partial(self._place, region=record.region)
            if self.upgrade is not None:
                self.upgrade.deploy_base(cfg, tf, place)
            with self.progress.step("synth"):
                synthesized = self.synthesize(cfg, wd.synth_dir)
            place(Path(synthesized))
            tf.init()
            if self.upgrade is None:
                tf.apply()
            else:
                tf.plan()                       # this commit over the base's state, judged
                self.upgrade.check_plan(tf)     # before anything of it is applied
                tf.apply_saved()
            check_idempotent(tf, record.target, self.progress)
            stack = self._read_outputs(tf, record, cfg)
            record = wd.save_deployment(record.deployed(stack.resources))
            wd.event(Event.DEPLOY_DONE, run_id=self.run_id, resources=len(stack.resources))
            self.progress.say(f"deployed {len(stack.resources)} resources, suffix {self.opts.suffix}")
            return stack
        except BaseException as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            wd.save_deployment(record.deploy_failed(message, wd.resources_in_state()))
            wd.event(Event.DEPLOY_FAILED, run_id=self.run_id, error=message)
            if isinstance(exc, Exception) and not isinstance(exc, HarnessError):
                raise DeployError(f"deploy of suffix {self.opts.suffix} failed: {exc}\n"
                                  "what was created is destroyed at the end of the session; "
                                  f"logs in {wd.logs_dir}") from exc
            raise

    def _place(self, synthesized: Path, region: str) -> None:
        # The JSON refers to assets (Lambda zip, static files) by paths relative to
        # itself: the whole stack folder moves together.
        wd = self.workdir
        shutil.copytree(synthesized.parent, wd.tf_dir, dirs_exist_ok=True)
        if synthesized.name != wd.stack_json.name:
            shutil.copyfile(synthesized, wd.stack_json)
        if isinstance(wd, RemoteWorkdir):
            # Every placed JSON (an upgrade's base, then this commit's) gets the S3 backend.
            wd.attach(region)

    def _read_outputs(self, tf: Terraform, record: Deployment, cfg: StackConfig) -> DeployedStack:
        raw = tf.output()
        values = {name: out.value for name, out in raw.items()}
        self.workdir.write_public_outputs(
            {name: out.value for name, out in raw.items() if not out.sensitive})
        return DeployedStack(suffix=self.opts.suffix, target=record.target, region=record.region,
                             endpoint=record.endpoint, output_values=values, workdir=self.workdir,
                             config=cfg, resources=tuple(self.workdir.resources_in_state()))

    # ---------------------------------------------------------------- reuse
    def load(self) -> DeployedStack:
        """An existing deployment of this suffix, outputs read fresh from its state."""
        record = self.workdir.deployment()
        if record is None:
            raise DeployError(f"no deployment of suffix {self.opts.suffix} in {self.workdir.root} "
                              "(--stack-workdir); deploy one with --keep-stack first")
        return self._load(record)

    def _load(self, record: Deployment) -> DeployedStack:
        if record.status is not Status.DEPLOYED:
            raise DeployError(f"the deployment of suffix {self.opts.suffix} is {record.status}, "
                              f"not deployed; destroy it with --destroy-stack {self.opts.suffix}")
        record = self._with_given_endpoint(record, DeployError)
        if record.is_sandbox and (record.endpoint is None or not sandbox.is_up(record.endpoint)):
            raise DeployError(f"the sandbox {record.endpoint} that holds suffix "
                              f"{self.opts.suffix} does not answer; its resources are gone with it")
        tf = self._terraform_for(record)
        if has_state(self.workdir) and not (self.workdir.tf_dir / ".terraform").is_dir():
            tf.init()  # another machine deployed it (--stack-state): its backend is new here
        return self._read_outputs(tf, record, self._deployed_config(record))

    def _with_given_endpoint(self, record: Deployment, error: type[HarnessError]) -> Deployment:
        """``record`` moved to --sandbox-endpoint, written only once that endpoint answers: a
        mistyped address must not replace the one that still reaches the deployment."""
        given = self.opts.sandbox_endpoint
        if not given or given == record.endpoint:
            return record
        if not record.is_sandbox:
            raise error(f"--sandbox-endpoint {given}: suffix {self.opts.suffix} was deployed to "
                        f"--stack-target {record.target} ({self.workdir.deployment_file}); "
                        "leave the option out")
        try:
            preflight.require_answering(given)
        except DeployError as exc:
            raise error(f"{exc}. {self.workdir.deployment_file} still names {record.endpoint} "
                        "and is unchanged") from None
        return self.workdir.save_deployment(record.with_endpoint(given))

    def _deployed_config(self, record: Deployment) -> StackConfig:
        if record.config is None:
            raise RecordError(f"{self.workdir.deployment_file} says suffix {self.opts.suffix} is "
                              "deployed but records no config; destroy it with --destroy-stack "
                              f"{self.opts.suffix} and deploy again")
        try:
            return config_from_mapping(record.config)
        except ConfigError as exc:
            raise RecordError(f"the config recorded in {self.workdir.deployment_file} is not "
                              f"valid: {exc}. Destroy the deployment with --destroy-stack "
                              f"{self.opts.suffix} and deploy again") from None

    # ---------------------------------------------------------------- destroy
    def destroy(self) -> DestroyCheck | None:
        """Destroy whatever the workdir says exists, then take the inventory (every target).

        Returns what the inventory found (None: nothing was recorded to destroy). Raises
        DestroyError with the exact commands that finish the job when the destroy failed or
        anything carrying the suffix is left; never deletes the state, and leaves a sandbox
        the plugin started running so that remains possible.
        """
        wd = self.workdir
        wd.deployment()  # a damaged record is refused before the lock file is created
        with wd.lock():
            record = wd.deployment()
            if record is None or record.status is Status.DESTROYED:
                return None
            record = self._with_given_endpoint(record, DestroyError)
            wd.event(Event.DESTROY_START, run_id=self.run_id, previous_status=record.status.value)
            record = wd.save_deployment(record.destroying())
            sandbox_gone = (record.is_sandbox and record.endpoint is not None
                            and not sandbox.is_up(record.endpoint))
            try:
                if sandbox_gone:
                    if record.started_moto and not sandbox.alive(record.moto_pid):
                        # moto keeps everything in memory: with its process, every resource went.
                        self.progress.say(f"destroy: the sandbox {record.endpoint} (pid "
                                          f"{record.moto_pid}) is gone, and everything "
                                          "deployed into it with it; nothing to destroy")
                        wd.save_deployment(record.destroyed(sandbox_gone=True))
                        wd.event(Event.DESTROY_DONE, run_id=self.run_id, sandbox_gone=True, leftovers=[])
                        return DestroyCheck(None, f"the sandbox process {record.moto_pid} ended, "
                                            "and with it everything in its memory")
                    raise DestroyError(f"the sandbox {record.endpoint} does not answer; start it "
                                       "again or pass --sandbox-endpoint with its new address")
                clients = self._clients(record)  # refuses a sandbox without an endpoint
                destroy_failed = self._terraform_destroy(record)
                if record.is_sandbox and record.certificate_arn and destroy_failed is None:
                    certs.delete(clients.acm, record.certificate_arn)
                checked = verify_destroy(clients, self.opts.suffix, self.progress)
                if destroy_failed is not None:
                    raise DestroyError(f"{destroy_failed}\n{checked.failure()}".rstrip()) \
                        from destroy_failed
                if checked.failure():
                    raise DestroyError(f"terraform destroy succeeded but {checked.failure()}")
            except BaseException as exc:
                error = str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__
                wd.save_deployment(record.destroy_failed(error))
                wd.event(Event.DESTROY_FAILED, run_id=self.run_id, error=error)
                raise DestroyError(self.how_to_finish(exc, record)) from exc
            wd.save_deployment(record.destroyed())
            wd.event(Event.DESTROY_DONE, run_id=self.run_id, leftovers=checked.lines(),
                     verified=checked.verified_clean)
            if record.started_moto:
                sandbox.stop(record.moto_pid)
            return checked

    def _terraform_destroy(self, record: Deployment) -> Exception | None:
        """``terraform destroy`` if there is a state; its error, returned so that the
        inventory still runs after a failed or timed-out destroy."""
        wd = self.workdir
        if not has_state(wd):
            self.progress.say(f"destroy: no state for suffix {self.opts.suffix}: terraform "
                              "destroy skipped; the inventory decides whether anything carrying "
                              "the suffix is left")
            return None
        tf = self._terraform_for(record)
        try:
            if not (wd.tf_dir / ".terraform").is_dir():
                tf.init()
            tf.destroy()
        except Exception as exc:  # noqa: BLE001 - reported after the inventory, with it
            return exc
        return None

    def how_to_finish(self, exc: BaseException, record: Deployment) -> str:
        tf = self._terraform_for(record)
        return (f"DESTROY FAILED for suffix {self.opts.suffix}: {exc}\n"
                f"The state is kept in {self.workdir.state_file}"
                + (f" and the sandbox {record.endpoint} is left running" if record.started_moto
                   else "") + ". Finish it with:\n"
                f"  pytest --destroy-stack {self.opts.suffix} --stack-workdir {self.workdir.root}\n"
                f"or directly:\n  {tf.command_line(tf.destroy_args())}\n"
                f"If the state is lost, list (then --delete) what carries the suffix with:\n"
                f"  python -m harness.sweep --suffix {self.opts.suffix} "
                + (f"--endpoint {record.endpoint}" if record.is_sandbox
                   else "--target aws --stack-config=FILE"))

    def keep_message(self, record: Deployment) -> str:
        extra = ""
        if record.is_sandbox:
            extra = (f"\nThe sandbox {record.endpoint} (moto pid {record.moto_pid}) "
                     "keeps running so the deployment stays; it stops after --destroy-stack.")
        return (f"--keep-stack: suffix {self.opts.suffix} is left as it is (status "
                f"{record.status}, {len(record.resources)} resources, "
                f"{self.workdir.path}).\n"
                f"Test it again:  pytest -m integration --reuse-stack {self.opts.suffix} "
                f"--stack-workdir {self.workdir.root}\n"
                f"Destroy it:     pytest --destroy-stack {self.opts.suffix} "
                f"--stack-workdir {self.workdir.root}" + extra)
