"""Release evidence for assessors: PCI DSS control map, policy gate, per-run bundle.

Loaded as a pytest plugin (``evidence.plugin``) from the top-level conftest.
"""
