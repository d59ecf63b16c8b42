"""The deploy-prove-destroy pytest plugin for the platform stack (see README, "Test harness plugin").

One module per job: ``plugin`` (options, hooks, fixtures: deploy -> yield -> destroy),
``deployment`` (the steps of one deployment), ``terraform`` (the CLI runner), ``sandbox``
(moto server), ``mirror`` (offline provider mirror), ``certs`` (ALB certificate),
``workdir`` (what is kept on disk per suffix), ``aws_clients`` and ``progress``.
"""
