"""The deploy-prove-destroy pytest plugin for the platform stack (reference: docs/harness.md).

One module per job:

  plugin       the pytest plugin: hooks and fixtures, deploy -> yield -> destroy in one place
  plugin_options  its options, validated into one Options before anything is created
  summary      its "platform stack" section at the end of a session
  hooks        what the harness offers other plugins and conftests: hookspecs, report property
  options      the plugin's options after validation (shared with xdist workers)
  path_checks  what is wrong with a folder option, without creating anything
  run_config   the StackConfig a run deploys, built once; completed with the sandbox's parts
  run_tags     --stack-ttl and the run's ExpiresAt tag
  run_facts    where a run came from (expiry, git commit, CI run), written beside its record
  remote_state --stack-state s3://bucket/prefix: the S3 backend, the record beside the state,
               --list-stacks
  deployment   the steps of one deployment: preflight, deploy, load, destroy (no pytest)
  preflight    before a deploy into a given sandbox: it answers, its managed policies are loaded
  upgrade      --stack-upgrade-from: the base deployed from its own synth, this commit planned
  upgrade_plan the judgement of that plan: no replace or delete of what holds data
  deployed     DeployedStack, what the tests get: outputs (stack.outputs.StackOutputs), clients
  record       the deployment record on disk: Target, Status, Deployment, validated reads
  errors       the exceptions the harness raises
  workdir      what is kept on disk per suffix (record, events, timings, logs, state, outputs)
  terraform    the terraform CLI runner: one log per call, timings, retried destroy
  sandbox      the moto server on loopback, started and stopped by pid
  mirror       the offline provider mirror and the CLI config that uses it
  certs        the sandbox ALB's self-signed certificate, imported into ACM
  aws_clients  boto3 clients bound to a target (sandbox endpoint or AWS)
  progress     progress lines and step timings
  suffix_match whether a name, tag value or ARN carries a suffix as a whole token
  sweep/       the one inventory of what a run can leave (one module per service group: its
               finder and its deleters), the post-destroy leftover check as a filter over it,
               ``python -m harness.sweep`` to list or delete what a crashed run left, and
               ``--expired`` for every stack past its ExpiresAt
"""
