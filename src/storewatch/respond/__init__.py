"""Responding to incidents: playbooks (YAML) say which actions an incident calls for, adapters carry them
out against the real products, and every action is planned first, approved, idempotent, expiring,
reversible and written to the audit log.

Layout: `playbook` (format, loading, matching), `targets` (which entities an action acts on), `config`
(credentials from the environment or the workspace), `http` (bounded retries), `state` (the
`response_actions` table), `engine` (plan / execute / rollback / expire), `edl` (the block lists firewalls
pull), `adapters/` (one module per product).
"""
