"""Accounts, organisations, roles and invitations."""
