"""Secrets Manager rotation function for the Aurora MySQL credentials (single user).

Entry point: ``rotation.handler.lambda_handler``. The environment variables it reads are
documented in :mod:`rotation.settings`.
"""
