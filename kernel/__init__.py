"""The small kernel every package stands on: the table base and transaction hooks.

The error base (:class:`policies.errors.DomainError`) and the acting user
(:class:`policies.roles.Actor`) are the rest of it; they live in ``policies`` beside the roles and
the permission table they go with."""
