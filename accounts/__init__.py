"""Accounts: users, their organizations and roles, API tokens and console passwords."""
