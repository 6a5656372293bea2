"""identity: people, tenants, memberships and roles, credentials, tokens and signing keys."""
