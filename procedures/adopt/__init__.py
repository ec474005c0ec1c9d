"""Adopting a stack the suite did not create: discovery (roles, risks, a proposed ops config)."""
